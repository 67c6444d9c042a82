"""Acceptance: after the demo has run, `sla-agent export` writes all four formats from its ledger."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl

import agent
from agent.periods import last_complete_month, month_containing
from tests.processes import demo_command, demo_maintenance, free_port, stop

SH = ZoneInfo("Asia/Shanghai")
REPO = Path(agent.__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "examples" / "demo.yaml"


def user_env() -> dict[str, str]:
    """A shell with none of the demo's secrets (SLA_DEMO_*), running this checkout's code."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLA_")}
    return {**env, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)}


def run_demo(cwd, seconds: float) -> None:
    """`sla-agent demo` with its default data directory: ./sla-demo-data in ``cwd``."""
    proc = subprocess.Popen(
        demo_command(free_port(), seconds),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=user_env(),
    )
    try:
        _, err = proc.communicate(timeout=seconds + 45)
    except subprocess.TimeoutExpired:
        stop(proc)
        raise
    assert proc.returncode == 0, err


def sla_agent(cwd, *argv: str) -> subprocess.CompletedProcess[str]:
    """`sla-agent ARGV` as a user types it in ``cwd``, without any secret in the environment."""
    return subprocess.run([sys.executable, "-m", "agent.cli", *argv], capture_output=True, text=True, cwd=cwd,
                          env=user_env(), timeout=120, check=False)


def test_export_after_the_demo(tmp_path):
    """The README's path: `sla-agent demo`, then `sla-agent export -c examples/demo.yaml` in the same directory.

    No SLA_DEMO_* variable is set: the export reads only the ledger the demo left in
    ./sla-demo-data (examples/demo.yaml's data_dir, relative to the current directory).
    """
    began = time.time()
    run_demo(tmp_path, 12)
    assert (tmp_path / "sla-demo-data" / "ledger.sqlite").is_file()
    now = time.time()
    current = month_containing(now, SH).label
    out = tmp_path / "current"
    out.mkdir()
    proc = sla_agent(tmp_path, "export", "-c", str(DEMO_CONFIG), "--month", current, "-o", "current")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    files = sorted(p.name for p in out.iterdir())
    assert files == [f"sla-report-{current}.{ext}" for ext in ("csv", "html", "json", "xlsx")]
    assert proc.stdout.splitlines() == [f"current/sla-report-{current}.{e}" for e in ("xlsx", "csv", "json", "html")]
    ws = openpyxl.load_workbook(out / f"sla-report-{current}.xlsx").active
    assert ws["A1"].value.startswith("深圳市大数据资源管理中心")
    doc = json.loads((out / f"sla-report-{current}.json").read_text(encoding="utf-8"))
    rows = {r["id"]: r for r in doc["rows"]}
    # Twelve seconds of a month: measured, but far too little of the month to be final.
    assert rows["egress_bandwidth"]["status"] == "insufficient"
    assert rows["cloud_vcpu_capacity"]["value"] == 17344
    if demo_maintenance(began, now) == 0:
        assert rows["egress_bandwidth"]["value"] == 3.75e9  # three 10G links up
        assert rows["egress_link_availability"]["value"] == 1.0
    else:  # the run fell in the monthly window (first Sunday, 02:00-04:00): excluded, wholly or in part
        assert rows["egress_link_availability"]["maintenance_seconds"] > 0
        assert rows["egress_link_availability"]["value"] in (None, 1.0)
    assert rows["sms_delivery_rate"]["source"] == "measured"
    assert all(r["source"] != "unconfigured" for r in doc["rows"])

    # The default: the last complete month, which the demo did not see at all; written in the cwd.
    proc = sla_agent(tmp_path, "export", "-c", str(DEMO_CONFIG))
    assert proc.returncode == 0, proc.stderr
    label = last_complete_month(time.time(), SH).label
    assert len(list(tmp_path.glob(f"sla-report-{label}.*"))) == 4
    doc = json.loads((tmp_path / f"sla-report-{label}.json").read_text(encoding="utf-8"))
    assert {r["status"] for r in doc["rows"] if r["source"] == "measured"} == {"insufficient"}

    # From another directory the relative data_dir finds nothing; --data-dir points at the ledger.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = sla_agent(elsewhere, "export", "-c", str(DEMO_CONFIG), "--month", current, "--format", "json")
    assert proc.returncode == 2 and proc.stderr.startswith("sla-agent: no ledger at sla-demo-data/ledger.sqlite")
    proc = sla_agent(elsewhere, "export", "-c", str(DEMO_CONFIG), "--month", current, "--format", "json",
                     "--data-dir", str(tmp_path / "sla-demo-data"))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((elsewhere / f"sla-report-{current}.json").read_text(encoding="utf-8"))
    assert {r["id"]: r["value"] for r in doc["rows"]}["cloud_vcpu_capacity"] == 17344
    assert "Traceback" not in proc.stderr
