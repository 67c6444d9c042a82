#!/usr/bin/env python3
"""A stand-in for the pager and the ticket queue: prints Alertmanager's webhook notifications.

    python3 scripts/alert_sink.py --listen 127.0.0.1:5001

Alertmanager (docker/alertmanager/alertmanager.yml) posts pages to /oncall
and tickets to /tickets; each notification becomes one line per alert:
receiver, status, severity, alert name, KPI and summary. Standard library
only, so it runs in any Python 3 image.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20  # Alertmanager batches are small; refuse anything absurd.


def describe(path: str, payload: dict) -> list[str]:
    """One line per alert of a webhook payload (Alertmanager webhook format, version 4)."""
    lines = []
    for alert in payload.get("alerts", []):
        labels, annotations = alert.get("labels", {}), alert.get("annotations", {})
        lines.append(
            f"{path.strip('/') or '-'} {alert.get('status', '?')} {labels.get('severity', '-')} "
            f"{labels.get('alertname', '-')} kpi={labels.get('kpi', '-')} {annotations.get('summary', '')}"
        )
    return lines


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            self.send_error(400, "expected a JSON body")
            return
        try:
            payload = json.loads(self.rfile.read(length))
        except ValueError:
            self.send_error(400, "not JSON")
            return
        for line in describe(self.path, payload):
            print(line, flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass  # one line per alert is printed above; no access log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:5001", help="HOST:PORT (default %(default)s)")
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    server = ThreadingHTTPServer((host, int(port)), Handler)
    print(f"alert sink listening on http://{args.listen}/ (oncall, tickets)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
