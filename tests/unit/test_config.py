"""agent.config: every problem is one line ``FILE: key.path: message``; secrets never leak.

Each bad config is checked twice: through ``load_config`` (the exact list of
problems) and through ``sla-agent check`` (the same lines on stderr, exit 2,
no traceback).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from pydantic import ValidationError

from agent import units, yamlfile
from agent.catalogue import BY_ID
from agent.cli import main
from agent.config import (
    Config,
    ConfigError,
    KpiConfig,
    kpi_definition,
    load_config,
    load_config_without_secrets,
    parse_config,
)

REPO = Path(__file__).resolve().parents[2]
CENTER = REPO / "examples" / "center.yaml"

# Distinctive secret values: if any shows up in a message or repr, it leaked.
SECRETS = {
    "SNMP_COMMUNITY": "c0mmunity-S3CRET",
    "SNMP_V3_AUTH_KEY": "auth-S3CRET-key",
    "SNMP_V3_PRIV_KEY": "priv-S3CRET-key",
}

# A small valid config; each case below breaks one thing in a copy of it.
BASE: dict[str, Any] = {
    "agent": {"listen": "127.0.0.1:9877", "timezone": "Asia/Shanghai"},
    "snmp": {
        "defaults": {"community": "public-lab", "interval": "30s"},
        "devices": [{"name": "rt1", "address": "192.0.2.1"}],
    },
    "link_groups": [
        {"name": "internet_egress", "links": [{"name": "ct", "device": "rt1", "if_alias": "CT-10G", "capacity": "10G"}]}
    ],
    "kpis": [{"id": "egress_link_availability", "link_group": "internet_egress"}],
    "maintenance": [],
}


def edit(path: str, value: Any = None, *, delete: bool = False) -> Callable[[dict], None]:
    """A mutation setting (or deleting) ``path`` ("snmp.devices.0.port") in a config dict."""

    def apply(data: dict) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        if delete:
            del node[key]
        elif isinstance(node, list) and key == len(node):
            node.append(value)
        else:
            node[key] = value

    return apply


def config_with(*mutations: Callable[[dict], None]) -> dict:
    data = copy.deepcopy(BASE)
    for mutate in mutations:
        mutate(data)
    return data


def write(tmp_path: Path, data: Any, name: str = "sla.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def write_text(tmp_path: Path, text: str, name: str = "sla.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, env={} if env is None else env)
    return info.value.problems


def run_check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["check", "-c", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def assert_rejected(
    path: Path, expected: list[str], capsys: pytest.CaptureFixture[str], env: dict[str, str] | None = None
) -> None:
    """``expected`` are ``key.path: message`` lines; the file name is prefixed here."""
    lines = [f"{path}: {line}" for line in expected]
    problems = problems_of(path, env)
    assert problems == lines
    for problem in problems:
        assert "\n" not in problem
    code, out, err = run_check(path, capsys)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert err.splitlines() == lines


# --- good configs -----------------------------------------------------------------------


def test_minimal_good_config_passes_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BASE)
    code, out, err = run_check(path, capsys)
    assert code == 0
    assert err == ""
    assert out == f"{path}: ok (1 devices, 1 link groups, 1 links, 0 clouds, 0 SMS gateways, 0 probes, 0 power units, 0 security scans, 1 KPIs, 0 maintenance windows)\n"


NOTHING = "(top level): measures nothing: configure snmp.devices (with link_groups and kpis), clouds, sms, probes, power (with snmp.devices) " \
           "or security_scans"
ONE_DEVICE = "snmp:\n  devices:\n    - {name: rt1, address: 192.0.2.1, community: c}\n"


@pytest.mark.parametrize("text", ["", "agent:\n  listen: 127.0.0.1:9000\n", "snmp:\n  devices: []\n"])
def test_a_config_that_measures_nothing_is_an_error(tmp_path: Path, text: str) -> None:
    path = write_text(tmp_path, text)
    assert problems_of(path) == [f"{path}: {NOTHING}"]


def test_one_source_is_enough_and_defaults_apply(tmp_path: Path) -> None:
    config = load_config(write_text(tmp_path, ONE_DEVICE), env={})
    assert len(config.snmp.devices) == 1 and config.kpis == ()
    assert config.agent.listen == "127.0.0.1:9877"


def test_values_are_in_base_units(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE), env={})
    assert config.snmp.defaults.interval == 30.0
    assert config.agent.kpi_interval == 15.0
    assert config.link_groups[0].links[0].capacity == 1.25e9  # 10 Gbit/s in bytes/s
    assert (config.agent.host, config.agent.port) == ("127.0.0.1", 9877)
    assert config.agent.zone.key == "Asia/Shanghai"


def test_models_are_frozen(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE), env={})
    with pytest.raises(ValidationError, match="frozen"):
        config.agent.listen = "0.0.0.0:80"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        config.snmp.devices[0].address = "198.51.100.1"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        config.link_groups[0].links[0].capacity = 1.0  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        config.kpis = []  # type: ignore[misc]


def test_sections_are_immutable(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE), env={})
    with pytest.raises((TypeError, AttributeError)):
        config.snmp.devices.append(config.snmp.devices[0])  # type: ignore[attr-defined]


def test_custom_kpi_with_full_definition_is_accepted(tmp_path: Path) -> None:
    kpi = {"id": "core_link_availability", "name": "核心链路可用率", "kind": "availability", "unit": "ratio",
           "target": ">= 99.9%", "link_group": "internet_egress"}
    config = load_config(write(tmp_path, config_with(edit("kpis.1", kpi))), env={})
    definition = kpi_definition(config.kpis[1])
    assert (definition.name_zh, definition.kind, definition.unit) == ("核心链路可用率", "availability", "ratio")
    assert definition.target == definition.target_text == ">= 99.9%"
    assert definition.objective is None and definition.source == "link_group"


# --- YAML-level problems ------------------------------------------------------------------


def test_invalid_yaml_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "agent:\n  listen: 127.0.0.1:9877\n  timezone: [Asia/Shanghai\n"
    path = write_text(tmp_path, text)
    # libyaml's wording (agent/yamlfile.py uses its parser where PyYAML has it), else PyYAML's own.
    wording = ("did not find expected ',' or ']'" if yamlfile.UniqueKeyLoader.__mro__[1] is not yaml.SafeLoader
               else "expected ',' or ']', but got '<stream end>'")
    assert_rejected(path, [f"line 4, column 1: invalid YAML: {wording}"], capsys)


def test_bad_indentation_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "agent:\n  listen: 127.0.0.1:9877\n timezone: Asia/Shanghai\n"
    path = write_text(tmp_path, text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: line 3, column 2: invalid YAML: ")
    code, _, err = run_check(path, capsys)
    assert code == 2 and err.splitlines() == [problem]


def test_duplicate_key_is_rejected_not_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "agent:\n  listen: 127.0.0.1:9877\n  listen: 0.0.0.0:9877\n"
    assert_rejected(write_text(tmp_path, text), ["line 3, column 3: invalid YAML: duplicate key 'listen'"], capsys)


def test_duplicate_key_inside_a_list_item(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        "snmp:\n"
        "  devices:\n"
        "    - name: rt1\n"
        "      address: 192.0.2.1\n"
        "      address: 192.0.2.2\n"
    )
    assert_rejected(write_text(tmp_path, text), ["line 5, column 7: invalid YAML: duplicate key 'address'"], capsys)


def test_duplicate_top_level_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "kpis: []\nagent: {}\nkpis: []\n"
    assert_rejected(write_text(tmp_path, text), ["line 3, column 1: invalid YAML: duplicate key 'kpis'"], capsys)


@pytest.mark.parametrize("text", ["- agent\n- snmp\n", "just a string\n", "42\n"], ids=["list", "string", "number"])
def test_top_level_must_be_a_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    expected = "(top level): expected a mapping of sections (agent, snmp, link_groups, ...)"
    assert_rejected(write_text(tmp_path, text), [expected], capsys)


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nope.yaml"
    assert problems_of(path) == [f"{path}: cannot read: No such file or directory"]
    code, out, err = run_check(path, capsys)
    assert (code, out, err) == (2, "", f"{path}: cannot read: No such file or directory\n")


def test_unhashable_key_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_text(tmp_path, "? [agent, snmp]\n: 1\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: line 1, column ")
    assert "invalid YAML" in problem


def test_yaml_merge_keys_work(tmp_path: Path) -> None:
    text = (
        "snmp:\n"
        "  devices:\n"
        "    - &router {name: rt1, address: 192.0.2.1, community: lab-community}\n"
        "    - <<: *router\n"
        "      name: rt2\n"
        "      address: 192.0.2.2\n"
    )
    config = load_config(write_text(tmp_path, text), env={})
    assert [d.name for d in config.snmp.devices] == ["rt1", "rt2"]


# --- model-level problems: one table, exact messages ---------------------------------------------

CASES: list[tuple[str, list[Callable[[dict], None]], list[str]]] = [
    # unknown keys anywhere
    ("typo_top_level", [edit("kpi", [])], ["kpi: unknown key 'kpi' (did you mean 'kpis'?)"]),
    ("typo_agent", [edit("agent.intervall", "30s")], ["agent.intervall: unknown key 'intervall' (did you mean 'kpi_interval'?)"]),
    ("typo_defaults", [edit("snmp.defaults.intervall", "30s")],
     ["snmp.defaults.intervall: unknown key 'intervall' (did you mean 'interval'?)"]),
    ("typo_device", [edit("snmp.devices.0.adress", "192.0.2.9")],
     ["snmp.devices[0].adress: unknown key 'adress' (did you mean 'address'?)"]),
    ("typo_link", [edit("link_groups.0.links.0.capacty", "10G")],
     ["link_groups[0].links[0].capacty: unknown key 'capacty' (did you mean 'capacity'?)"]),
    ("typo_kpi", [edit("kpis.0.targt", ">= 99%")], ["kpis[0].targt: unknown key 'targt' (did you mean 'target'?)"]),
    ("typo_maintenance", [edit("maintenance.0", {"name": "m", "start": "2026-11-01T02:00:00",
                                                 "end": "2026-11-01T04:00:00", "linkgroups": []})],
     ["maintenance[0].linkgroups: unknown key 'linkgroups' (did you mean 'link_groups'?)"]),
    # wrong types
    ("section_not_mapping", [edit("agent", "127.0.0.1:9877")],
     ["agent: Input should be a valid dictionary or instance of AgentSettings"]),
    ("list_not_list", [edit("snmp.devices", {"name": "rt1"})], ["snmp.devices: expected a list"]),
    ("item_not_mapping", [edit("snmp.devices.0", "rt1")],
     ["snmp.devices[0]: Input should be a valid dictionary or instance of SnmpDevice"]),
    ("int_not_int", [edit("snmp.defaults.retries", "many")],
     ["snmp.defaults.retries: Input should be a valid integer, unable to parse string as an integer"]),
    ("str_not_str", [edit("snmp.devices.0.address", 1921680001)],
     ["snmp.devices[0].address: Input should be a valid string"]),
    ("bad_literal", [edit("snmp.devices.0.version", "v1")], ["snmp.devices[0].version: Input should be 'v2c' or 'v3'"]),
    ("bad_name", [edit("snmp.devices.0.name", "rt 1")],
     ["snmp.devices[0].name: String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$'"]),
    ("missing_required", [edit("snmp.devices.0.address", delete=True)], ["snmp.devices[0].address: Field required"]),
    ("empty_link_group", [edit("link_groups.0.links", [])],
     ["link_groups[0].links: a link group needs at least one link"]),
    # durations
    ("duration_words", [edit("snmp.defaults.interval", "5 minutes")],
     ["snmp.defaults.interval: '5 minutes' is not a duration (use e.g. 30s, 5m, 2h, 1d or PT2H)"]),
    ("duration_zero", [edit("agent.kpi_interval", "0s")], ["agent.kpi_interval: a duration must be greater than zero"]),
    ("duration_bool", [edit("snmp.devices.0.timeout", True)],
     ["snmp.devices[0].timeout: expected a duration such as 30s, 5m, 2h or PT2H"]),
    # bit rates
    ("capacity_words", [edit("link_groups.0.links.0.capacity", "ten gig")],
     ["link_groups[0].links[0].capacity: 'ten gig' is not a bit rate (use e.g. 10Gbit/s, 500Mbit/s)"]),
    ("capacity_bytes", [edit("link_groups.0.links.0.capacity", "10GB/s")],
     ["link_groups[0].links[0].capacity: '10GB/s' is not a bit rate (use e.g. 10Gbit/s, 500Mbit/s)"]),
    ("capacity_zero", [edit("link_groups.0.links.0.capacity", 0)],
     ["link_groups[0].links[0].capacity: a bit rate must be greater than zero"]),
    # ports and addresses
    ("port_high", [edit("snmp.defaults.port", 70000)], ["snmp.defaults.port: Input should be less than or equal to 65535"]),
    ("port_zero", [edit("snmp.devices.0.port", 0)], ["snmp.devices[0].port: Input should be greater than or equal to 1"]),
    ("listen_no_port", [edit("agent.listen", "localhost")], ["agent.listen: 'localhost' is not HOST:PORT"]),
    ("listen_port_range", [edit("agent.listen", "127.0.0.1:70000")],
     ["agent.listen: '127.0.0.1:70000' is not HOST:PORT"]),
    ("listen_no_host", [edit("agent.listen", ":9877")], ["agent.listen: ':9877' is not HOST:PORT"]),
    # time zones
    ("timezone_agent", [edit("agent.timezone", "Asia/Shenzhen")],
     ["agent.timezone: unknown time zone 'Asia/Shenzhen' (use an IANA name such as Asia/Shanghai)"]),
    ("timezone_maintenance", [edit("maintenance.0", {"name": "m", "start": "2026-11-01T02:00:00",
                                                     "end": "2026-11-01T04:00:00", "timezone": "CST"})],
     ["maintenance[0].timezone: unknown time zone 'CST' (use an IANA name such as Asia/Shanghai)"]),
    # links
    ("link_no_selector", [edit("link_groups.0.links.0.if_alias", delete=True)],
     ["link_groups[0].links[0]: give exactly one of if_name, if_descr, if_alias to choose the interface"]),
    ("link_two_selectors", [edit("link_groups.0.links.0.if_name", "Te0/0/1")],
     ["link_groups[0].links[0]: give exactly one of if_name, if_descr, if_alias to choose the interface"]),
    ("link_unknown_device", [edit("link_groups.0.links.0.device", "rt9")],
     ["link_groups[0].links[0].device: no device named 'rt9' in snmp.devices"]),
    # duplicates
    ("duplicate_device", [edit("snmp.devices.1", {"name": "rt1", "address": "192.0.2.2"})],
     ["snmp.devices[1].name: duplicate name 'rt1'"]),
    ("duplicate_link_group", [edit("link_groups.1", {"name": "internet_egress", "links": [
        {"name": "cu", "device": "rt1", "if_name": "Te0/0/2"}]})],
     ["link_groups[1].name: duplicate name 'internet_egress'"]),
    ("duplicate_link_same_group", [edit("link_groups.0.links.1", {"name": "ct", "device": "rt1", "if_name": "Te0/0/2"})],
     ["link_groups[0].links[1].name: duplicate link name 'ct'"]),
    ("duplicate_link_across_groups", [edit("link_groups.1", {"name": "mobile_office", "links": [
        {"name": "ct", "device": "rt1", "if_name": "Te0/0/2"}]})],
     ["link_groups[1].links[0].name: duplicate link name 'ct'"]),
    ("duplicate_kpi", [edit("kpis.1", {"id": "egress_link_availability", "link_group": "internet_egress"})],
     ["kpis[1].id: duplicate id 'egress_link_availability'"]),
    # KPIs
    ("kpi_unknown_id", [edit("kpis.0.id", "egress_availability")],
     ["kpis[0].id: unknown KPI 'egress_availability'; known: app_code_display_stability, cloud_memory_capacity, "
      "cloud_storage_capacity, cloud_vcpu_capacity, connected_organisations, egress_bandwidth, "
      "egress_link_availability, epidemic_platform_availability, fault_handling_rate, managed_devices, "
      "mobile_office_link_availability, network_fault_timeliness, power_cabinets, power_faults, servers, "
      "sms_annual_volume, sms_delivery_rate, sms_send_latency, web_security_findings "
      "(or give name, kind, unit, target)"]),
    ("kpi_unknown_link_group", [edit("kpis.0.link_group", "internet")],
     ["kpis[0].link_group: no link group named 'internet'"]),
    ("kpi_no_link_group", [edit("kpis.0.link_group", delete=True)],
     ["kpis[0].link_group: missing: which link group this KPI measures"]),
    ("kpi_target_words", [edit("kpis.0.target", "about 99")],
     ["kpis[0].target: 'about 99': a target starts with >=, >, <= or <, e.g. '>= 99%'"]),
    ("kpi_target_wrong_unit", [edit("kpis.1", {"id": "egress_bandwidth", "link_group": "internet_egress",
                                               "target": ">= 15 apples"})],
     ["kpis[1].target: '>= 15 apples': '15 apples' is not a bit rate (use e.g. 10Gbit/s, 500Mbit/s)"]),
    ("kpi_ratio_above_one", [edit("kpis.0.target", ">= 99")],
     ["kpis[0].target: '>= 99': '99': write a ratio as a percentage (99%) or a number from 0 to 1"]),
    ("kpi_objective_range", [edit("kpis.0.objective", 2)], ["kpis[0].objective: Input should be less than or equal to 1"]),
    # maintenance
    ("maintenance_end_before_start", [edit("maintenance.0", {"name": "m", "start": "2026-11-01T04:00:00",
                                                             "end": "2026-11-01T02:00:00"})],
     ["maintenance[0]: end must be after start"]),
    ("maintenance_empty", [edit("maintenance.0", {"name": "m", "start": "2026-11-01T02:00:00",
                                                  "end": "2026-11-01T02:00:00"})],
     ["maintenance[0]: end must be after start"]),
    ("maintenance_no_end", [edit("maintenance.0", {"name": "m", "start": "2026-11-01T02:00:00"})],
     ["maintenance[0]: a one-off window needs start and end (or give rrule and duration)"]),
    ("maintenance_bad_rrule", [edit("maintenance.0", {"name": "m", "rrule": "FREQ=FORTNIGHTLY",
                                                      "dtstart": "2026-11-01T02:00:00", "duration": "2h"})],
     ["maintenance[0]: rrule 'FREQ=FORTNIGHTLY' is not valid RFC 5545: invalid 'FREQ': FORTNIGHTLY"]),
    ("maintenance_bad_byday", [edit("maintenance.0", {"name": "m", "rrule": "FREQ=MONTHLY;BYDAY=1SUN",
                                                      "dtstart": "2026-11-01T02:00:00", "duration": "2h"})],
     ["maintenance[0]: rrule 'FREQ=MONTHLY;BYDAY=1SUN' is not valid RFC 5545: invalid 'BYDAY': 1SUN"]),
    ("maintenance_rrule_no_duration", [edit("maintenance.0", {"name": "m", "rrule": "FREQ=WEEKLY",
                                                              "dtstart": "2026-11-01T02:00:00"})],
     ["maintenance[0]: a recurring window needs rrule, dtstart and duration"]),
    ("maintenance_rrule_no_dtstart", [edit("maintenance.0", {"name": "m", "rrule": "FREQ=WEEKLY", "duration": "2h"})],
     ["maintenance[0]: a recurring window needs rrule, dtstart and duration"]),
    ("maintenance_mixed_shapes", [edit("maintenance.0", {"name": "m", "start": "2026-11-01T02:00:00",
                                                         "end": "2026-11-01T04:00:00", "duration": "2h"})],
     ["maintenance[0]: duration and dtstart belong to recurring windows (rrule)"]),
    ("maintenance_bad_duration", [edit("maintenance.0", {"name": "m", "rrule": "FREQ=WEEKLY",
                                                         "dtstart": "2026-11-01T02:00:00", "duration": "2 hours"})],
     ["maintenance[0].duration: '2 hours' is not a duration (use e.g. 30s, 5m, 2h, 1d or PT2H)"]),
    ("maintenance_unknown_group", [edit("maintenance.0", {"name": "m", "link_groups": ["internet_egress", "egress"],
                                                          "start": "2026-11-01T02:00:00", "end": "2026-11-01T04:00:00"})],
     ["maintenance[0].link_groups: no link group named 'egress'"]),
    ("maintenance_unknown_link", [edit("maintenance.0", {"name": "m", "links": ["ct", "cx"],
                                                         "start": "2026-11-01T02:00:00", "end": "2026-11-01T04:00:00"})],
     ["maintenance[0].links: no link named 'cx'"]),
    ("maintenance_group_name_as_link", [edit("maintenance.0", {"name": "m", "links": ["internet_egress"],
                                                               "start": "2026-11-01T02:00:00",
                                                               "end": "2026-11-01T04:00:00"})],
     ["maintenance[0].links: no link named 'internet_egress'"]),
    ("maintenance_empty_links", [edit("maintenance.0", {"name": "m", "links": [], "start": "2026-11-01T02:00:00",
                                                        "end": "2026-11-01T04:00:00"})],
     ["maintenance[0].links: an empty list scopes the window to nothing: name at least one, or leave the key out "
      "(a window that sets none of links, link_groups, devices, probes, power_units is for everything)"]),
    ("maintenance_empty_link_groups", [edit("maintenance.0", {"name": "m", "link_groups": [],
                                                              "start": "2026-11-01T02:00:00",
                                                              "end": "2026-11-01T04:00:00"})],
     ["maintenance[0].link_groups: an empty list scopes the window to nothing: name at least one, or leave the key "
      "out (a window that sets none of links, link_groups, devices, probes, power_units is for everything)"]),
    # lower bounds of how often the agent works
    ("snmp_interval_1ms", [edit("snmp.defaults.interval", "1ms")],
     ["snmp.defaults.interval: 0.001s is below the minimum of 1s: each poll walks the device's interface tables, "
      "which devices refresh every few seconds"]),
    ("snmp_device_interval_short", [edit("snmp.devices.0.interval", 0.5)],
     ["snmp.devices[0].interval: 0.5s is below the minimum of 1s: each poll walks the device's interface tables, "
      "which devices refresh every few seconds"]),
    ("snmp_timeout_1ms", [edit("snmp.devices.0.timeout", "1ms")],
     ["snmp.devices[0].timeout: 0.001s is below the minimum of 0.1s: a busy device's SNMP agent takes tens of "
      "milliseconds to answer; shorter reads it unknown"]),
    ("kpi_interval_1ms", [edit("agent.kpi_interval", "1ms")],
     ["agent.kpi_interval: 0.001s is below the minimum of 1s: each evaluation reads the month so far of every KPI "
      "from the ledger"]),
    # SNMP versions and credentials
    ("v2c_without_community", [edit("snmp.defaults.community", delete=True)],
     ["snmp.devices[0].community: SNMPv2c needs a community (here or in snmp.defaults)"]),
    ("v3_without_user", [edit("snmp.devices.0.version", "v3")], ["snmp.devices[0].user: SNMPv3 needs a user"]),
    ("v3_default_without_user", [edit("snmp.defaults.version", "v3")], ["snmp.devices[0].user: SNMPv3 needs a user"]),
    ("v3_bad_auth_protocol", [edit("snmp.devices.0.auth_protocol", "sha1")],
     ["snmp.devices[0].auth_protocol: Input should be 'md5', 'sha', 'sha224', 'sha256', 'sha384' or 'sha512'"]),
]


@pytest.mark.parametrize(("mutations", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mutations: list[Callable[[dict], None]], expected: list[str]
) -> None:
    assert_rejected(write(tmp_path, config_with(*mutations)), expected, capsys)


def test_all_problems_reported_in_one_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = config_with(
        edit("agent.timezone", "Asia/Shenzhen"),
        edit("snmp.defaults.intervall", "30s"),
        edit("link_groups.0.links.0.capacity", "ten gig"),
    )
    assert_rejected(
        write(tmp_path, data),
        [
            "agent.timezone: unknown time zone 'Asia/Shenzhen' (use an IANA name such as Asia/Shanghai)",
            "snmp.defaults.intervall: unknown key 'intervall' (did you mean 'interval'?)",
            "link_groups[0].links[0].capacity: 'ten gig' is not a bit rate (use e.g. 10Gbit/s, 500Mbit/s)",
        ],
        capsys,
    )


def test_cross_reference_problems_reported_in_one_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = config_with(
        edit("link_groups.0.links.0.device", "rt9"),
        edit("kpis.0.link_group", "internet"),
        edit("kpis.0.target", "about 99"),
    )
    assert_rejected(
        write(tmp_path, data),
        [
            "link_groups[0].links[0].device: no device named 'rt9' in snmp.devices",
            "kpis[0].link_group: no link group named 'internet'",
            "kpis[0].target: 'about 99': a target starts with >=, >, <= or <, e.g. '>= 99%'",
        ],
        capsys,
    )


def test_field_and_cross_reference_problems_reported_in_one_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A field error used to stop the cross-checks: only the first line was printed.
    data = config_with(
        edit("snmp.devices.0.interval", "fast"),
        edit("kpis.0.link_group", "nope"),
        edit("kpis.1", {"id": "bogus"}),
    )
    known = ", ".join(sorted(BY_ID))
    assert_rejected(
        write(tmp_path, data),
        [
            "snmp.devices[0].interval: 'fast' is not a duration (use e.g. 30s, 5m, 2h, 1d or PT2H)",
            "kpis[0].link_group: no link group named 'nope'",
            f"kpis[1].id: unknown KPI 'bogus'; known: {known} (or give name, kind, unit, target)",
        ],
        capsys,
    )


@pytest.mark.parametrize(("change", "expected"), [
    # The link exists with a wrong field: the window naming it is fine.
    (edit("link_groups.0.links.0.capacity", "ten gig"),
     "link_groups[0].links[0].capacity: 'ten gig' is not a bit rate (use e.g. 10Gbit/s, 500Mbit/s)"),
    # A link's name cannot be read: the window may mean it, so it is not judged.
    (edit("link_groups.0.links.0.name", "c t"),
     "link_groups[0].links[0].name: String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$'"),
], ids=["field_error", "unreadable_name"])
def test_a_window_naming_a_broken_link_is_not_called_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Callable[[dict], None], expected: str
) -> None:
    window = edit("maintenance.0", {"name": "m", "links": ["ct"], "start": "2026-11-01T02:00:00",
                                    "end": "2026-11-01T04:00:00"})
    assert_rejected(write(tmp_path, config_with(change, window)), [expected], capsys)


def test_cloud_and_sms_polling_has_lower_bounds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cloud = {"type": "openstack", "name": "gov-cloud", "auth_url": "https://iam.example.gov.cn:5000/v3",
             "regions": ["r1"], "interval": "5s", "timeout": "500ms",
             "auth": {"type": "password", "username": "u", "password": "p", "project_name": "p"}}
    gateway = {"name": "gw", "url": "https://sms.example.gov.cn", "interval": "500ms", "timeout": "200ms",
               "canary": {"to": "+8613800000000", "interval": "5s", "timeout": "500ms"}}
    data = config_with(edit("clouds", [cloud]), edit("sms", [gateway]))
    assert_rejected(write(tmp_path, data), [
        "clouds[0].interval: 5s is below the minimum of 10s: each poll authenticates and reads every region's "
        "inventory, and capacity changes in days",
        "clouds[0].timeout: 0.5s is below the minimum of 1s: one poll is several HTTPS requests per region",
        "sms[0].interval: 0.5s is below the minimum of 1s: each poll reads the gateway's delivery-record feed from "
        "its cursor; nothing is missed between polls",
        "sms[0].timeout: 0.2s is below the minimum of 1s: one poll is one or more HTTPS requests",
        "sms[0].canary.interval: 5s is below the minimum of 10s: each probe sends a real text message",
        "sms[0].canary.timeout: 0.5s is below the minimum of 1s: a delivery report takes seconds to come back; "
        "shorter fails every probe",
    ], capsys)


def test_entries_with_field_errors_are_not_called_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # rt1 and internet_egress exist, each with a field error: the link naming rt1, the KPI and the
    # window naming internet_egress are fine; the second link's device really is missing.
    data = config_with(
        edit("snmp.devices.0.port", 0),
        edit("link_groups.0.links.0.capacity", "ten gig"),
        edit("link_groups.0.links.1", {"name": "cu", "device": "rt9", "if_name": "GE2"}),
        edit("maintenance.0", {"name": "m", "link_groups": ["internet_egress"],
                               "start": "2026-11-01T02:00:00", "end": "2026-11-01T04:00:00"}),
    )
    assert_rejected(
        write(tmp_path, data),
        [
            "snmp.devices[0].port: Input should be greater than or equal to 1",
            "link_groups[0].links[0].capacity: 'ten gig' is not a bit rate (use e.g. 10Gbit/s, 500Mbit/s)",
            "link_groups[0].links[1].device: no device named 'rt9' in snmp.devices",
        ],
        capsys,
    )


def test_an_unreadable_name_stops_only_the_checks_that_need_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The device's name is missing: any link may mean it, so no "no device named"; the link group
    # names are all known, so the KPI's dangling reference is still reported.
    data = config_with(
        edit("snmp.devices.0.name", delete=True),
        edit("link_groups.0.links.0.device", "rt9"),
        edit("kpis.0.link_group", "internet"),
    )
    assert_rejected(
        write(tmp_path, data),
        ["snmp.devices[0].name: Field required", "kpis[0].link_group: no link group named 'internet'"],
        capsys,
    )


def test_a_broken_section_does_not_hide_the_others(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # link_groups is not a list: nothing can be said about the KPI's link group (no "no link group
    # named" for it), but the unknown KPI id and the duplicate device are still reported.
    data = config_with(
        edit("link_groups", {"name": "internet_egress"}),
        edit("kpis.1", {"id": "bogus"}),
        edit("snmp.devices.1", {"name": "rt1", "address": "192.0.2.2"}),
    )
    known = ", ".join(sorted(BY_ID))
    assert_rejected(
        write(tmp_path, data),
        [
            "link_groups: expected a list",
            "snmp.devices[1].name: duplicate name 'rt1'",
            f"kpis[1].id: unknown KPI 'bogus'; known: {known} (or give name, kind, unit, target)",
        ],
        capsys,
    )


def test_checks_of_an_entry_with_an_unrelated_wrong_field_still_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The link's selector check does not read capacity; the v3 user check does not read interval.
    # The window's wrong duration is one its own check reads: no "needs ... duration" after it.
    data = config_with(
        edit("link_groups.0.links.0.capacity", "fast"),
        edit("link_groups.0.links.0.if_name", "GE1"),
        edit("snmp.devices.0.interval", "soon"),
        edit("snmp.devices.0.version", "v3"),
        edit("maintenance.0", {"name": "m", "rrule": "FREQ=WEEKLY", "dtstart": "2026-11-01T02:00:00",
                               "duration": "2 hours"}),
    )
    assert_rejected(
        write(tmp_path, data),
        [
            "snmp.devices[0].interval: 'soon' is not a duration (use e.g. 30s, 5m, 2h, 1d or PT2H)",
            "link_groups[0].links[0].capacity: 'fast' is not a bit rate (use e.g. 10Gbit/s, 500Mbit/s)",
            "maintenance[0].duration: '2 hours' is not a duration (use e.g. 30s, 5m, 2h, 1d or PT2H)",
            "link_groups[0].links[0]: give exactly one of if_name, if_descr, if_alias to choose the interface",
            "snmp.devices[0].user: SNMPv3 needs a user",
        ],
        capsys,
    )


@pytest.mark.parametrize(
    "data",
    [
        {"snmp": [1], "link_groups": [5, {"links": 7}], "kpis": [None], "clouds": "x", "sms": [{}]},
        {"snmp": {"defaults": 3, "devices": {"a": 1}}, "link_groups": [{"name": 1, "links": [None, 3, {"device": 5}]}]},
        {"snmp": None, "link_groups": None, "kpis": [{"id": "egress_link_availability", "link_group": "g"}],
         "maintenance": [{"name": "m", "link_groups": ["q"]}, 7]},
        {"kpis": [{"id": "bogus", "objective": 5}], "clouds": [{"type": "openstack"}], "sms": [{"name": "s"}]},
    ],
)
def test_malformed_sections_give_lines_not_tracebacks_nor_guesses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: dict
) -> None:
    path = write(tmp_path, data)
    problems = problems_of(path)
    assert problems and all(p.startswith(f"{path}: ") and "\n" not in p for p in problems)
    # Nothing is said about references into a section that did not validate.
    assert not any("no link group named" in p or "no device named" in p for p in problems)
    code, out, err = run_check(path, capsys)
    assert code == 2 and "Traceback" not in err


def test_yaml_timestamps_and_strings_both_work_for_windows(tmp_path: Path) -> None:
    text = ONE_DEVICE + (
        "maintenance:\n"
        "  - {name: a, start: 2026-11-01T02:00:00, end: 2026-11-01T04:00:00}\n"
        "  - {name: b, start: '2026-11-01 02:00', end: '2026-11-01 04:00'}\n"
    )
    config = load_config(write_text(tmp_path, text), env={})
    assert config.maintenance[0].start == config.maintenance[1].start


def test_window_mixing_aware_and_naive_times_is_one_line(tmp_path: Path) -> None:
    text = ONE_DEVICE + "maintenance:\n  - {name: m, start: 2026-11-01T02:00:00+08:00, end: 2026-11-01T04:00:00}\n"
    path = write_text(tmp_path, text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: maintenance[0]")


def test_rrule_until_in_utc_is_accepted(tmp_path: Path) -> None:
    window = {"name": "m", "rrule": "FREQ=WEEKLY;UNTIL=20261231T160000Z", "dtstart": "2026-11-01T02:00:00",
              "duration": "2h", "timezone": "Asia/Shanghai"}
    load_config(write(tmp_path, config_with(edit("maintenance.0", window))), env={})


def test_rrule_interval_zero_is_rejected(tmp_path: Path) -> None:
    window = {"name": "m", "rrule": "FREQ=DAILY;INTERVAL=0", "dtstart": "2026-11-01T02:00:00", "duration": "2h"}
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, config_with(edit("maintenance.0", window))), env={})


# --- SNMPv3 keys --------------------------------------------------------------------------------


def v3_device(**fields: Any) -> dict:
    return {"name": "rt1", "address": "192.0.2.1", "version": "v3", "user": "sla-agent", **fields}


def test_v3_auth_priv_is_accepted(tmp_path: Path) -> None:
    device = v3_device(auth_protocol="sha", auth_key="${AUTH}", priv_protocol="aes", priv_key="${PRIV}")
    config = load_config(write(tmp_path, config_with(edit("snmp.devices.0", device))),
                         env={"AUTH": SECRETS["SNMP_V3_AUTH_KEY"], "PRIV": SECRETS["SNMP_V3_PRIV_KEY"]})
    rt1 = config.device("rt1")
    assert rt1.auth_key is not None and rt1.auth_key.get_secret_value() == SECRETS["SNMP_V3_AUTH_KEY"]
    assert rt1.priv_key is not None and rt1.priv_key.get_secret_value() == SECRETS["SNMP_V3_PRIV_KEY"]


def test_v3_short_key_is_rejected_without_showing_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    device = v3_device(auth_protocol="sha", auth_key="Sh0rt!")
    path = write(tmp_path, config_with(edit("snmp.devices.0", device)))
    # The path should end in .auth_key; see test_v3_key_problems_point_at_the_key.
    assert_rejected(path, ["snmp.devices[0].auth_key: SNMPv3 keys must be at least 8 characters"], capsys)
    _, out, err = run_check(path, capsys)
    assert "Sh0rt!" not in out + err


def test_v3_priv_without_auth_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    device = v3_device(priv_protocol="aes", priv_key="long-enough-key")
    path = write(tmp_path, config_with(edit("snmp.devices.0", device)))
    assert_rejected(
        path, ["snmp.devices[0].priv_key: needs auth_key: SNMPv3 has no privacy without authentication"], capsys
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"auth_key": "Sh0rt!"}, "snmp.devices[0].auth_key: SNMPv3 keys must be at least 8 characters"),
        ({"auth_key": "long-enough-key", "priv_key": "Sh0rt!"},
         "snmp.devices[0].priv_key: SNMPv3 keys must be at least 8 characters"),
        ({"priv_key": "long-enough-key"},
         "snmp.devices[0].priv_key: needs auth_key: SNMPv3 has no privacy without authentication"),
    ],
    ids=["auth_short", "priv_short", "priv_without_auth"],
)
def test_v3_key_problems_point_at_the_key(tmp_path: Path, fields: dict, expected: str) -> None:
    path = write(tmp_path, config_with(edit("snmp.devices.0", v3_device(**fields))))
    assert problems_of(path) == [f"{path}: {expected}"]


# --- secrets ------------------------------------------------------------------------------------


def test_env_expansion_uses_the_env_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNMP_COMMUNITY", "from-os-environ")
    data = config_with(edit("snmp.defaults.community", "${SNMP_COMMUNITY}"))
    config = load_config(write(tmp_path, data), env={"SNMP_COMMUNITY": SECRETS["SNMP_COMMUNITY"]})
    assert config.snmp.defaults.community is not None
    assert config.snmp.defaults.community.get_secret_value() == SECRETS["SNMP_COMMUNITY"]


def test_env_mapping_form(tmp_path: Path) -> None:
    data = config_with(edit("snmp.devices.0.community", {"env": "RT1_COMMUNITY"}))
    config = load_config(write(tmp_path, data), env={"RT1_COMMUNITY": SECRETS["SNMP_COMMUNITY"]})
    assert config.device("rt1").community.get_secret_value() == SECRETS["SNMP_COMMUNITY"]  # type: ignore[union-attr]


def test_cli_reads_os_environ(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, config_with(edit("snmp.defaults.community", "${SNMP_COMMUNITY}")))
    monkeypatch.delenv("SNMP_COMMUNITY", raising=False)
    code, _, err = run_check(path, capsys)
    assert code == 2
    assert err == f"{path}: snmp.defaults.community: environment variable SNMP_COMMUNITY is not set\n"
    monkeypatch.setenv("SNMP_COMMUNITY", SECRETS["SNMP_COMMUNITY"])
    code, out, err = run_check(path, capsys)
    assert (code, err) == (0, "")
    assert SECRETS["SNMP_COMMUNITY"] not in out


def test_missing_env_var_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = config_with(edit("snmp.devices.0.community", "${RT1_COMMUNITY}"))
    assert_rejected(
        write(tmp_path, data),
        ["snmp.devices[0].community: environment variable RT1_COMMUNITY is not set"],
        capsys,
        env=SECRETS,
    )


def test_file_secret_is_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf_dir = tmp_path / "etc"
    conf_dir.mkdir()
    (conf_dir / "community.txt").write_text(SECRETS["SNMP_COMMUNITY"] + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the config's directory
    data = config_with(edit("snmp.defaults.community", {"file": "community.txt"}))
    config = load_config(write(conf_dir, data), env={})
    # The trailing newline an editor adds is not part of the secret.
    assert config.snmp.defaults.community.get_secret_value() == SECRETS["SNMP_COMMUNITY"]  # type: ignore[union-attr]


def test_missing_secret_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = config_with(edit("snmp.defaults.community", {"file": "secrets/community.txt"}))
    missing = tmp_path / "secrets" / "community.txt"
    assert_rejected(
        write(tmp_path, data),
        [f"snmp.defaults.community: cannot read secret file {missing}: No such file or directory"],
        capsys,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12345, "a secret must be a string, ${ENV_VAR}, {env: NAME} or {file: PATH}"),
        ({"file": "a", "env": "B"}, "a secret is a string, ${ENV_VAR}, {env: NAME} or {file: PATH}"),
    ],
    ids=["number", "two_sources"],
)
def test_malformed_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str], value: Any, expected: str) -> None:
    data = config_with(edit("snmp.devices.0.community", value))
    assert_rejected(write(tmp_path, data), [f"snmp.devices[0].community: {expected}"], capsys)


def test_non_utf8_secret_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "community.bin").write_bytes(b"\xffS3CRET")
    path = write(tmp_path, config_with(edit("snmp.defaults.community", {"file": "community.bin"})))
    [problem] = problems_of(path)
    assert str(tmp_path / "community.bin") in problem
    assert "0xff" not in problem


def test_secrets_never_appear_in_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Secrets resolve fine but the config has problems: no message may quote a secret."""
    (tmp_path / "priv.txt").write_text(SECRETS["SNMP_V3_PRIV_KEY"], encoding="utf-8")
    data = config_with(
        edit("snmp.defaults.community", "${SNMP_COMMUNITY}"),
        # A v3 key that is too short is itself a secret.
        edit("snmp.devices.0", v3_device(auth_protocol="sha", auth_key="tiny-S3", priv_key={"file": "priv.txt"})),
        # A misspelt secret key: refused, but its value must not be quoted.
        edit("snmp.devices.1", {"name": "rt2", "address": "192.0.2.2", "comunity": SECRETS["SNMP_COMMUNITY"]}),
        edit("snmp.devices.2", {"name": "rt3", "address": "192.0.2.3", "version": "v3", "user": "u",
                                "auth_key": "${SNMP_V3_AUTH_KEY}", "priv_key": 42}),
    )
    path = write(tmp_path, data)
    problems = problems_of(path, env=SECRETS)
    assert len(problems) == 3
    secrets = [*SECRETS.values(), "tiny-S3"]
    for problem in problems:
        for secret in secrets:
            assert secret not in problem
    # The same through the CLI, which reads os.environ.
    with pytest.MonkeyPatch.context() as mp:
        for name, value in SECRETS.items():
            mp.setenv(name, value)
        code, out, err = run_check(path, capsys)
    assert code == 2
    assert err.splitlines() == problems
    for secret in secrets:
        assert secret not in out + err


