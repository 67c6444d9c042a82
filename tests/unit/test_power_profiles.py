"""Power profiles: the bundled files, validation errors naming file and key, and a poll judged against one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agent.schema import ConfigError
from collectors.power.judge import any_of, judge
from collectors.power.profile import bundled, check_reference, load_profile, parse_profile
from collectors.snmp.ber import Missing
from collectors.snmp.oids import parse

OUTPUT_SOURCE, BATTERY, LINE_BADS, ALARMS = (parse(f"1.3.6.1.2.1.33.1.{leaf}.1.0") for leaf in (4, 2, 3, 6))


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_profile(yaml.safe_load(text), "site", "site.yaml")
    return caught.value.problems


def test_the_bundled_profiles_load():
    assert bundled() == ["cabinet-generic", "ups-rfc1628"]
    ups = load_profile("ups-rfc1628")
    assert ups.conditions == ("output_off", "bypass", "on_battery", "battery_low", "alarm", "input_failure")
    assert ups.oids == (OUTPUT_SOURCE, BATTERY, ALARMS, LINE_BADS)  # each OID once, though three rows read one
    cabinet = load_profile("cabinet-generic")
    assert cabinet.conditions == ("breaker_open", "phase_loss", "alarm", "input_failure", "surge_protector")
    assert [c.optional for c in cabinet.checks if c.condition == "surge_protector"] == [True]


@pytest.mark.parametrize("text, expected", [
    ("conditions: []", "site.yaml: conditions: a profile needs at least one condition"),
    ("conditions: [{name: x, oid: 1.3.6.1.4.1.1.0}]",
     "site.yaml: conditions[0]: give exactly one of fault_when_in, fault_when_above, counter_increase: true"),
    ("conditions: [{name: x, oid: 1.3.6.1.4.1.1.0, fault_when_in: [2], fault_when_above: 0}]",
     "site.yaml: conditions[0]: give exactly one of fault_when_in, fault_when_above, counter_increase: true "
     "(found fault_when_in, fault_when_above)"),
    ("conditions: [{name: x, oid: 1.3.six.1, fault_when_in: [2]}]",
     "site.yaml: conditions[0].oid: '1.3.six.1' is not a numeric OID (e.g. 1.3.6.1.2.1.33.1.4.1.0)"),
    ("conditions: [{name: fault, oid: 1.3.6.1.4.1.1.0, counter_increase: true}]",
     "site.yaml: conditions[0].name: 'fault' is the unit's own series: name the condition after what it means"),
    ("conditions: [{name: On-Battery, oid: 1.3.6.1.4.1.1.0, counter_increase: true}]",
     "site.yaml: conditions[0].name: String should match pattern '^[a-z][a-z0-9_]{0,31}$'"),
    ("conditions: [{name: x, oid: 1.3.6.1.4.1.1.0, fault_when_in: [true]}]",
     "site.yaml: conditions[0].fault_when_in[0]: True: a state is an integer (an enumeration's value) or a text"),
    ("conditions: [{name: x, oid: 1.3.6.1.4.1.1.0, fault_when_in: []}]",
     "site.yaml: conditions[0]: fault_when_in: list at least one value"),
    ("conditions: [{name: x, oid: 1.3.6.1.4.1.1.0, fault_when_abov: 1}]",
     "site.yaml: conditions[0].fault_when_abov: unknown key 'fault_when_abov' (did you mean 'fault_when_above'?)"),
    ("conditions: [{name: x, oid: 1.3.6.1.4.1.1.0, counter_increase: true}]\nreadings: {voltage: 1.3.6.1.4.1.1.0}",
     "site.yaml: readings.voltage: Input should be 'output_source', 'battery_status', 'alarms_present', "
     "'input_line_bads' or 'breaker_state'"),
])
def test_a_wrong_profile_is_one_line_naming_the_file_and_key(text, expected):
    found = problems(text)
    assert expected in found and all("\n" not in p for p in found), found


def test_a_repeated_row_and_a_profile_that_is_not_a_mapping():
    text = "conditions: [{name: x, oid: 1.3.6.1.4.1.1.0, fault_when_above: 0}, {name: x, oid: 1.3.6.1.4.1.1.0, " \
           "fault_when_above: 1}]"
    assert problems(text) == ["site.yaml: conditions: x reads 1.3.6.1.4.1.1.0 twice"]
    assert problems("[1, 2]") == ["site.yaml: (top level): expected a mapping with conditions (and readings)"]


def test_a_unit_names_a_bundled_profile_or_a_file_of_its_own(tmp_path: Path):
    assert check_reference("ups-rfc1628", tmp_path) == "ups-rfc1628"
    with pytest.raises(ValueError, match=r"^no bundled power profile named 'ups' \(bundled: cabinet-generic, "
                                         r"ups-rfc1628; a file of your own ends in \.yaml\)$"):
        check_reference("ups", tmp_path)
    own = tmp_path / "profiles" / "vendor-x.yaml"
    own.parent.mkdir()
    own.write_text("conditions:\n  - {name: breaker_open, oid: 1.3.6.1.4.1.99.1.0, fault_when_in: [OPEN]}\n",
                   encoding="utf-8")
    resolved = check_reference("profiles/vendor-x.yaml", tmp_path)  # relative to the config's directory
    assert resolved == str(own.resolve()) and load_profile(resolved).conditions == ("breaker_open",)
    own.write_text("conditions:\n  - {name: breaker_open, oid: 1.3.6.1.4.1.99.1.0}\n  - {name: b, oid: x}\n",
                   encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        check_reference("profiles/vendor-x.yaml", tmp_path)  # edited: read again
    assert str(caught.value) == (f"{own.resolve()}: conditions[0]: give exactly one of fault_when_in, "
                                 "fault_when_above, counter_increase: true (and 1 more problem in the file)")
    own.write_text("conditions: [\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"vendor-x\.yaml: line 2, column 1: invalid YAML"):
        check_reference(str(own), tmp_path)
    with pytest.raises(ValueError, match=r"none\.yaml: cannot read: No such file or directory$"):
        check_reference("none.yaml", tmp_path)


UPS = load_profile("ups-rfc1628")


def ups_values(source: int = 3, battery: int = 2, alarms: int = 0, bads: int = 0) -> dict:
    return {OUTPUT_SOURCE: source, BATTERY: battery, ALARMS: alarms, LINE_BADS: bads}


@pytest.mark.parametrize("source, held", [(1, set()), (2, {"output_off"}), (3, set()), (4, {"bypass"}),
                                          (5, {"on_battery"}), (6, set()), (7, set())])
def test_the_ups_output_source(source, held):
    verdict = judge(UPS, ups_values(source), {})
    assert {c for c, v in verdict.conditions.items() if v == 1.0} == held
    assert verdict.fault == (1.0 if held else 0.0)


def test_battery_and_alarms():
    assert judge(UPS, ups_values(battery=3), {}).conditions["battery_low"] == 1.0
    assert judge(UPS, ups_values(battery=4), {}).conditions["battery_low"] == 1.0
    assert judge(UPS, ups_values(battery=1), {}).fault == 0.0  # unknown(1) is the UPS's own word, not a fault
    assert judge(UPS, ups_values(alarms=2), {}).conditions["alarm"] == 1.0


def test_the_input_line_bads_counter_is_an_event_per_increase():
    first = judge(UPS, ups_values(bads=7), {})
    assert first.conditions["input_failure"] == 0.0 and first.fault == 0.0  # a baseline, not an event
    up = judge(UPS, ups_values(bads=9), first.baselines)
    assert up.conditions["input_failure"] == 1.0 and up.fault == 1.0 and up.discontinuities == 0
    same = judge(UPS, ups_values(bads=9), up.baselines)
    assert same.conditions["input_failure"] == 0.0 and same.fault == 0.0
    down = judge(UPS, ups_values(bads=0), same.baselines)  # the card restarted
    assert (down.conditions["input_failure"], down.fault, down.discontinuities) == (0.0, 0.0, 1)
    # A poll without the counter keeps the baseline: the increase shows on the next that has it.
    missing = judge(UPS, {**ups_values(), LINE_BADS: Missing.NO_SUCH_OBJECT}, down.baselines)
    assert missing.conditions["input_failure"] is None and missing.fault is None
    assert judge(UPS, ups_values(bads=1), missing.baselines).conditions["input_failure"] == 1.0


def test_a_missing_oid_is_unknown_unless_a_fault_is_known_anyway():
    gone = {**ups_values(), ALARMS: Missing.NO_SUCH_INSTANCE}
    verdict = judge(UPS, gone, {})
    assert verdict.conditions["alarm"] is None and verdict.fault is None  # never "normal" on what was not read
    on_battery = judge(UPS, {**gone, OUTPUT_SOURCE: 5}, {})
    assert on_battery.conditions["alarm"] is None and on_battery.fault == 1.0
    assert judge(UPS, {}, {}).fault is None  # nothing answered at all


def test_an_optional_oid_absent_never_holds_and_rows_of_one_condition_combine():
    cabinet = load_profile("cabinet-generic")
    base = {check.oid: 1 for check in cabinet.checks}
    base.update({parse("1.3.6.1.4.1.32473.5.1.3.0"): 0, parse("1.3.6.1.4.1.32473.5.1.4.0"): 0})
    del base[parse("1.3.6.1.4.1.32473.5.1.5.0")]  # no surge protector state on this card
    verdict = judge(cabinet, base, {})
    assert verdict.fault == 0.0 and verdict.conditions["surge_protector"] == 0.0
    phase_b = parse("1.3.6.1.4.1.32473.5.1.2.2.0")
    assert judge(cabinet, {**base, phase_b: 2}, {}).conditions["phase_loss"] == 1.0
    assert judge(cabinet, {**base, phase_b: Missing.NO_SUCH_OBJECT}, {}).conditions["phase_loss"] is None


def test_a_text_state():
    text = "conditions: [{name: breaker_open, oid: 1.3.6.1.4.1.99.1.0, fault_when_in: [OPEN, TRIP]}]"
    profile = parse_profile(yaml.safe_load(text), "site", "site.yaml")
    oid = parse("1.3.6.1.4.1.99.1.0")
    assert judge(profile, {oid: b"TRIP "}, {}).fault == 1.0
    assert judge(profile, {oid: b"CLOSED"}, {}).fault == 0.0
    assert judge(profile, {oid: 2}, {}).fault == 0.0


def test_three_valued_or():
    assert any_of([0.0, None, 1.0]) == 1.0
    assert any_of([0.0, None]) is None
    assert any_of([0.0, 0.0]) == 0.0
