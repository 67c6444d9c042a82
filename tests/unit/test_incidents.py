"""Incidents from ledger segments and pushed alerts, and the two KPIs, against hand-worked cases."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent import periods
from agent.cli import main
from agent.config import parse_config
from agent.kpi import KpiEngine
from agent.ledger import Ledger
from collectors.snmp.series import link_up
from collectors.incidents import incidents as inc
from collectors.incidents import store
from collectors.probes.series import probe_up

SH = ZoneInfo("Asia/Shanghai")
NOVEMBER = periods.month(2026, 11, SH)
H = 3600.0


def ts(*args) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


def put(ledger, name, start, end, value):
    ledger.record([(name, value, start, end - start)])


def make_config(tmp_path=None, maintenance=(), within=None):
    network = {"id": "network_fault_timeliness", **({"within": within} if within else {})}
    return parse_config({
        "agent": {"data_dir": str(tmp_path or "data")},
        "snmp": {"devices": [{"name": "r1", "address": "127.0.0.1", "community": "c"}]},
        "link_groups": [{"name": "egress", "links": [{"name": "ct", "device": "r1", "if_name": "a"},
                                                     {"name": "cu", "device": "r1", "if_name": "b"}]}],
        "probes": [{"name": "code", "url": "https://127.0.0.1:1/code"}],
        "kpis": [{"id": "egress_link_availability", "link_group": "egress"}, {"id": "fault_handling_rate"}, network],
        "maintenance": list(maintenance),
    }, "test.yaml")


def test_down_unknown_down_is_one_incident_resolved_at_the_first_good_observation():
    segments = [(0, 100, 1.0), (100, 160, 0.0), (160, 200, None), (200, 230, 0.0), (230, 400, 1.0),
                (400, 450, None), (450, 500, 0.0)]
    found = inc.of_series("link:ct:up", segments, "network", ())
    assert [(i.start, i.end, i.down_seconds) for i in found] == [(100, 230, 90), (450, None, 50)]
    assert not found[1].resolved and found[1].duration(600) == 150


def test_unknown_alone_is_never_an_incident_and_fault_series_are_down_at_one():
    assert inc.of_series("link:ct:up", [(0, 100, None), (100, 200, 1.0)], "network", ()) == []
    power = inc.of_series("power:ups-1:fault", [(0, 10, 0.0), (10, 30, 1.0), (30, 50, 0.0)], "power", ())
    assert [(i.start, i.end) for i in power] == [(10, 30)]


def test_maintenance_hides_time_and_an_incident_inside_a_window_is_none():
    window = [(100, 200)]
    assert inc.of_series("link:ct:up", [(0, 120, 1.0), (120, 180, 0.0), (180, 300, 1.0)], "network", window) == []
    # Down from 150 (inside the window) to 260: raised when the window ends, 60 s counted.
    found = inc.of_series("link:ct:up", [(0, 150, 1.0), (150, 260, 0.0), (260, 300, 1.0)], "network", window)
    assert [(i.start, i.end, i.down_seconds) for i in found] == [(200, 260, 60)]


def alert(fingerprint, starts, ends, category="network", name="BgpDown"):
    return store.PushedAlert(fingerprint, starts, ends, category, name, f"{name} summary", {"alertname": name})


def test_the_november_figures_by_hand(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    # ct: down Nov 3 10:00-12:00 (2 h) and Nov 10 08:00-13:00 (5 h); down from Nov 30 22:00, still at the end.
    # An outage that began on Oct 31 23:50 and ended Nov 1 00:20 was raised in October, not November.
    put(ledger, link_up("ct"), ts(2026, 10, 31, 23, 50), ts(2026, 11, 1, 0, 20), 0.0)
    put(ledger, link_up("ct"), ts(2026, 11, 1, 0, 20), ts(2026, 11, 3, 10), 1.0)
    put(ledger, link_up("ct"), ts(2026, 11, 3, 10), ts(2026, 11, 3, 12), 0.0)
    put(ledger, link_up("ct"), ts(2026, 11, 3, 12), ts(2026, 11, 10, 8), 1.0)
    put(ledger, link_up("ct"), ts(2026, 11, 10, 8), ts(2026, 11, 10, 13), 0.0)
    put(ledger, link_up("ct"), ts(2026, 11, 10, 13), ts(2026, 11, 30, 22), 1.0)
    put(ledger, link_up("ct"), ts(2026, 11, 30, 22), NOVEMBER.end, 0.0)
    put(ledger, link_up("cu"), NOVEMBER.start, NOVEMBER.end, 1.0)
    # The probe fails for 30 minutes on Nov 20 (a service incident, resolved).
    put(ledger, probe_up("code"), NOVEMBER.start, ts(2026, 11, 20, 9), 1.0)
    put(ledger, probe_up("code"), ts(2026, 11, 20, 9), ts(2026, 11, 20, 9, 30), 0.0)
    put(ledger, probe_up("code"), ts(2026, 11, 20, 9, 30), NOVEMBER.end, 1.0)
    # Alertmanager: a network alert for 1 h on Nov 15 (resolved), another firing since Nov 28 (open),
    # and an "other" one on Nov 5 for 6 h.
    ledger.ensure_schema(store.SCHEMA)
    ledger.write(lambda db: store.save(db, [alert("a1", ts(2026, 11, 15, 1), ts(2026, 11, 15, 2)),
                                            alert("a2", ts(2026, 11, 28), None),
                                            alert("a3", ts(2026, 11, 5), ts(2026, 11, 5, 6), "other", "DiskFull")]))
    results = {r.definition.id: r for r in KpiEngine(make_config(), ledger).evaluate_period(NOVEMBER, ts(2026, 12, 2))}
    handling, timely = results["fault_handling_rate"], results["network_fault_timeliness"]
    # Raised: ct x3, probe x1, pushed x3 = 7; resolved by the end: ct 2 h, ct 5 h, probe, a1, a3 = 5.
    assert (handling.details["raised"], handling.details["resolved"], handling.details["open"]) == (7, 5, 2)
    assert handling.value == pytest.approx(5 / 7) and handling.met is False
    # Network: ct x3 and a1, a2 = 5; within 4 h: ct 2 h and a1 1 h = 2.
    assert (timely.details["raised"], timely.details["within_bound"]) == (5, 2)
    assert timely.value == pytest.approx(2 / 5) and timely.met is False
    assert handling.coverage == pytest.approx(1.0)
    # A bound of 6 h also counts the 5 h outage.
    six = {r.definition.id: r for r in KpiEngine(make_config(within="6h"), ledger).evaluate_period(NOVEMBER, ts(2026, 12, 2))}
    assert six["network_fault_timeliness"].value == pytest.approx(3 / 5)
    # October: the outage across the boundary was raised there and resolved after October ended.
    october = {r.definition.id: r for r in KpiEngine(make_config(), ledger).evaluate_period(
        periods.month(2026, 10, SH), ts(2026, 12, 2))}["fault_handling_rate"]
    assert (october.details["raised"], october.details["resolved"]) == (1, 0)
    ledger.close()
    # The same figures after a restart: incidents are read from what the ledger keeps.
    again = Ledger(tmp_path / "ledger.sqlite")
    later = {r.definition.id: r for r in KpiEngine(make_config(), again).evaluate_period(NOVEMBER, ts(2026, 12, 2))}
    assert later["fault_handling_rate"].value == pytest.approx(5 / 7)
    again.close()


def test_no_incident_is_a_full_figure_and_a_note_says_so(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    for name in (link_up("ct"), link_up("cu"), probe_up("code")):
        put(ledger, name, NOVEMBER.start, NOVEMBER.end, 1.0)
    results = {r.definition.id: r for r in KpiEngine(make_config(), ledger).evaluate_period(NOVEMBER, ts(2026, 12, 2))}
    assert results["fault_handling_rate"].value == 1.0 and results["fault_handling_rate"].details["raised"] == 0
    from collectors.incidents.notes import incident_note

    assert incident_note(results["fault_handling_rate"].definition, results["fault_handling_rate"], (), str, "zh") == ["本期无故障"]


def test_a_resolved_notification_ends_the_pushed_incident_and_a_repeat_changes_nothing(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.ensure_schema(store.SCHEMA)
    ledger.write(lambda db: store.save(db, [alert("a1", 100.0, None)]))
    ledger.write(lambda db: store.save(db, [alert("a1", 100.0, None)]))  # repeat while firing
    ledger.write(lambda db: store.save(db, [alert("a1", 100.0, 400.0)]))  # resolved
    ledger.write(lambda db: store.save(db, [alert("a1", 100.0, None)]))  # a late firing repeat keeps the end
    found = ledger.read(lambda db: store.load(db, 0, 1000))
    assert [(i.start, i.end) for i in found] == [(100.0, 400.0)]


def test_the_incidents_command_lists_the_month(tmp_path, capsys):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    put(ledger, link_up("ct"), NOVEMBER.start, ts(2026, 11, 3, 10), 1.0)
    put(ledger, link_up("ct"), ts(2026, 11, 3, 10), ts(2026, 11, 3, 12), 0.0)
    put(ledger, link_up("ct"), ts(2026, 11, 3, 12), NOVEMBER.end, 1.0)
    ledger.close()
    config = tmp_path / "sla.yaml"
    config.write_text(json.dumps({
        "agent": {"data_dir": str(tmp_path)},
        "snmp": {"devices": [{"name": "r1", "address": "127.0.0.1", "community": "c"}]},
        "link_groups": [{"name": "egress", "links": [{"name": "ct", "device": "r1", "if_name": "a"}]}],
        "kpis": [{"id": "egress_link_availability", "link_group": "egress"}]}), encoding="utf-8")
    assert main(["incidents", "-c", str(config), "--month", "2026-11", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["incidents"]
    assert listed == [{"start": "2026-11-03T10:00:00+08:00", "end": "2026-11-03T12:00:00+08:00",
                       "duration_seconds": 7200.0, "category": "network", "source": "ledger",
                       "what": "link ct (egress)", "key": "link:ct:up", "down_seconds": 7200.0}]
    assert main(["incidents", "-c", str(config), "--month", "2026-11", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("2026-11-03T10:00:00+08:00,2026-11-03T12:00:00+08:00,7200.0")
    assert main(["incidents", "-c", str(config), "--month", "2026-11"]) == 0
    assert "1 incidents, 1 resolved, 0 open" in capsys.readouterr().out
    assert main(["incidents", "-c", str(config), "--month", "2026-13"]) == 2
    assert capsys.readouterr().err == "--month: '2026-13' is not YYYY-MM\n"
    assert main(["incidents", "-c", str(config), "--month", "2026-11", "--format", "xml"]) == 2