def test_cross_check_problems_do_not_quote_secrets(tmp_path: Path) -> None:
    data = config_with(
        edit("snmp.defaults.community", "${SNMP_COMMUNITY}"),
        edit("link_groups.0.links.0.device", "rt9"),
        edit("kpis.0.target", "about 99"),
    )
    problems = problems_of(write(tmp_path, data), env=SECRETS)
    assert len(problems) == 2
    assert not any(SECRETS["SNMP_COMMUNITY"] in p for p in problems)


def test_secrets_never_appear_in_repr_or_str(tmp_path: Path) -> None:
    (tmp_path / "priv.txt").write_text(SECRETS["SNMP_V3_PRIV_KEY"], encoding="utf-8")
    data = config_with(
        edit("snmp.defaults.community", "${SNMP_COMMUNITY}"),
        edit("snmp.devices.1", v3_device(name="rt2", auth_protocol="sha", auth_key="${SNMP_V3_AUTH_KEY}",
                                          priv_protocol="aes", priv_key={"file": "priv.txt"})),
    )
    config = load_config(write(tmp_path, data), env=SECRETS)
    rt2 = config.device("rt2")
    assert rt2.priv_key is not None and rt2.priv_key.get_secret_value() == SECRETS["SNMP_V3_PRIV_KEY"]
    renderings = [repr(config), str(config), repr(rt2), str(rt2), repr(config.snmp.defaults),
                  config.model_dump_json(), str(config.model_dump())]
    for text in renderings:
        for secret in SECRETS.values():
            assert secret not in text
    assert "**********" in repr(rt2)


