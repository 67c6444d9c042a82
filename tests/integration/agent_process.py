"""`sla-agent run` as a real process, polling a private snmpd: for tests of how the process lives and dies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from agent.ledger import Ledger
from agent.sli import Segment
from tests.integration.snmpd_fixture import Snmpd
from tests.processes import scrape, wait_for

LINK = "lo-link"
SERIES = (f"link:{LINK}:up", f"link:{LINK}:available_bytes_per_second")


def write_config(path: Path, snmpd: Snmpd, data_dir: Path, port: int, interval: str = "5s") -> Path:
    """A config polling snmpd's loopback interface as one link of one group, every ``interval``."""
    data: dict[str, Any] = {
        "agent": {"listen": f"127.0.0.1:{port}", "data_dir": str(data_dir), "kpi_interval": "1s"},
        "snmp": {
            "defaults": {"port": snmpd.port, "timeout": "0.5s", "retries": 1, "interval": interval},
            "devices": [{"name": "srv", "address": snmpd.host, "community": snmpd.community}],
        },
        "link_groups": [{"name": "wan", "links": [{"name": LINK, "device": "srv", "if_name": "lo"}]}],
        "kpis": [{"id": "egress_link_availability", "link_group": "wan"}],
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def run_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "agent.cli", "run", "-c", str(config)]


def start(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"} if env is None else env)


def polls(base: str) -> float:
    """Polls of device srv so far, as /metrics says (0 while nothing answers)."""
    text = scrape(base + "/metrics") or ""
    return next((s.value for f in text_string_to_metric_families(text) if f.name == "sla_target_polls"
                 for s in f.samples if s.name == "sla_target_polls_total" and s.labels["target"] == "srv"), 0.0)


def wait_polls(proc: subprocess.Popen[str], base: str, count: int, timeout: float) -> None:
    """Until srv has been polled ``count`` times; fails if the process ends first."""
    def enough() -> bool:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else proc.returncode
        return polls(base) >= count

    assert wait_for(enough, timeout, step=0.2), f"fewer than {count} polls within {timeout} s"


def read_segments(data_dir: Path, start: float, end: float) -> dict[str, list[Segment]]:
    ledger = Ledger(data_dir / "ledger.sqlite")
    try:
        return ledger.segments(list(SERIES), start, end)
    finally:
        ledger.close()


def known_seconds(segments: list[Segment], start: float, end: float) -> float:
    """Seconds of ``[start, end)`` that ``segments`` give a value (up, down or a rate: not unknown)."""
    return sum(max(0.0, min(e, end) - max(s, start)) for s, e, v in segments if v is not None)
