"""``python -m agent.lab``: serve the demo devices, cloud, SMS gateway and app in the foreground.

With the default ports this is what ``examples/demo.yaml`` points at, so the
agent can be run by hand against it (``sla-agent run -c examples/demo.yaml``).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from .apps import AppLab
from .cloud import CloudLab
from .devices import DEMO_DEVICES
from .scans import ScanLab
from .power import DEMO_UNITS, PowerLab
from .sms import DEMO_CANARY, SmsLab


async def _serve(args: argparse.Namespace) -> int:
    with PowerLab(DEMO_UNITS, devices=DEMO_DEVICES, port=args.port, log_level="info" if args.verbose else "error") as lab:
        async with (CloudLab(identity_port=args.cloud_port) as cloud, SmsLab(port=args.sms_port, **DEMO_CANARY) as sms,
                    AppLab(tls="valid", port=args.app_port, days_left=30, cert_dir=Path(args.cert_dir)) as app):
            print(f"snmpsim listening on udp {lab.host}:{lab.port} (log: {lab.log_path})")
            print(f"v3 user {lab.v3_user!r}: authPriv SHA {lab.v3_auth_key!r} / AES-128 {lab.v3_priv_key!r}")
            for dev in lab.devices:
                print(f"  {dev.name:<12} community/context {lab.community(dev.name)!r}"
                      f"  e.g. snmpwalk -v2c -c {lab.community(dev.name)} {lab.host}:{lab.port} 1.3.6.1.2.1.31")
            print(f"simulated cloud: Keystone {cloud.auth_url} user {cloud.username!r} password {cloud.password!r}")
            print(f"simulated SMS gateway: {sms.url}/v1/delivery-records api key {sms.api_key!r}, "
                  f"submit API {sms.url}/v1/messages (canary probe number {sms.probe_number!r})")
            print(f"simulated app: {app.url}/code/display and {app.url}/epidemic/<system>/health, "
                  f"faults at {app.url}/_lab/faults, CA {app.ca_file}")
            scans = ScanLab(Path(args.cert_dir) / "scans" / "portal")
            if not any(scans.directory.glob("*.json")):
                scans.history(3)
            scans.start()
            print(f"simulated ZAP scanner: reports in {scans.directory}")
            print("Ctrl-C to stop", flush=True)
            while lab.running:
                await asyncio.sleep(1)
            print(f"snmpsim exited unexpectedly, see {lab.log_path}")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent.lab", description=__doc__)
    parser.add_argument("--port", type=int, default=16100, help="SNMP UDP port (default %(default)s)")
    parser.add_argument("--cloud-port", type=int, default=15000, help="Keystone TCP port (default %(default)s)")
    parser.add_argument("--sms-port", type=int, default=15080, help="SMS gateway TCP port (default %(default)s)")
    parser.add_argument("--app-port", type=int, default=15443, help="app (HTTPS) TCP port (default %(default)s)")
    parser.add_argument("--cert-dir", default="sla-demo-lab",
                        help="where the app's lab CA and certificate, and the scan reports, are written "
                             "(default %(default)s)")
    parser.add_argument("--verbose", action="store_true", help="log every request to the snmpsim log")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