# --- examples/center.yaml ---------------------------------------------------------------------

CENTER_ENV = {"SNMP_COMMUNITY": SECRETS["SNMP_COMMUNITY"], "SNMP_V3_AUTH_KEY": SECRETS["SNMP_V3_AUTH_KEY"],
              "GOV_CLOUD_APP_CRED_ID": "4c1b2e0f9a7d", "GOV_CLOUD_APP_CRED_SECRET": "cloud-S3cret-value",
              "SMS_GATEWAY_KEY": "sms-gw-S3cret-value"}
CENTER_PRIV_PATH = "/run/secrets/snmp_v3_priv"


@pytest.fixture
def center_copy(tmp_path: Path) -> Path:
    """examples/center.yaml with the v3 privacy key file moved into tmp_path."""
    text = CENTER.read_text(encoding="utf-8")
    assert text.count(f"{{file: {CENTER_PRIV_PATH}}}") == 2  # (the header comment names it too)
    priv = tmp_path / "snmp_v3_priv"
    priv.write_text(SECRETS["SNMP_V3_PRIV_KEY"] + "\n", encoding="utf-8")
    return write_text(tmp_path, text.replace(CENTER_PRIV_PATH, str(priv)), name="center.yaml")


def test_center_example_loads(center_copy: Path) -> None:
    config = load_config(center_copy, env=CENTER_ENV)
    assert config.agent.listen == "127.0.0.1:9877"
    assert str(config.agent.data_dir) == "/var/lib/sla-agent"
    assert config.agent.timezone == "Asia/Shanghai"
    assert [d.name for d in config.snmp.devices] == ["egress-rt-01", "egress-rt-02", "mobile-fw-01"]
    for name in ("egress-rt-01", "egress-rt-02"):
        device = config.device(name)
        assert (device.version, device.auth_protocol, device.priv_protocol) == ("v3", "sha", "aes")
        assert device.auth_key.get_secret_value() == SECRETS["SNMP_V3_AUTH_KEY"]  # type: ignore[union-attr]
        assert device.priv_key.get_secret_value() == SECRETS["SNMP_V3_PRIV_KEY"]  # type: ignore[union-attr]
    assert config.device("mobile-fw-01").version is None  # v2c from snmp.defaults
    assert config.snmp.defaults.community.get_secret_value() == SECRETS["SNMP_COMMUNITY"]  # type: ignore[union-attr]

    gbit = 1e9 / 8
    egress = config.link_group("internet_egress")
    assert [link.capacity for link in egress.links] == [10 * gbit, 10 * gbit, 5 * gbit]
    # Losing either 10G link still leaves the 15G of the evaluation table.
    assert sum(link.capacity or 0 for link in egress.links) - 10 * gbit >= 15 * gbit
    assert [link.capacity for link in config.link_group("mobile_office").links] == [gbit, gbit]

    assert {(k.id, k.link_group) for k in config.kpis} == {
        ("egress_bandwidth", "internet_egress"),
        ("egress_link_availability", "internet_egress"),
        ("mobile_office_link_availability", "mobile_office"),
        ("cloud_vcpu_capacity", None), ("cloud_memory_capacity", None), ("cloud_storage_capacity", None),
        ("sms_delivery_rate", None), ("sms_send_latency", None), ("sms_annual_volume", None),
    }
    (sms,) = config.sms
    assert (sms.name, sms.grace) == ("gov-sms", 72 * 3600.0)
    assert sms.api_key.get_secret_value() == "sms-gw-S3cret-value"  # type: ignore[union-attr]
    monthly, one_off = config.maintenance
    assert (monthly.rrule, monthly.duration, monthly.link_groups) == ("FREQ=MONTHLY;BYDAY=1SU", 7200.0, ("internet_egress",))
    assert one_off.rrule is None and one_off.link_groups == ("mobile_office",)


