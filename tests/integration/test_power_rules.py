"""SlaPowerFault as generated for a power config passes promtool, and fires only after a minute of fault."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from agent.config import parse_config
from agent.generators import rules
from collectors.power.alerts import DESCRIPTION, FOR, SUMMARY

PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian's prometheus) is not installed")

CONFIG = {
    "snmp": {"defaults": {"community": "public"}, "devices": [{"name": "ups-a", "address": "127.0.0.1"}]},
    "power": [{"name": "ups-a", "device": "ups-a", "profile": "ups-rfc1628", "interval": "15s"}],
    "kpis": [{"id": "power_faults"}],
}
SERIES = 'sla_power_fault{job="sla-agent",instance="agent:9877",unit="ups-a",condition="%s"}'


def expected(condition: str) -> dict:
    description = DESCRIPTION.replace("{for_}", FOR).replace("{{ $labels.unit }}", "ups-a")
    return {"exp_labels": {"severity": "page", "kpi": "power_faults", "job": "sla-agent", "instance": "agent:9877",
                           "unit": "ups-a", "condition": condition},
            "exp_annotations": {"summary": SUMMARY,
                                "description": description.replace("{{ $labels.condition }}", condition),
                                "runbook_url": "docs/runbooks.md#slapowerfault"}}


# On battery 2m-6m (the alarm it raises with it); a 30 s transfer to bypass at 9m; an input failure
# seen by one poll at 12m. Only faults that last the rule's minute page.
TESTS = {
    "rule_files": [rules.ALERTS_FILE],
    "evaluation_interval": "30s",
    "tests": [{
        "name": "a fault that lasts a minute pages, per condition; a shorter one does not",
        "interval": "30s",
        "input_series": [
            {"series": SERIES % "on_battery", "values": "0x3 1x8 0x20"},
            {"series": SERIES % "alarm", "values": "0x3 1x8 0x20"},
            {"series": SERIES % "bypass", "values": "0x17 1 0x12"},
            {"series": SERIES % "input_failure", "values": "0x23 1 0x6"},
        ],
        "alert_rule_test": [
            {"eval_time": "2m", "alertname": "SlaPowerFault"},  # pending
            {"eval_time": "3m", "alertname": "SlaPowerFault", "exp_alerts": [expected("on_battery"), expected("alarm")]},
            {"eval_time": "6m30s", "alertname": "SlaPowerFault"},  # back on the mains
            {"eval_time": "9m30s", "alertname": "SlaPowerFault"},
            {"eval_time": "12m30s", "alertname": "SlaPowerFault"},
        ],
    }],
}


def test_slapowerfault_passes_promtool(tmp_path: Path) -> None:
    files = rules.generate(parse_config(CONFIG, "dc.yaml"), "dc.yaml", runbooks="docs/runbooks.md")
    rules.write(files, tmp_path)
    (tmp_path / "power.test.yml").write_text(yaml.safe_dump(TESTS, allow_unicode=True, sort_keys=False),
                                             encoding="utf-8")
    checked = subprocess.run([PROMTOOL, "check", "rules", str(tmp_path / rules.ALERTS_FILE)],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([PROMTOOL, "test", "rules", "power.test.yml"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert tested.returncode == 0, tested.stdout + tested.stderr
