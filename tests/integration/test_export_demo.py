"""Acceptance: after the demo has run, `sla-agent export` writes all four formats from its ledger."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from importlib import resources
from zoneinfo import ZoneInfo

import openpyxl
import yaml

from agent.cli import main
from agent.export.periods import last_complete_month
from agent.periods import month_containing

SH = ZoneInfo("Asia/Shanghai")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _placeholders(node, data_dir, key=""):
    """The demo YAML with its run-time blanks filled: export reads only the ledger, never a source."""
    if isinstance(node, dict):
        return {k: _placeholders(v, data_dir, str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_placeholders(v, data_dir, key) for v in node]
    if isinstance(node, str) and re.fullmatch(r"\$\{\w+\}", node):
        return "placeholder-secret"  # ${VAR}: the labs put generated secrets in the environment
    if isinstance(node, str) and re.fullmatch(r"[A-Z][A-Z0-9_]+", node):  # LAB_PORT, AUTH_URL, ...: filled by the demo
        if key == "data_dir":
            return str(data_dir)
        if key == "listen":
            return "127.0.0.1:9"
        if key == "port":
            return 161
        if key.endswith("url"):
            return "http://127.0.0.1:9/"
    return node


def demo_config_file(tmp_path, data_dir):
    """The bundled demo config as a file, as the demo ran it save for addresses and secrets."""
    data = yaml.safe_load(resources.files("agent.lab").joinpath("demo.yaml").read_text(encoding="utf-8"))
    path = tmp_path / "demo-export.yaml"
    path.write_text(yaml.safe_dump(_placeholders(data, data_dir), allow_unicode=True), encoding="utf-8")
    return path


def run_demo(tmp_path, seconds: float) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "demo", "--listen", f"127.0.0.1:{free_port()}",
         "--data-dir", str(tmp_path / "data"), "--duration", str(seconds)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        _, err = proc.communicate(timeout=seconds + 45)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    assert proc.returncode == 0, err


def test_export_after_the_demo(tmp_path, capsys):
    run_demo(tmp_path, 12)
    config = demo_config_file(tmp_path, tmp_path / "data")
    now = time.time()
    current = month_containing(now, SH).label
    out = tmp_path / "current"
    out.mkdir()
    assert main(["export", "-c", str(config), "--month", current, "-o", str(out)]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == [f"sla-report-{current}.{ext}" for ext in ("csv", "html", "json", "xlsx")]
    ws = openpyxl.load_workbook(out / f"sla-report-{current}.xlsx").active
    assert ws["A1"].value.startswith("深圳市大数据资源管理中心")
    doc = json.loads((out / f"sla-report-{current}.json").read_text(encoding="utf-8"))
    rows = {r["id"]: r for r in doc["rows"]}
    # Twelve seconds of a month: measured, but far too little of the month to be final.
    assert rows["egress_bandwidth"]["value"] == 3.75e9  # three 10G links up
    assert rows["egress_bandwidth"]["status"] == "insufficient"
    assert rows["cloud_vcpu_capacity"]["value"] == 17344
    assert rows["egress_link_availability"]["value"] == 1.0
    assert all(r["source"] != "unconfigured" for r in doc["rows"])

    # The default: the last complete month, which the demo did not see at all.
    previous = tmp_path / "previous"
    previous.mkdir()
    assert main(["export", "-c", str(config), "-o", str(previous)]) == 0
    label = last_complete_month(time.time(), SH).label
    assert len(list(previous.glob(f"sla-report-{label}.*"))) == 4
    doc = json.loads((previous / f"sla-report-{label}.json").read_text(encoding="utf-8"))
    assert {r["status"] for r in doc["rows"] if r["source"] == "measured"} == {"insufficient"}
    assert "Traceback" not in capsys.readouterr().err