def test_center_example_passes_check(
    center_copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in CENTER_ENV.items():
        monkeypatch.setenv(name, value)
    code, out, err = run_check(center_copy, capsys)
    assert (code, err) == (0, "")
    assert out == f"{center_copy}: ok (3 devices, 2 link groups, 5 links, 1 clouds, 1 SMS gateways, 0 probes, 0 power units, 0 security scans, 9 KPIs, 2 maintenance windows)\n"
    for secret in SECRETS.values():
        assert secret not in out


@pytest.mark.skipif(Path(CENTER_PRIV_PATH).exists(), reason="the real secret file is present")
def test_center_example_as_shipped_only_lacks_the_secret_file() -> None:
    expected = f"cannot read secret file {CENTER_PRIV_PATH}: No such file or directory"
    assert problems_of(CENTER, env=CENTER_ENV) == [
        f"{CENTER}: snmp.devices[0].priv_key: {expected}",
        f"{CENTER}: snmp.devices[1].priv_key: {expected}",
    ]


def test_center_example_without_env_names_the_variables() -> None:
    problems = problems_of(CENTER, env={})
    assert f"{CENTER}: snmp.defaults.community: environment variable SNMP_COMMUNITY is not set" in problems
    assert f"{CENTER}: snmp.devices[0].auth_key: environment variable SNMP_V3_AUTH_KEY is not set" in problems


# --- agent.units ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("5min", 300), ("2h", 7200), ("1d", 86400), ("1w", 604800), ("250ms", 0.25),
     ("PT2H", 7200), ("pt30m", 1800), ("P1DT2H", 93600), ("PT0.5S", 0.5), (" 30 s ", 30), (45, 45), (1.5, 1.5)],
)
def test_parse_duration(text: Any, seconds: float) -> None:
    assert units.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5 minutes", "30", "P", "PT", "2h30m", "-5s", "", "0s", True, None, [30]])
