"""What the generators make of security scans: the scan alerts, the coverage alert, no SLO rules, sla-scans.json."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from agent.config import parse_config
from agent.generators import dashboards, rules
from agent.metrics import METRICS
from collectors.scans.queries import SLIS


def make_config(stale: bool = True) -> Any:
    portal: dict[str, Any] = {"name": "portal", "directory": "/srv/zap/portal"}
    if stale:
        portal["stale_after"] = "8d"
    return parse_config({"security_scans": [portal, {"name": "service", "directory": "/srv/zap/service"}],
                         "kpis": [{"id": "web_security_findings"}]}, "test.yaml")


def alert_rules(config: Any) -> dict[str, dict[str, Any]]:
    text = rules.generate(config, "test.yaml")[rules.ALERTS_FILE]
    return {rule["alert"]: rule for group in yaml.safe_load(text)["groups"] for rule in group["rules"]}


def test_the_scan_alerts_and_the_coverage_alert_but_no_burn_rate():
    found = alert_rules(make_config())
    findings = found["SlaSecurityFindings"]
    assert findings["expr"] == 'sum by (instance, job, scan) (sla_scan_findings{job="sla-agent",risk=~"high|medium"}) > 0'
    assert findings["labels"] == {"severity": "ticket", "kpi": "all"} and findings["for"] == "5m"
    assert findings["annotations"]["runbook_url"] == "docs/runbooks.md#slasecurityfindings"
    stale = found["SlaSecurityScanStale"]
    assert stale["expr"] == ('(time() - sla_scan_report_timestamp_seconds{job="sla-agent"})\n'
                             'and on (instance, job, scan)\nsla_scan_report_stale{job="sla-agent"} == 1\n')
    for rule in (findings, stale):
        summary, description = rule["annotations"]["summary"], rule["annotations"]["description"]
        assert " / " in summary and " / " in description  # Chinese, then English
        assert "{{ $labels.scan }}" in description
    assert "SlaErrorBudgetBurn" not in found  # a count of findings has no error budget
    coverage = found["SlaKpiInsufficientData"]
    assert 'kpi="web_security_findings"' in coverage["expr"]
    assert "有已知结果的扫描所占比例" in coverage["annotations"]["description"]
    assert SLIS == {}


def test_no_stale_alert_without_stale_after():
    assert "SlaSecurityScanStale" not in alert_rules(make_config(stale=False))


def test_the_recording_rules_have_nothing_of_the_scans():
    text = rules.generate(make_config(), "test.yaml")[rules.RECORDING_FILE]
    assert "web_security_findings" not in text and "sla_scan" not in text


def test_the_scans_dashboard_uses_declared_metrics_only():
    files = dashboards.generate(make_config())
    board = json.loads(files["sla-scans.json"])
    assert board["uid"] == "sla-scans"
    exprs = [t["expr"] for panel in board["panels"] for t in panel.get("targets", ())]
    assert any('sla_kpi_value{job="sla-agent",kpi=~"web_security_findings"}' in e for e in exprs)
    used = {name for e in exprs for name in re.findall(r"\b(sla_[a-z_]+)\b", e)}
    assert used <= set(METRICS), used - set(METRICS)
    probes_only = parse_config({"probes": [{"name": "code", "url": "https://127.0.0.1:1/code"}]}, "probes.yaml")
    assert "sla-scans.json" not in dashboards.generate(probes_only)
