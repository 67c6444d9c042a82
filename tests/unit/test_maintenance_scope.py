"""Maintenance windows scoped by each source's keys: links, link groups, devices, probes, power units.

Hand-worked figures: a window listing one target takes out only that target's time, in every
KPI and in the link-state counters; unknown names and empty lists are one-line config errors.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent import maintenance, periods
from agent.config import ConfigError, MaintenanceWindow, parse_config
from agent.kpi import KpiEngine
from agent.ledger import Ledger
from collectors.power.series import unit_fault
from collectors.probes.series import probe_up
from collectors.snmp.link_states import LinkStates
from collectors.snmp.series import device_answered, link_available, link_up
from tests.fakes import FakeClock

SH = ZoneInfo("Asia/Shanghai")
NOVEMBER = periods.month(2026, 11, SH)
H = 3600.0


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


def window(name: str, day: int, hours: tuple[int, int], **scope: list[str]) -> dict:
    """A one-off window on ``day`` of November, Shanghai time, from hour to hour."""
    return {"name": name, "start": f"2026-11-{day:02d}T{hours[0]:02d}:00:00",
            "end": f"2026-11-{day:02d}T{hours[1]:02d}:00:00", "timezone": "Asia/Shanghai", **scope}


def make_config(windows=(), **extra) -> object:
    return parse_config({
        "snmp": {"defaults": {"community": "c"},
                 "devices": [{"name": "r1", "address": "127.0.0.1"}, {"name": "r2", "address": "127.0.0.1"},
                             {"name": "ups-card", "address": "127.0.0.1"}]},
        "link_groups": [{"name": "egress", "links": [{"name": "ct", "device": "r1", "if_name": "a"},
                                                     {"name": "cu", "device": "r2", "if_name": "b"}]}],
        "probes": [{"name": "nat-1", "url": "https://127.0.0.1:1/nat/1", "system": "nucleic-acid"},
                   {"name": "vax", "url": "https://127.0.0.1:1/vax", "system": "vaccination"}],
        "power": [{"name": "ups-a", "device": "ups-card", "profile": "ups-rfc1628"}],
        "kpis": [{"id": "egress_link_availability", "link_group": "egress"},
                 {"id": "epidemic_platform_availability"}, {"id": "power_faults"}],
        "maintenance": list(windows),
        **extra,
    }, "test.yaml")


def put(ledger: Ledger, name: str, start: float, end: float, value: float | None) -> None:
    ledger.record([(name, value, start, end - start)])


def results(config, ledger: Ledger) -> dict:
    return {r.definition.id: r for r in KpiEngine(config, ledger).evaluate_period(NOVEMBER, ts(2026, 12, 2))}


# --- which series each window covers --------------------------------------------------------------


def test_each_key_covers_its_targets_series_and_a_window_without_keys_covers_everything():
    config = make_config([
        window("link", 2, (1, 2), links=["ct"]),
        window("group", 2, (1, 2), link_groups=["egress"]),
        window("router", 2, (1, 2), devices=["r2"]),
        window("probe", 2, (1, 2), probes=["vax"]),
        window("ups", 2, (1, 2), power_units=["ups-a"]),
        window("all", 2, (1, 2)),
        window("two keys", 2, (1, 2), links=["ct"], probes=["nat-1"]),
    ])
    covered = {c.window.name: c.series for c in maintenance.covered(config)}
    assert covered["link"] == {link_up("ct"), link_available("ct")}
    assert covered["group"] == {link_up(n) for n in ("ct", "cu")} | {link_available(n) for n in ("ct", "cu")}
    assert covered["router"] == {link_up("cu"), link_available("cu"), device_answered("r2")}
    assert covered["probe"] == {probe_up("vax")}
    assert covered["ups"] == {unit_fault("ups-a")}
    assert covered["all"] is None
    assert covered["two keys"] == {link_up("ct"), link_available("ct"), probe_up("nat-1")}


def test_maintenance_of_inputs_by_hand():
    # Global 01-02 h; ct alone 03-05 h; cu alone 04-06 h: per series and their union.
    config = make_config([window("all", 2, (1, 2)), window("ct", 2, (3, 5), links=["ct"]),
                          window("cu", 2, (4, 6), links=["cu"])])
    got = maintenance.of_inputs(maintenance.covered(config), (link_up("ct"), link_up("cu"), "other"),
                                NOVEMBER.start, NOVEMBER.end, SH)
    day = ts(2026, 11, 2)
    assert got.of(link_up("ct")) == ((day + H, day + 2 * H), (day + 3 * H, day + 5 * H))
    assert got.of(link_up("cu")) == ((day + H, day + 2 * H), (day + 4 * H, day + 6 * H))
    assert got.of("other") == ((day + H, day + 2 * H),)  # an input no scoped window covers: the global ones
    assert list(got) == [(day + H, day + 2 * H), (day + 3 * H, day + 6 * H)]
    # Inputs no window covers at all: nothing, cheaply.
    none = maintenance.of_inputs(maintenance.covered(make_config([window("vax", 2, (1, 2), probes=["vax"])])),
                                 (link_up("ct"),), NOVEMBER.start, NOVEMBER.end, SH)
    assert list(none) == [] and none.of(link_up("ct")) == ()


# --- the figures ----------------------------------------------------------------------------------


def test_a_device_window_takes_out_its_links_time_only(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    # Both links are up all month except 2 h down on Nov 2, 01:00-03:00: cu's during r2's window.
    for name in ("ct", "cu"):
        put(ledger, link_up(name), NOVEMBER.start, ts(2026, 11, 2, 1), 1.0)
        put(ledger, link_up(name), ts(2026, 11, 2, 1), ts(2026, 11, 2, 3), 0.0)
        put(ledger, link_up(name), ts(2026, 11, 2, 3), NOVEMBER.end, 1.0)
    figure = results(make_config([window("r2 upgrade", 2, (1, 3), devices=["r2"])]), ledger)
    egress = figure["egress_link_availability"]
    month = 30 * 24 * H
    assert egress.totals.maintenance == 2 * H  # cu's two hours, not ct's
    assert egress.totals.bad == 2 * H  # ct's outage still counts
    assert egress.value == pytest.approx((2 * month - 4 * H) / (2 * month - 2 * H))


def test_a_probe_window_takes_out_that_probes_time_only(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    # Both systems' probes down 3 days, Nov 1-3; a window covers vax for those days, not nat-1.
    for name in ("nat-1", "vax"):
        put(ledger, probe_up(name), NOVEMBER.start, ts(2026, 11, 4), 0.0)
        put(ledger, probe_up(name), ts(2026, 11, 4), NOVEMBER.end, 1.0)
    config = make_config([{"name": "vax migration", "start": "2026-11-01T00:00:00", "end": "2026-11-04T00:00:00",
                           "timezone": "Asia/Shanghai", "probes": ["vax"]}])
    platform = results(config, ledger)["epidemic_platform_availability"]
    assert platform.parts["vaccination"].value == 1.0  # 27 known days, all up
    assert platform.parts["vaccination"].totals.maintenance == 3 * 24 * H
    assert platform.parts["nucleic-acid"].value == pytest.approx(27 / 30)
    assert platform.value == pytest.approx(27 / 30) and platform.met is True  # >= 90 %


def test_a_power_unit_window_hides_a_fault_inside_it(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    # ups-a on battery 02:30-03:00 on Nov 8.
    put(ledger, unit_fault("ups-a"), NOVEMBER.start, ts(2026, 11, 8, 2, 30), 0.0)
    put(ledger, unit_fault("ups-a"), ts(2026, 11, 8, 2, 30), ts(2026, 11, 8, 3), 1.0)
    put(ledger, unit_fault("ups-a"), ts(2026, 11, 8, 3), NOVEMBER.end, 0.0)
    inside = results(make_config([window("battery swap", 8, (2, 4), power_units=["ups-a"])]), ledger)["power_faults"]
    assert inside.value == 0.0 and [e.status for e in inside.events] == ["maintenance"]
    # A window on a link does not cover the unit: the fault counts.
    elsewhere = results(make_config([window("link", 8, (2, 4), links=["ct"])]), ledger)["power_faults"]
    assert elsewhere.value == 1.0 and [e.status for e in elsewhere.events] == ["counted"]


def test_incidents_respect_each_targets_own_windows(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    # ct and the vax probe both fail Nov 5 10:00-11:00; a window covers the probe only.
    for name in (link_up("ct"), probe_up("vax")):
        put(ledger, name, NOVEMBER.start, ts(2026, 11, 5, 10), 1.0)
        put(ledger, name, ts(2026, 11, 5, 10), ts(2026, 11, 5, 11), 0.0)
        put(ledger, name, ts(2026, 11, 5, 11), NOVEMBER.end, 1.0)
    config = make_config([window("vax", 5, (9, 12), probes=["vax"])], kpis=[{"id": "fault_handling_rate"}])
    handling = results(config, ledger)["fault_handling_rate"]
    assert handling.details["raised"] == 1  # the link's; the probe's outage lay inside its window


def test_the_link_state_counters_follow_a_device_window():
    t0 = ts(2026, 11, 2, 1)
    config = make_config([{"name": "r2", "start": datetime.fromtimestamp(t0 + 60, SH).isoformat(),
                           "end": datetime.fromtimestamp(t0 + 90, SH).isoformat(), "devices": ["r2"]}])
    clock = FakeClock(t0)
    states = LinkStates.from_config(config, clock)
    clock.now = t0 + 120
    seconds = states.seconds()
    assert seconds["ct"][3] == 0  # maintenance seconds
    assert seconds["cu"][3] == 30


# --- the config -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "name", "message"), [
    ("devices", "r9", "maintenance[0].devices: no SNMP device named 'r9'"),
    ("probes", "nat-9", "maintenance[0].probes: no probe named 'nat-9'"),
    ("power_units", "ups-z", "maintenance[0].power_units: no power unit named 'ups-z'"),
])
def test_a_window_naming_an_unknown_target_is_one_line(key, name, message):
    with pytest.raises(ConfigError) as caught:
        make_config([window("w", 2, (1, 2), **{key: [name]})])
    assert str(caught.value) == f"test.yaml: {message}"


def test_an_empty_list_names_every_scope_key():
    with pytest.raises(ConfigError) as caught:
        make_config([window("w", 2, (1, 2), probes=[])])
    assert ("maintenance[0].probes: an empty list scopes the window to nothing: name at least one, or leave the key "
            "out (a window that sets none of links, link_groups, devices, probes, power_units is for everything)"
            ) in str(caught.value)


def test_scope_keys_are_the_windows_fields_and_global_means_none_set():
    fields = list(MaintenanceWindow.model_fields)
    assert fields[:6] == ["name", "links", "link_groups", "devices", "probes", "power_units"]
    everything = MaintenanceWindow(name="w", start="2026-11-02T01:00:00", end="2026-11-02T02:00:00")
    assert everything.is_global and everything.applies_to(())
    one = MaintenanceWindow(name="w", start="2026-11-02T01:00:00", end="2026-11-02T02:00:00", probes=["vax"])
    assert one.scope == {("probes", "vax")} and one.applies_to([("probes", "vax")]) and not one.applies_to(())