def test_parse_duration_rejects(text: Any) -> None:
    with pytest.raises(ValueError):
        units.parse_duration(text)


@pytest.mark.parametrize(
    ("text", "bytes_per_second"),
    [("10G", 1.25e9), ("10Gbit/s", 1.25e9), ("10 Gbps", 1.25e9), ("100 Mbps", 12.5e6), ("500Mbit/s", 62.5e6),
     ("1.5g", 187.5e6), ("64kbit/s", 8000), ("1T", 1.25e11), (1000, 125), ("800", 100)],
)
def test_parse_bit_rate(text: Any, bytes_per_second: float) -> None:
    assert units.parse_bit_rate(text) == pytest.approx(bytes_per_second)


@pytest.mark.parametrize("text", ["ten gig", "10GB/s", "10 Gibit/s", "-1G", "0", 0, False, "10X"])
def test_parse_bit_rate_rejects(text: Any) -> None:
    with pytest.raises(ValueError):
        units.parse_bit_rate(text)


@pytest.mark.parametrize(
    ("text", "unit", "op", "value"),
    [
        ("≥99%", "ratio", ">=", 0.99),
        (">= 99%", "ratio", ">=", 0.99),
        (">=0.999", "ratio", ">=", 0.999),
        ("＞90%", "ratio", ">", 0.90),
        (">= 15Gbit/s", "bytes_per_second", ">=", 1.875e9),
        ("≥15G", "bytes_per_second", ">=", 1.875e9),
        ("<=10s", "seconds", "<=", 10.0),
        ("≤ PT1M", "seconds", "<=", 60.0),
        ("=> 2499", "count", ">=", 2499.0),
        ("< 1", "count", "<", 1.0),
        (">= 4000TB", "bytes", ">=", 4e15),
    ],
)
def test_parse_target(text: str, unit: str, op: str, value: float) -> None:
    target = units.parse_target(text, unit)
    assert (target.op, target.text) == (op, text.strip())
    assert target.value == pytest.approx(value)


