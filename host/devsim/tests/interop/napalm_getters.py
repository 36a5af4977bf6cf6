#!/usr/bin/env python3
"""NAPALM 5.2's junos driver against one device. Prints {getter: result} as JSON.

    napalm_getters.py HOST PORT USER GETTER...

The password is read from NBFACTS_INTEROP_PASSWORD. A getter that raises is reported as
{"error": "..."}; the results are JSON round-tripped, as NAPALM's own test harness does.

Host keys: NAPALM's junos driver connects through PyEZ, which calls ncclient with
`hostkey_verify=False` and offers no option to turn verification on, so this client does not
check the device's key (nbfacts does). `ssh_config_file` points at an empty file so that the
user's ~/.ssh/config cannot change the connection.
"""
import json
import os
import sys
import tempfile

from napalm import get_network_driver


def main():
    host, port, user = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    getters = sys.argv[4:]
    password = os.environ["NBFACTS_INTEROP_PASSWORD"]
    with tempfile.NamedTemporaryFile("w", suffix=".ssh_config", delete=False) as cfg:
        pass
    try:
        driver = get_network_driver("junos")
        device = driver(host, user, password, timeout=60,
                        optional_args={"port": port, "ssh_config_file": cfg.name})
        device.open()
        out = {}
        for getter in getters:
            try:
                out[getter] = getattr(device, getter)()
            except Exception as e:  # noqa: BLE001 - reported to the test as data
                out[getter] = {"error": f"{type(e).__name__}: {e}"}
        device.close()
    finally:
        os.unlink(cfg.name)
    print(json.dumps(json.loads(json.dumps(out))))


if __name__ == "__main__":
    main()
