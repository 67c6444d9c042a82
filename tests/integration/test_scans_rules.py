"""The scan alerts as generated for a config pass promtool, and fire (and stay quiet) as they should."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.config import parse_config
from agent.generators import rules

PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian's prometheus) is not installed")
SCAN = 'job="sla-agent",instance="agent:9877",scan="portal"'


def generated(tmp_path: Path) -> dict[str, dict[str, Any]]:
    config = parse_config({"security_scans": [{"name": "portal", "directory": "/srv/zap/portal", "stale_after": "8d"}],
                           "kpis": [{"id": "web_security_findings"}]}, "test.yaml")
    text = rules.generate(config, "test.yaml")[rules.ALERTS_FILE]
    (tmp_path / "alerts.yml").write_text(text, encoding="utf-8")
    return {rule["alert"]: rule for group in yaml.safe_load(text)["groups"] for rule in group["rules"]}


def rendered(rule: dict[str, Any], value: str) -> dict[str, str]:
    """The rule's annotations as Prometheus renders them for scan portal and ``value``."""
    out = {}
    for key, text in rule["annotations"].items():
        text = text.replace("{{ $labels.scan }}", "portal")
        for template in ('{{ $value | printf "%.0f" }}', "{{ $value | humanizeDuration }}"):
            text = text.replace(template, value)
        out[key] = text
    return out


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_promtool_checks_and_runs_the_scan_alerts(tmp_path: Path) -> None:
    assert PROMTOOL is not None
    found = generated(tmp_path)
    checked = run(PROMTOOL, "check", "rules", "alerts.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    labels = {"job": "sla-agent", "instance": "agent:9877", "scan": "portal", "severity": "ticket", "kpi": "all"}
    cases = {"rule_files": ["alerts.yml"], "evaluation_interval": "1m", "tests": [
        {"name": "one medium finding from minute 10 fires after 5m; informational and low ones never",
         "interval": "1m",
         "input_series": [
             {"series": f'sla_scan_findings{{{SCAN},risk="medium"}}', "values": "0x9 1x30"},
             {"series": f'sla_scan_findings{{{SCAN},risk="high"}}', "values": "0x40"},
             {"series": f'sla_scan_findings{{{SCAN},risk="low"}}', "values": "7x40"},
             {"series": f'sla_scan_findings{{{SCAN},risk="informational"}}', "values": "3x40"}],
         "alert_rule_test": [
             {"eval_time": "9m", "alertname": "SlaSecurityFindings"},
             {"eval_time": "14m", "alertname": "SlaSecurityFindings"},
             {"eval_time": "15m", "alertname": "SlaSecurityFindings", "exp_alerts": [
                 {"exp_labels": labels, "exp_annotations": rendered(found["SlaSecurityFindings"], "1")}]}]},
        {"name": "a report flagged stale from minute 10 fires after 30m, with its age",
         "interval": "1m",
         "input_series": [
             {"series": f"sla_scan_report_timestamp_seconds{{{SCAN}}}", "values": "600x60"},
             {"series": f"sla_scan_report_stale{{{SCAN}}}", "values": "0x9 1x50"}],
         "alert_rule_test": [
             {"eval_time": "39m", "alertname": "SlaSecurityScanStale"},
             {"eval_time": "45m", "alertname": "SlaSecurityScanStale", "exp_alerts": [
                 {"exp_labels": labels,
                  "exp_annotations": rendered(found["SlaSecurityScanStale"], "35m 0s")}]}]},
    ]}
    (tmp_path / "scans.test.yml").write_text(yaml.safe_dump(cases, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tested = run(PROMTOOL, "test", "rules", "scans.test.yml", cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