def test_target_comparison() -> None:
    assert units.parse_target("≥99%", "ratio").met_by(0.99)
    assert not units.parse_target("≥99%", "ratio").met_by(0.9899)
    assert not units.parse_target("<10s", "seconds").met_by(10.0)
    assert units.parse_target("<=10s", "seconds").met_by(10.0)


@pytest.mark.parametrize(
    ("text", "unit"),
    [("about 99", "ratio"), ("99%", "ratio"), (">= 99", "ratio"), (">= fast", "seconds"), (">= 15 apples", "bytes_per_second"),
     (99, "ratio"), ("= 5", "count")],
)
def test_parse_target_rejects(text: Any, unit: str) -> None:
    with pytest.raises(ValueError):
        units.parse_target(text, unit)


# --- kpi_definition ---------------------------------------------------------------------------------


def test_kpi_definition_defaults_to_the_catalogue() -> None:
    definition = kpi_definition(KpiConfig(id="egress_bandwidth", link_group="internet_egress"))
    assert definition == BY_ID["egress_bandwidth"]


def test_kpi_definition_overrides() -> None:
    kpi = KpiConfig(id="egress_bandwidth", link_group="internet_egress", target=">= 20Gbit/s", objective=0.95,
                    name_en="Internet egress bandwidth", category=("产出指标", "质量指标"))
    definition = kpi_definition(kpi)
    base = BY_ID["egress_bandwidth"]
    assert definition.name_zh == base.name_zh == "出口可用宽带"
    assert definition.name_en == "Internet egress bandwidth"
    assert (definition.level1, definition.level2) == ("产出指标", "质量指标")
    # An overridden target is shown as written, not as the table's "≥15G".
    assert definition.target == definition.target_text == ">= 20Gbit/s"
    assert definition.objective == 0.95
    assert (definition.kind, definition.unit, definition.source) == (base.kind, base.unit, base.source)


