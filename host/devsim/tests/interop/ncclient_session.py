#!/usr/bin/env python3
"""ncclient against a NETCONF server: hello, two RPCs, close. Prints one JSON object.

    ncclient_session.py HOST PORT USER KNOWN_HOSTS

The password is read from the environment variable NBFACTS_INTEROP_PASSWORD. The host key is
verified (ncclient's `hostkey_verify=True`) against KNOWN_HOSTS, handed to ncclient through an
ssh_config file's `UserKnownHostsFile`, the way a user points ncclient at a known-hosts file.

Output: {"session_id", "capabilities", "software": {"host-name", "junos-version"},
"unknown_rpc": {"message", "severity", "bad_element"}} or {"error": TYPE, "message": TEXT} when
the connection fails (e.g. an unknown host key).
"""
import json
import os
import sys
import tempfile

from lxml import etree
from ncclient import manager
from ncclient.operations.rpc import RPCError


def main():
    host, port, user, known_hosts = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    password = os.environ["NBFACTS_INTEROP_PASSWORD"]
    with tempfile.NamedTemporaryFile("w", suffix=".ssh_config", delete=False) as cfg:
        cfg.write(f"Host *\n    UserKnownHostsFile {known_hosts}\n")
    try:
        m = manager.connect(
            host=host, port=port, username=user, password=password,
            hostkey_verify=True, ssh_config=cfg.name,
            allow_agent=False, look_for_keys=False, timeout=20,
        )
    except Exception as e:  # noqa: BLE001 - reported to the test as data
        print(json.dumps({"error": type(e).__name__, "message": str(e)}))
        return
    finally:
        os.unlink(cfg.name)
    out = {"session_id": m.session_id, "capabilities": sorted(m.server_capabilities)}
    reply = m.dispatch(etree.Element("get-software-information"))
    root = etree.fromstring(reply.xml.encode())
    find = lambda tag: root.findtext(f".//{{*}}{tag}")  # noqa: E731
    out["software"] = {"host-name": find("host-name"), "junos-version": find("junos-version")}
    try:
        m.dispatch(etree.Element("get-nothing-at-all"))
        out["unknown_rpc"] = None
    except RPCError as e:
        out["unknown_rpc"] = {"message": e.message, "severity": e.severity,
                              "info": e.info}
    m.close_session()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
