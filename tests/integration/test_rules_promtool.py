"""The committed rules pass Debian's promtool (check and unit tests) and the
Alertmanager routing passes amtool; the unit tests cover every alert both ways."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from agent import rules
from agent.config import load_config_without_secrets

ROOT = Path(__file__).resolve().parents[2]
PROMTOOL = shutil.which("promtool")
AMTOOL = shutil.which("amtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian's prometheus) is not installed")
needs_amtool = pytest.mark.skipif(AMTOOL is None, reason="amtool (Debian's prometheus-alertmanager) is not installed")
RULE_FILES = sorted(str(p) for p in (ROOT / "rules").glob("*.yml"))
TEST_FILES = sorted(str(p) for p in (ROOT / "rules" / "tests").glob("*.yml"))


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)


@needs_promtool
def test_promtool_check_rules_is_clean():
    result = run(PROMTOOL, "check", "rules", *RULE_FILES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_FILES)


@needs_promtool
def test_promtool_unit_tests_pass():
    result = run(PROMTOOL, "test", "rules", *TEST_FILES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAILED" not in result.stdout


def test_every_alert_is_tested_firing_and_not_firing():
    alerts = {rule["alert"] for path in RULE_FILES
              for group in yaml.safe_load(Path(path).read_text(encoding="utf-8"))["groups"]
              for rule in group["rules"] if "alert" in rule}
    fires, quiet = set(), set()
    for path in TEST_FILES:
        for test in yaml.safe_load(Path(path).read_text(encoding="utf-8"))["tests"]:
            for case in test.get("alert_rule_test", []):
                (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
    assert alerts - fires == set(), "alerts never shown firing"
    assert alerts - quiet == set(), "alerts never shown not firing"


@needs_promtool
def test_rules_for_the_center_config_pass_promtool(tmp_path):
    config = load_config_without_secrets(ROOT / "examples" / "center.yaml")
    written = rules.write(rules.generate(config, "examples/center.yaml"), tmp_path)
    result = run(PROMTOOL, "check", "rules", *map(str, written))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_compose_prometheus_config_is_valid(tmp_path):
    """docker/prometheus/prometheus.yml, with the rule path pointed at the repository's rules."""
    config = yaml.safe_load((ROOT / "docker" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    config["rule_files"] = [str(ROOT / "rules" / "*.yml")]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    result = run(PROMTOOL, "check", "config", str(tmp_path / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


ALERTMANAGER_YML = str(ROOT / "docker" / "alertmanager" / "alertmanager.yml")


@needs_amtool
def test_amtool_check_config():
    result = run(AMTOOL, "check-config", ALERTMANAGER_YML)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_amtool
@pytest.mark.parametrize(("labels", "receiver"), [
    (["severity=page", "alertname=SlaErrorBudgetBurn", "kpi=egress_link_availability", "group=internet_egress"],
     "oncall"),
    (["severity=page", "alertname=SlaAgentDown", "kpi=all"], "oncall"),
    (["severity=ticket", "alertname=SlaTargetDown", "kpi=all"], "ticket-queue"),
    (["severity=ticket", "alertname=SlaErrorBudgetBurn", "kpi=sms_delivery_rate"], "ticket-queue"),
])
def test_pages_route_to_on_call_and_tickets_to_the_queue(labels, receiver):
    result = run(AMTOOL, "config", "routes", "test", f"--config.file={ALERTMANAGER_YML}", *labels)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver
