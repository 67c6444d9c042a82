"""``python -m agent.lab``: serve the demo devices in the foreground (debugging aid)."""

from __future__ import annotations

import argparse
import time

from .devices import DEMO_DEVICES
from .simulator import SnmpLab


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent.lab", description=__doc__)
    parser.add_argument("--port", type=int, default=None, help="UDP port (default: a free one)")
    parser.add_argument("--verbose", action="store_true", help="log every request to the snmpsim log")
    args = parser.parse_args(argv)

    with SnmpLab(DEMO_DEVICES, port=args.port, log_level="info" if args.verbose else "error") as lab:
        print(f"snmpsim listening on udp {lab.host}:{lab.port} (log: {lab.log_path})")
        print(f"v3 user {lab.v3_user!r}: authPriv SHA {lab.v3_auth_key!r} / AES-128 {lab.v3_priv_key!r}")
        for dev in lab.devices:
            print(f"  {dev.name:<12} community/context {lab.community(dev.name)!r}"
                  f"  e.g. snmpwalk -v2c -c {lab.community(dev.name)} {lab.host}:{lab.port} 1.3.6.1.2.1.31")
        print("Ctrl-C to stop", flush=True)
        try:
            while lab.running:
                time.sleep(1)
        except KeyboardInterrupt:
            return 0
        print(f"snmpsim exited unexpectedly, see {lab.log_path}")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