def test_kpi_definition_override_from_file(tmp_path: Path) -> None:
    data = config_with(edit("kpis.0.target", ">= 99.5%"))
    config = load_config(write(tmp_path, data), env={})
    definition = kpi_definition(config.kpis[0])
    assert definition.target == ">= 99.5%"
    assert units.parse_target(definition.target, definition.unit).value == pytest.approx(0.995)
    assert definition.name_zh == "政务外网统一互联网出口链路可用率"


def test_config_type_is_exported() -> None:
    assert Config.model_config.get("frozen") is True


def _cloud_problems(data):
    try:
        parse_config(data, "c.yaml", env={})
    except ConfigError as exc:
        return exc.problems
    return []


def test_cloud_kpi_cross_checks():
    cloud = {"type": "generic", "name": "mo", "url": "http://127.0.0.1:1/x",
             "mapping": {"vcpu": {"capacity": "a", "unit": "cores"}}}
    assert _cloud_problems({"kpis": [{"id": "cloud_vcpu_capacity"}]}) == [
        "c.yaml: kpis[0].id: cloud_vcpu_capacity needs at least one entry in clouds"]
    assert _cloud_problems({"clouds": [cloud], "kpis": [{"id": "cloud_vcpu_capacity", "clouds": ["gov"]}]}) == [
        "c.yaml: kpis[0].clouds: no cloud named 'gov'"]
    assert _cloud_problems({"clouds": [cloud], "kpis": [{"id": "cloud_vcpu_capacity", "link_group": "x"}]}) == [
        "c.yaml: kpis[0].link_group: cloud_vcpu_capacity measures clouds, not a link group"]
    assert _cloud_problems({"clouds": [cloud, cloud], "kpis": []}) == ["c.yaml: clouds[1].name: duplicate cloud name 'mo'"]
    assert _cloud_problems({"clouds": [cloud], "kpis": [{"id": "cloud_vcpu_capacity"}]}) == []


