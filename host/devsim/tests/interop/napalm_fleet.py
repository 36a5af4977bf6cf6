#!/usr/bin/env python3
"""NAPALM 5.2's junos driver against a fleet, with a thread pool: the baseline of the fleet
benchmark (host/devsim/benches/fleet.rs). Prints one JSON object.

    napalm_fleet.py --host 127.0.0.1 --ports 2001,2002,... --user nbfacts --workers 20 GETTER...

The password is read from NBFACTS_INTEROP_PASSWORD. Each device gets one NAPALM connection
(open, every getter, close), as a NetBox sync with NAPALM does; the pool runs `--workers` of
them at a time. Host keys are not verified (NAPALM's junos driver cannot, see
napalm_getters.py).

Output: {"devices", "workers", "wall_s", "failed_devices", "getter_errors": {getter: count},
"first_errors": [...]}.
"""
import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from napalm import get_network_driver


def one(host, port, user, password, getters, ssh_config):
    driver = get_network_driver("junos")
    device = driver(host, user, password, timeout=120,
                    optional_args={"port": port, "ssh_config_file": ssh_config})
    errors = {}
    device.open()
    try:
        for getter in getters:
            try:
                getattr(device, getter)()
            except Exception as e:  # noqa: BLE001 - counted and reported
                errors[getter] = f"{type(e).__name__}: {e}"
    finally:
        device.close()
    return errors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--ports", required=True)
    p.add_argument("--user", default="nbfacts")
    p.add_argument("--workers", type=int, default=20)
    p.add_argument("getters", nargs="+")
    a = p.parse_args()
    password = os.environ["NBFACTS_INTEROP_PASSWORD"]
    ports = [int(x) for x in a.ports.split(",") if x]
    with tempfile.NamedTemporaryFile("w", suffix=".ssh_config", delete=False) as cfg:
        pass
    failed, getter_errors, first = 0, {}, []
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=a.workers) as pool:
            futures = [pool.submit(one, a.host, port, a.user, password, a.getters, cfg.name)
                       for port in ports]
            for f in futures:
                try:
                    for getter, message in f.result().items():
                        getter_errors[getter] = getter_errors.get(getter, 0) + 1
                        if len(first) < 5:
                            first.append(f"{getter}: {message}")
                except Exception as e:  # noqa: BLE001 - a device that failed entirely
                    failed += 1
                    if len(first) < 5:
                        first.append(f"device: {type(e).__name__}: {e}")
    finally:
        os.unlink(cfg.name)
    wall = time.monotonic() - started
    print(json.dumps({"devices": len(ports), "workers": a.workers, "wall_s": wall,
                      "failed_devices": failed, "getter_errors": getter_errors,
                      "first_errors": first}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
