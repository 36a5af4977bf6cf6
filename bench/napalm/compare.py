#!/usr/bin/env python3
"""CPU per getter: NAPALM 5.2's junos driver against nbfacts, on the same recorded replies.

NAPALM is fed the replies the way its own test double does (`test/junos/conftest.py`,
FakeJunOSDevice): `device.rpc.<method>(**kw)` reads `<method with _ -> ->` + `<instance>` +
`.xml` and returns it parsed by lxml. nbfacts runs as a process
(`nbfacts collect --replay DIR --format napalm`), so its figure includes process start,
plugin load from the cache and JSON printing; NAPALM's includes only the getter call.
The outputs are compared too (after a JSON round trip, NAPALM's own rule), so the
comparison is between equal work.

    python3 bench/napalm/compare.py --replies DIR --nbfacts target/release/nbfacts [--reps 5]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from lxml import etree
from napalm.junos.junos import JunOSDriver

GETTERS = {
    # getter: nbfacts collector
    "get_mac_address_table": "ethernet_switching",
    "get_lldp_neighbors_detail": "lldp",
    "get_arp_table": "arp",
    "get_ipv6_neighbors_table": "ndp",
    "get_interfaces": "interfaces",
    "get_bgp_neighbors_detail": "bgp",
}


class FakeRPC:
    """`device.rpc`: every attribute is an RPC answered from a file."""

    def __init__(self, directory):
        self._dir = directory

    def __getattr__(self, item):
        def call(*args, **kwargs):
            instance = kwargs.pop("instance", "") or ""
            name = item.replace("_", "-") + instance + ".xml"
            path = self._dir / name
            if not path.exists():
                from jnpr.junos.exception import RpcError
                raise RpcError(rsp=etree.fromstring(
                    "<rpc-error><error-severity>error</error-severity>"
                    "<error-message>syntax error</error-message></rpc-error>"))
            return etree.fromstring(path.read_bytes())
        return call

    def get_config(self, filter_xml=None, options=None, **kwargs):
        raise NotImplementedError


class FakeJunOSDevice:
    def __init__(self, directory, switch_style):
        self.rpc = FakeRPC(directory)
        self.facts = {
            "domain": None, "hostname": "bench", "ifd_style": "CLASSIC", "2RE": False,
            "serialnumber": "bench", "fqdn": "bench", "virtual": True,
            "switch_style": switch_style, "version": "21.4R3", "model": "QFX5120",
            "personality": "SWITCH", "srx_cluster": False, "vc_capable": False,
        }
        self.uptime = 4380
        self.ON_JUNOS = True
        self.hostname = "bench"
        self.timeout = 60
        self._conn = None
        self._use_filter = False
        self.transform = None

    def open(self, *a, **k):
        pass

    def close(self):
        pass


def napalm_driver(directory, switch_style):
    driver = JunOSDriver("bench", "user", "pass")
    driver.device = FakeJunOSDevice(directory, switch_style)
    return driver


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replies", required=True, type=Path)
    ap.add_argument("--nbfacts", required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--switch-style", default="VLAN_L2NG")
    ap.add_argument("--getters", default=",".join(GETTERS))
    args = ap.parse_args()

    driver = napalm_driver(args.replies, args.switch_style)
    env = dict(os.environ)
    rows = []
    failed = False
    for getter in args.getters.split(","):
        collector = GETTERS[getter]
        napalm_cpu, nbfacts_cpu = [], []
        napalm_out = nbfacts_out = None
        for _ in range(args.reps):
            t = time.process_time()
            napalm_out = getattr(driver, getter)()
            napalm_cpu.append(time.process_time() - t)

            c = cpu_children()
            proc = subprocess.run(
                [args.nbfacts, "collect", "--replay", str(args.replies), "--driver", "junos",
                 "--collector", collector, "--format", "napalm"],
                capture_output=True, env=env, check=False)
            nbfacts_cpu.append(cpu_children() - c)
            if proc.returncode != 0:
                print(proc.stderr.decode(), file=sys.stderr)
                sys.exit(f"nbfacts failed for {collector}")
            nbfacts_out = json.loads(proc.stdout)[getter]
        same = json.loads(json.dumps(napalm_out)) == nbfacts_out
        failed |= not same
        n, m = statistics.median(napalm_cpu), statistics.median(nbfacts_cpu)
        rows.append((getter, n * 1e3, m * 1e3, n / m if m else float("inf"), same))

    print(f"{'getter':28} {'NAPALM ms':>10} {'nbfacts ms':>11} {'ratio':>7}  same output")
    for g, n, m, r, same in rows:
        print(f"{g:28} {n:10.1f} {m:11.1f} {r:6.1f}x  {'yes' if same else 'NO'}")
    if failed:
        sys.exit("outputs differ")


if __name__ == "__main__":
    main()