def test_generic_cloud_body_with_get_is_refused():
    cloud = {"type": "generic", "name": "mo", "url": "http://127.0.0.1:1/x", "method": "GET", "body": {"a": 1},
             "mapping": {"vcpu": {"capacity": "a", "unit": "cores"}}}
    assert _cloud_problems({"clouds": [cloud]}) == [
        "c.yaml: clouds[0].body: a body is only sent with method: POST (this cloud uses GET)"]
    assert _cloud_problems({"clouds": [{**cloud, "method": "POST"}]}) == []


def test_union_members_do_not_show_in_paths():
    cloud = {"type": "openstack", "name": "gov", "auth_url": "http://127.0.0.1:5000/v3", "regions": ["a"],
             "auth": {"type": "application_credential", "id": "x", "secret": "${NOPE}"}}
    assert _cloud_problems({"clouds": [cloud]}) == [
        "c.yaml: clouds[0].auth.secret: environment variable NOPE is not set"]


# --- ${...} outside secrets -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "shown"),
    [
        ("snmp:\n  devices:\n    - {name: rt1, address: '${RT1_ADDRESS}', community: c}\n",
         "snmp.devices[0].address", "${RT1_ADDRESS}"),
        ("agent:\n  data_dir: /var/lib/${INSTANCE}/sla\n" + ONE_DEVICE, "agent.data_dir", "${INSTANCE}"),
        ("clouds:\n  - {type: openstack, name: c, auth_url: 'https://iam.example:5000/v3', regions: [r],\n"
         "     auth: {type: password, username: '${CLOUD_USER}', password: pw, project_name: p}}\n",
         "clouds[0].auth.username", "${CLOUD_USER}"),
    ],
)
def test_a_reference_outside_a_secret_is_refused_even_with_the_variable_set(tmp_path, text, where, shown):
    """Only secrets read the environment: anywhere else ${VAR} would be used as written."""
    path = write_text(tmp_path, text)
    env = {"RT1_ADDRESS": "192.0.2.1", "INSTANCE": "a", "CLOUD_USER": "u"}
    assert problems_of(path, env) == [
        f"{path}: {where}: {shown} is not resolved here: only secrets (communities, keys, passwords, tokens) "
        "read the environment; write the value itself"]
    with pytest.raises(ConfigError) as info:
        load_config_without_secrets(path)
    assert [p.split(": ")[1] for p in info.value.problems] == [where]


def test_unknown_keys_suggest_the_nearest_key_of_their_own_model(tmp_path):
    text = ("clouds:\n  - {type: openstack, name: c, auth_url: 'https://iam.example:5000/v3', regions: [r],\n"
            "     auth: {type: application_credential, idd: x, secret: s}}\n")
    path = write_text(tmp_path, text)
    assert f"{path}: clouds[0].auth.idd: unknown key 'idd' (did you mean 'id'?)" in problems_of(path)
    path = write_text(tmp_path, ONE_DEVICE + "agent:\n  zzz: 1\n")
    assert problems_of(path) == [
        f"{path}: agent.zzz: unknown key 'zzz'; known keys: listen, data_dir, timezone, kpi_interval, "
        "web_config_file, max_connections, idle_timeout, shard"]


def test_links_share_their_set_of_given_fields_and_a_copy_does_not_touch_it(tmp_path: Path) -> None:
    # agent/schema.py Model: one set per distinct combination of given fields (memory at 60,000 links).
    text = ("snmp:\n  devices: [{name: rt1, address: 192.0.2.1, community: c}]\n"
            "link_groups:\n  - name: egress\n    links:\n"
            "      - {name: a, device: rt1, if_name: x}\n      - {name: b, device: rt1, if_name: y}\n"
            "      - {name: c, device: rt1, if_name: z, capacity: 1Gbit/s}\n")
    a, b, c = load_config(write_text(tmp_path, text), env={}).link_groups[0].links
    assert a.model_fields_set is b.model_fields_set and a.model_fields_set == {"name", "device", "if_name"}
    assert c.model_fields_set == {"name", "device", "if_name", "capacity"}
    copied = a.model_copy(update={"capacity": 1e9})
    assert copied.model_fields_set == {"name", "device", "if_name", "capacity"}
    assert a.model_fields_set == b.model_fields_set == {"name", "device", "if_name"}


def test_every_path_in_the_config_is_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CA files, the scan directory and the inventory read from the config's directory, not the cwd."""
    conf_dir = tmp_path / "etc"
    conf_dir.mkdir()
    (conf_dir / "cmdb.csv").write_text("name,address,type,organisation,credentials\nr9,127.0.0.1,router,org,c\n",
                                       encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    from agent.config import parse_config

    config = parse_config({
        "snmp": {"inventory": {"file": "cmdb.csv", "credentials": {"c": {"community": "public"}}}},
        "clouds": [{"type": "openstack", "name": "gc", "auth_url": "https://127.0.0.1:1/v3", "regions": ["r1"],
                    "auth": {"type": "password", "username": "u", "password": "p", "project_name": "x"},
                    "ca_file": "ca/cloud.pem"}],
        "probes": [{"name": "code", "url": "https://127.0.0.1:1/code", "ca_file": "ca/app.pem"}],
        "security_scans": [{"name": "portal", "directory": "zap"}],
    }, str(conf_dir / "sla.yaml"), env={}, base_dir=conf_dir)
    assert config.clouds[0].ca_file == conf_dir / "ca/cloud.pem"
    assert config.probes[0].ca_file == conf_dir / "ca/app.pem"
    assert config.security_scans[0].directory == conf_dir / "zap"
    assert [d.name for d in config.snmp.devices] == ["r9"]
    absolute = parse_config({"probes": [{"name": "code", "url": "https://127.0.0.1:1/c", "ca_file": "/etc/ca.pem"}]},
                            "x.yaml", env={}, base_dir=conf_dir)
    assert absolute.probes[0].ca_file == Path("/etc/ca.pem")
