"""The committed rules/ and dashboards/ are what the generators make of examples/demo.yaml,
and have the shape operations rely on (labels, annotations, runbooks, panels)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from agent.catalogue import BY_ID
from agent.cli import main
from agent.config import load_config_without_secrets
from agent.generators import dashboards, rules
from agent.generators.queries import kpi_queries

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "examples/demo.yaml"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def config():
    return load_config_without_secrets(ROOT / SOURCE)


def committed(directory: str, pattern: str) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / directory).glob(pattern))}


def test_committed_rules_are_up_to_date(config):
    assert rules.generate(config, SOURCE) == committed("rules", "*.yml"), (
        f"rules/ is stale: run `sla-agent rules -c {SOURCE} -o rules/`")


def test_committed_dashboards_are_up_to_date(config):
    assert dashboards.generate(config) == committed("dashboards", "*.json"), (
        f"dashboards/ is stale: run `sla-agent dashboards -c {SOURCE} -o dashboards/`")


def test_cli_writes_the_same_files(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)  # the source path is written into the rule files' header
    assert main(["rules", "-c", SOURCE, "-o", str(tmp_path / "r")]) == 0
    assert main(["dashboards", "-c", SOURCE, "-o", str(tmp_path / "d")]) == 0
    assert {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "r").iterdir()} == committed("rules", "*.yml")
    assert {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "d").iterdir()} == committed(
        "dashboards", "*.json")
    assert str(tmp_path / "r" / rules.ALERTS_FILE) in capsys.readouterr().out


def test_generation_needs_no_secrets(tmp_path, monkeypatch):
    """examples/center.yaml reads env variables and /run/secrets files that CI does not have."""
    for name in ("SNMP_COMMUNITY", "SNMP_V3_AUTH_KEY", "GOV_CLOUD_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    config = load_config_without_secrets(ROOT / "examples" / "center.yaml")
    files = rules.generate(config, "examples/center.yaml")
    assert "SlaErrorBudgetBurn" in files[rules.ALERTS_FILE]
    assert "generator-placeholder" not in "".join(files.values()) + "".join(dashboards.generate(config).values())


def test_generation_reports_config_errors(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kpis:\n  - {id: egress_link_availability, link_group: nowhere}\n")
    assert main(["rules", "-c", str(bad), "-o", str(tmp_path / "out")]) == 2
    assert "no link group named 'nowhere'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def all_rules() -> list[dict]:
    return [rule for text in committed("rules", "*.yml").values()
            for group in yaml.safe_load(text)["groups"] for rule in group["rules"]]


def test_recording_rules_follow_level_metric_operations():
    for rule in all_rules():
        if "record" in rule:
            assert re.fullmatch(r"kpi:sla_[a-z_]+:[a-z0-9_]+", rule["record"]), rule["record"]
            assert rule["labels"]["kpi"] in BY_ID


def test_every_alert_has_for_severity_kpi_and_bilingual_annotations():
    runbooks = (ROOT / "docs" / "runbooks.md").read_text(encoding="utf-8")
    alerts = [rule for rule in all_rules() if "alert" in rule]
    assert alerts
    for alert in alerts:
        assert re.fullmatch(r"\d+[smhd]", alert["for"]), alert
        assert alert["labels"]["severity"] in ("page", "ticket")
        assert alert["labels"]["kpi"] in set(BY_ID) | {"all"}
        annotations = alert["annotations"]
        for key in ("summary", "description"):
            zh, _, en = annotations[key].partition(" / ")
            assert CJK.search(zh) and en and not CJK.search(en), (alert["alert"], key)
        assert "$value" in annotations["description"] or "$labels" in annotations["description"], alert["alert"]
        anchor = annotations["runbook_url"].split("#")[1]
        assert annotations["runbook_url"] == f"docs/runbooks.md#{alert['alert'].lower()}"
        assert f'<a id="{anchor}"></a>' in runbooks, f"docs/runbooks.md has no section for {alert['alert']}"


def test_burn_rate_alerts_cover_every_ratio_kpi_with_its_own_thresholds(config):
    burns = [r for r in all_rules() if r.get("alert") == "SlaErrorBudgetBurn"]
    by_kpi: dict[str, list[str]] = {}
    for rule in burns:
        by_kpi.setdefault(rule["labels"]["kpi"], []).append(rule["expr"])
    ratio = {q.id: q.objective for q in kpi_queries(config) if q.ratio is not None}
    assert set(by_kpi) == set(ratio) == {"egress_link_availability", "mobile_office_link_availability",
                                         "sms_delivery_rate", "sms_send_latency", "app_code_display_stability"}
    assert ratio["sms_delivery_rate"] == 0.98 and ratio["sms_send_latency"] == 0.95
    thresholds = {kpi: [float(re.findall(r"> ([\d.]+)", e)[0]) for e in exprs] for kpi, exprs in by_kpi.items()}
    assert thresholds["egress_link_availability"] == pytest.approx([0.144, 0.06, 0.03, 0.01])
    assert thresholds["mobile_office_link_availability"] == pytest.approx([0.144, 0.06, 0.03, 0.01])
    assert thresholds["sms_delivery_rate"] == pytest.approx([0.288, 0.12, 0.06, 0.02])
    assert thresholds["sms_send_latency"] == pytest.approx([0.72, 0.3, 0.15, 0.05])


def boards() -> dict[str, dict]:
    return {name: json.loads(text) for name, text in committed("dashboards", "*.json").items()}


def test_dashboards_have_the_grafana_shape_operations_expect():
    found = boards()
    assert set(found) == {"sla-overview.json", "sla-links.json", "sla-cloud.json", "sla-sms.json",
                          "sla-probes.json", "sla-power.json", "sla-scans.json", "sla-agent-health.json"}
    for name, board in found.items():
        assert board["schemaVersion"] == 39 and board["uid"] and CJK.search(board["title"])
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids))
        for panel in board["panels"]:
            assert 0 <= panel["gridPos"]["x"] and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
            if panel["type"] == "row":
                continue
            assert CJK.search(panel["title"]), (name, panel["title"])
            assert panel["description"] and not CJK.search(panel["description"]), (name, panel["title"])
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"] and all(t["expr"] for t in panel["targets"])
    assert "group" in {v["name"] for v in found["sla-links.json"]["templating"]["list"]}
    assert "region" in {v["name"] for v in found["sla-cloud.json"]["templating"]["list"]}
    kinds = {p["type"] for b in found.values() for p in b["panels"]}
    assert {"stat", "timeseries", "state-timeline", "heatmap"} <= kinds


def test_overview_has_every_configured_kpi_against_its_target(config):
    overview = boards()["sla-overview.json"]
    exprs = " ".join(t["expr"] for p in overview["panels"] for t in p.get("targets", []))
    for kpi in config.kpis:
        assert f'sla_kpi_value{{job="sla-agent",kpi="{kpi.id}"}}' in exprs
        assert f'sla_kpi_target{{job="sla-agent",kpi="{kpi.id}"}}' in exprs
    rows = [p["title"] for p in overview["panels"] if p["type"] == "row"]
    assert len(rows) == 1 + len(config.kpis)


def test_overview_met_help_follows_each_kpi_kind():
    """What 是否达标 (sla_kpi_met) means depends on the kind, as the KPI engine judges it."""
    overview = boards()["sla-overview.json"]
    helps, kpi = {}, None
    for panel in overview["panels"]:
        for target in panel.get("targets", []):
            found = re.search(r'kpi="(\w+)"', target["expr"])
            kpi = found.group(1) if found else kpi
        if panel["title"] == "是否达标":
            helps[kpi] = panel["description"]
    assert "availability" in helps["egress_link_availability"] and ">= 99%" in helps["egress_link_availability"]
    assert "known time" in helps["egress_bandwidth"] and "99%" in helps["egress_bandwidth"]
    assert "delivery rate" in helps["sms_delivery_rate"] and ">= 98%" in helps["sms_delivery_rate"]
    assert "known time" not in helps["sms_delivery_rate"]
    assert "within 10s reaches 95%" in helps["sms_send_latency"]
    assert "on pace" in helps["sms_annual_volume"] and "pro-rated" in helps["sms_annual_volume"]


@pytest.mark.parametrize("given", ["./examples/demo.yaml", "examples/../examples/demo.yaml",
                                   str(ROOT / "examples" / "demo.yaml")])
def test_header_records_the_config_path_normalised(config, given, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert rules.generate(config, given) == committed("rules", "*.yml")


def test_header_path_is_relative_to_the_working_directory(tmp_path):
    assert rules.header_path(str(tmp_path / "site" / "agent.yaml"), cwd=tmp_path) == "site/agent.yaml"
    assert rules.header_path("/elsewhere/./agent.yaml", cwd=tmp_path) == "/elsewhere/agent.yaml"


def test_alerts_header_says_how_to_set_a_runbook_url(config):
    relative = rules.generate(config, SOURCE)[rules.ALERTS_FILE]
    assert "--runbook-base https://" in relative.split("groups:")[0]
    url = "https://git.example.org/sla/-/blob/main/docs/runbooks.md"
    files = rules.generate(config, SOURCE, runbooks=url)
    header = files[rules.ALERTS_FILE].split("groups:")[0]
    assert f"-o rules/ --runbook-base {url}\n" in header and "cannot open" not in header
    assert f"runbook_url: {url}#slaagentdown" in files[rules.ALERTS_FILE]


def test_canary_alerts_and_panels_only_for_gateways_with_a_canary(config):
    assert [g.name for g in config.sms if g.canary is not None] == ["gov-sms"]
    canary = [r for r in all_rules() if r.get("alert") == "SlaSmsCanaryFailing"]
    assert {(r["labels"]["gateway"], r["labels"]["symptom"], r["labels"]["kpi"]) for r in canary} == {
        ("gov-sms", "undelivered", "sms_delivery_rate"), ("gov-sms", "slow", "sms_send_latency")}
    assert all(r["labels"]["severity"] == "ticket" and 'gateway="gov-sms"' in r["expr"] for r in canary)
    assert "> 10\n" in next(r["expr"] for r in canary if r["labels"]["symptom"] == "slow")
    sms = boards()["sla-sms.json"]
    assert "拨测 Canary" in [p["title"] for p in sms["panels"] if p["type"] == "row"]

    without = config.model_copy(update={"sms": [g.model_copy(update={"canary": None}) for g in config.sms]})
    assert "SlaSmsCanaryFailing" not in rules.generate(without, SOURCE)[rules.ALERTS_FILE]
    assert "sla_sms_canary" not in dashboards.generate(without)["sla-sms.json"]


def test_insufficient_data_alert_and_status_per_kpi(config):
    alerts = {r["labels"]["kpi"]: r for r in all_rules() if r.get("alert") == "SlaKpiInsufficientData"}
    # Every monthly KPI; the yearly volume's coverage is over the year, so it has none.
    assert set(alerts) == {kpi.id for kpi in config.kpis} - {"sms_annual_volume"}
    for kpi, rule in alerts.items():
        sel = f'{{job="sla-agent",kpi="{kpi}"}}'
        assert rule["expr"] == f"sla_kpi_coverage_ratio{sel} < sla_kpi_min_coverage_ratio{sel}"
        assert rule["for"] == "6h" and rule["labels"]["severity"] == "ticket"
    overview = boards()["sla-overview.json"]
    status = [p for p in overview["panels"] if p["title"] == "是否达标"]
    assert len(status) == len(config.kpis)
    for panel in status:
        expr = panel["targets"][0]["expr"]
        assert "sla_kpi_met" in expr and "sla_kpi_min_coverage_ratio" in expr
        texts = {o["text"] for m in panel["fieldConfig"]["defaults"]["mappings"] for o in m["options"].values()}
        assert texts == {"达标 met", "未达标 not met", "数据不足 insufficient data"}
