"""The committed rules pass Debian's promtool (check and unit tests) and the
Alertmanager routing passes amtool; the unit tests cover every alert both ways."""

from __future__ import annotations

import concurrent.futures
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from agent.config import load_config_without_secrets
from agent.generators import rules

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
    # The burn-rate cases take as long as all the others together: two promtool processes, one per half,
    # use both cores of a CI runner (each file is tested on its own either way).
    files = sorted(TEST_FILES, key=lambda f: "burn" not in str(f))
    halves = [files[:1], files[1:]]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda part: run(PROMTOOL, "test", "rules", *part), halves))
    for result in results:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "FAILED" not in result.stdout


def alerting_rules() -> dict[tuple, dict]:
    """Every alerting rule of the committed files, keyed by its name and static labels.

    SlaErrorBudgetBurn is one rule per KPI and window pair: the key tells
    them apart by kpi, long and short (and severity, group)."""
    found = {}
    for path in RULE_FILES:
        for group in yaml.safe_load(Path(path).read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    key = (rule["alert"], *sorted(rule.get("labels", {}).items()))
                    assert key not in found, f"two alerting rules with the same name and labels: {key}"
                    found[key] = rule
    return found


def matches(key: tuple, exp_labels: dict) -> bool:
    """Whether an expected alert is one of the rule's: it carries all the rule's labels."""
    name, *labels = key
    return all(str(exp_labels.get(k)) == str(v) for k, v in labels)


def test_every_alerting_rule_is_tested_firing_and_not_firing():
    """Each rule fires in some promtool case and, in the same test (same input series), is
    shown not firing in another: promtool checks the complete list of firing alerts of an
    alertname at an eval_time, so a case that does not list the rule asserts it is quiet."""
    keys = alerting_rules()
    fires: set[tuple] = set()
    quiet: set[tuple] = set()
    for path in TEST_FILES:
        for test in yaml.safe_load(Path(path).read_text(encoding="utf-8"))["tests"]:
            fired_here, quiet_here = set(), set()
            for case in test.get("alert_rule_test", []):
                for key in keys:
                    if key[0] != case["alertname"]:
                        continue
                    shown = any(matches(key, a.get("exp_labels", {})) for a in case.get("exp_alerts") or [])
                    (fired_here if shown else quiet_here).add(key)
            fires |= fired_here
            quiet |= fired_here & quiet_here
    assert len(keys) > 20
    assert sorted(set(keys) - fires) == [], "alerting rules never shown firing"
    assert sorted(set(keys) - quiet) == [], "alerting rules never shown quiet in a test where they fire"


def test_burn_threshold_cases_are_up_to_date():
    from tests import burn_cases

    assert burn_cases.OUT.read_text(encoding="utf-8") == burn_cases.render(), (
        "rules/tests/burn-thresholds.test.yml is stale: run `python3 -m tests.burn_cases`")


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
