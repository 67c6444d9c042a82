"""The power: section: units, their cross-check against snmp.devices, and what the generators make of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from agent.config import ConfigError, parse_config
from agent.sharding import Shard, select
from collectors.power.collector import PowerCollector

DEVICES = [{"name": "ups-a-card", "address": "10.20.0.11", "community": "${UPS_COMMUNITY}"},
           {"name": "ups-b-card", "address": "10.20.0.12", "version": "v3", "user": "monitor",
            "auth_protocol": "sha", "auth_key": "auth-key-123", "priv_protocol": "aes", "priv_key": "priv-key-123"}]
ENV = {"UPS_COMMUNITY": "s3cret-community"}


def data(*units: dict, kpis=({"id": "power_faults"},)) -> dict:
    return {"snmp": {"devices": DEVICES}, "power": list(units), "kpis": list(kpis)}


def unit(name: str = "ups-a", device: str = "ups-a-card", **more) -> dict:
    return {"name": name, "device": device, "profile": "ups-rfc1628", **more}


def problems(config: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(config, "dc.yaml", env=ENV)
    assert all("s3cret" not in p for p in caught.value.problems)
    return caught.value.problems


def test_a_unit_with_its_defaults():
    config = parse_config(data(unit(), unit("ups-b", "ups-b-card", interval="15s", timeout="3s")), "dc.yaml", env=ENV)
    a, b = config.power
    assert (a.interval, a.timeout, a.profile) == (30.0, 5.0, "ups-rfc1628")
    assert (b.interval, b.timeout) == (15.0, 3.0)
    targets = PowerCollector(config.power, config.snmp.devices, config.snmp.defaults).targets()
    assert [(t.name, t.device.version, t.device.port, t.poll_timeout) for t in targets] == [
        ("ups-a", "v2c", 161, 6.0), ("ups-b", "v3", 161, 4.0)]  # snmp.defaults applied; the unit's bound + slack


def test_a_unit_names_an_snmp_device():
    assert problems(data(unit(device="x"))) == ["dc.yaml: power[0].device: no SNMP device named 'x'"]


def test_the_device_is_checked_while_other_units_are_wrong():
    found = problems(data(unit(device="x"), unit("ups-b", "ups-b-card", interval="soon")))
    assert "dc.yaml: power[0].device: no SNMP device named 'x'" in found
    assert any(p.startswith("dc.yaml: power[1].interval:") for p in found)


def test_unit_problems_are_one_line_each():
    assert problems(data(unit(), unit())) == ["dc.yaml: power[1].name: duplicate name 'ups-a'"]
    assert problems(data(unit(name="ups:a"))) == ["dc.yaml: power[0].name: 'ups:a': power unit names may not contain ':'"]
    assert problems(data(unit(interval="10s", timeout="20s"))) == [
        "dc.yaml: power[0]: timeout (20s) must not exceed interval (10s)"]
    assert problems(data(unit(interval="2s", timeout="1s"))) == [
        "dc.yaml: power[0].interval: 2s is below the minimum of 5s: a UPS or cabinet's SNMP card is a small "
        "computer that answers slowly under load"]
    assert problems(data(unit(profile="ups"))) == [
        "dc.yaml: power[0].profile: no bundled power profile named 'ups' (bundled: cabinet-generic, ups-rfc1628; "
        "a file of your own ends in .yaml)"]
    assert problems(data(unit(profle="ups"))) == [
        "dc.yaml: power[0].profle: unknown key 'profle' (did you mean 'profile'?)"]


def test_a_site_profile_is_relative_to_the_config(tmp_path: Path):
    (tmp_path / "vendor.yaml").write_text("conditions: [{name: breaker_open, oid: 1.3.6.1.4.1.9.1.0, "
                                          "fault_when_in: [2]}]\n", encoding="utf-8")
    config = parse_config(data(unit(profile="vendor.yaml")), "dc.yaml", env=ENV, base_dir=tmp_path)
    assert config.power[0].profile == str((tmp_path / "vendor.yaml").resolve())
    (tmp_path / "broken.yaml").write_text("conditions: [{name: x, oid: 1.3.6.1.4.1.9.1.0}]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        parse_config(data(unit(profile="broken.yaml")), "dc.yaml", env=ENV, base_dir=tmp_path)
    assert caught.value.problems == [
        f"dc.yaml: power[0].profile: {(tmp_path / 'broken.yaml').resolve()}: conditions[0]: give exactly one of "
        "fault_when_in, fault_when_above, counter_increase: true"]


def test_the_kpi_needs_units_and_names_only_known_ones():
    assert problems(data()) == ["dc.yaml: kpis[0].id: power_faults needs at least one entry in power"]
    assert problems(data(unit(), kpis=[{"id": "power_faults", "power_units": ["ups-z"]}])) == [
        "dc.yaml: kpis[0].power_units: no power unit named 'ups-z'"]
    found = problems(data(unit(), kpis=[{"id": "app_code_display_stability", "power_units": ["ups-a"]}]))
    assert "dc.yaml: kpis[0].power_units: app_code_display_stability measures HTTP probes, not power units" in found


def test_a_shard_keeps_a_unit_with_its_device():
    config = parse_config(data(unit(), unit("ups-b", "ups-b-card")), "dc.yaml", env=ENV)
    for index in range(2):
        shard = select(config, Shard(index, 2))
        devices = {d.name for d in shard.snmp.devices}
        assert all(u.device in devices for u in shard.power)
    assert sorted(u.name for i in range(2) for u in select(config, Shard(i, 2)).power) == ["ups-a", "ups-b"]


def test_rules_and_dashboards_for_a_power_config():
    from agent.generators import dashboards, rules

    config = parse_config(data(unit(), unit("ups-b", "ups-b-card")), "dc.yaml", env=ENV)
    files = rules.generate(config, "dc.yaml")
    groups = {g["name"]: g["rules"] for g in yaml.safe_load(files[rules.ALERTS_FILE])["groups"]}
    (fault,) = groups["sla-agent.power-alerts"]
    assert (fault["alert"], fault["expr"].strip(), fault["for"], fault["labels"]) == (
        "SlaPowerFault", 'sla_power_fault{job="sla-agent"} == 1', "1m", {"severity": "page", "kpi": "power_faults"})
    assert fault["annotations"]["runbook_url"].endswith("#slapowerfault")
    assert "{for_}" not in fault["annotations"]["description"] and "已持续 1m" in fault["annotations"]["description"]
    coverage = [r for r in groups["sla-agent.kpi-alerts"] if r["labels"].get("kpi") == "power_faults"]
    assert [r["alert"] for r in coverage] == ["SlaKpiInsufficientData"]
    assert "UPS" in coverage[0]["annotations"]["description"]
    board = json.loads(dashboards.generate(config)["sla-power.json"])
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    assert 'max by (unit) (sla_power_fault{job="sla-agent",unit=~"$unit"})' in exprs
    assert 'sla_kpi_value{job="sla-agent",kpi=~"power_faults"}' in exprs
    assert all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in board["panels"])
    without = parse_config({"snmp": {"devices": DEVICES}}, "dc.yaml", env=ENV)
    assert "sla-power.json" not in dashboards.generate(without)
    assert "power-alerts" not in rules.generate(without, "dc.yaml")[rules.ALERTS_FILE]
