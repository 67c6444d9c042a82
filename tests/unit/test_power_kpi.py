"""The power KPI (fault_count) from hand-built ledgers, against hand-worked events and figures."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent import periods
from agent.config import parse_config
from agent.kpi import KpiEngine
from agent.ledger import Ledger
from collectors.power.events import BRIDGE, Run, fault_runs
from collectors.power.kpi import FaultCount
from collectors.power.notes import center_zone, fault_events
from collectors.power.profile import load_profile
from collectors.power.series import unit_condition, unit_fault

SH = ZoneInfo("Asia/Shanghai")
OCTOBER, NOVEMBER = periods.month(2026, 10, SH), periods.month(2026, 11, SH)
MINUTE, DAY = 60.0, 86400.0
UNITS = {"ups-a": "ups-rfc1628", "cab-a1": "cabinet-generic"}


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


def make_config(maintenance=(), **kpi):
    return parse_config({
        "snmp": {"defaults": {"community": "public"},
                 "devices": [{"name": f"{unit}-card", "address": "127.0.0.1"} for unit in UNITS]},
        "power": [{"name": unit, "device": f"{unit}-card", "profile": profile} for unit, profile in UNITS.items()],
        "kpis": [{"id": "power_faults", **kpi}],
        "maintenance": list(maintenance),
    }, "test.yaml")


def write(ledger: Ledger, unit: str, *pieces: tuple[float, float, set[str] | None]) -> None:
    """Each piece: (start, end, the conditions holding) as the collector writes it; None: a failed poll."""
    conditions = load_profile(UNITS[unit]).conditions
    for start, end, holding in pieces:
        entries = [(unit_fault(unit), None if holding is None else float(bool(holding)), start, end - start)]
        entries += [(unit_condition(unit, c), None if holding is None else float(c in holding), start, end - start)
                    for c in conditions]
        ledger.record(entries)


def evaluate(ledger: Ledger, period=NOVEMBER, now: float | None = None, config=None) -> FaultCount:
    engine = KpiEngine(config or make_config(), ledger)
    (result,) = engine.evaluate_period(period, now if now is not None else period.end + DAY)
    assert isinstance(result, FaultCount)
    return result


def note(result: FaultCount, lang: str = "zh") -> str:
    return "；".join(fault_events(result.definition, result, (), str, lang))


def test_a_fault_across_the_month_boundary_counts_in_the_month_it_began(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    # ups-a goes on battery at 23:50 on Oct 31 (Shanghai time) and is back at 00:20 on Nov 1.
    write(ledger, "ups-a", (OCTOBER.start, ts(2026, 10, 31, 23, 50), set()),
          (ts(2026, 10, 31, 23, 50), ts(2026, 11, 1, 0, 20), {"on_battery", "alarm"}),
          (ts(2026, 11, 1, 0, 20), NOVEMBER.end, set()))
    # cab-a1's breaker trips at 00:10 on Nov 1: November in Shanghai, still Oct 31 (16:10) in UTC.
    write(ledger, "cab-a1", (OCTOBER.start, ts(2026, 11, 1, 0, 10), set()),
          (ts(2026, 11, 1, 0, 10), ts(2026, 11, 1, 0, 40), {"breaker_open"}),
          (ts(2026, 11, 1, 0, 40), NOVEMBER.end, set()))

    october = evaluate(ledger, OCTOBER)
    assert (october.value, october.met) == (1.0, False)
    (battery,) = october.counted
    assert (battery.unit, battery.start, battery.end) == ("ups-a", ts(2026, 10, 31, 23, 50), None)  # open at the end
    assert october.parts["ups-a"].value == 1.0 and october.parts["cab-a1"].value == 0.0
    assert "ups-a 电池供电、告警，10-31 23:50 起，未结束（已 10 分钟）" in note(october)

    november = evaluate(ledger, NOVEMBER)
    assert (november.value, november.met) == (1.0, False)  # the trip; the battery fault is October's
    (trip,) = november.counted
    assert (trip.unit, trip.conditions, trip.start, trip.end) == (
        "cab-a1", ("breaker_open",), ts(2026, 11, 1, 0, 10), ts(2026, 11, 1, 0, 40))
    earlier = [e for e in november.events if e.status == "earlier"]
    assert [(e.unit, e.end) for e in earlier] == [("ups-a", ts(2026, 11, 1, 0, 20))]
    assert november.details == {"breaker_open": 1.0}
    assert november.parts["ups-a"].value == 0.0 and november.parts["ups-a"].met is True
    text = note(november)
    assert "供电故障 1 次：cab-a1 断路器断开，11-01 00:10 至 00:40（30 分钟）" in text
    assert "上期开始的故障 1 次（ups-a）延续至本期，不重复计数" in text
    assert "1 power fault: cab-a1 breaker open, 11-01 00:10 to 00:40 (30 min)" in note(november, "en")


def test_a_fault_entirely_inside_maintenance_is_not_counted(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    # A window 02:00-04:00 on Nov 8: ups-a on bypass 02:30-03:00 inside it; cab-a1 alarm 03:30-04:30 past its end.
    write(ledger, "ups-a", (NOVEMBER.start, ts(2026, 11, 8, 2, 30), set()),
          (ts(2026, 11, 8, 2, 30), ts(2026, 11, 8, 3), {"bypass"}), (ts(2026, 11, 8, 3), NOVEMBER.end, set()))
    write(ledger, "cab-a1", (NOVEMBER.start, ts(2026, 11, 8, 3, 30), set()),
          (ts(2026, 11, 8, 3, 30), ts(2026, 11, 8, 4, 30), {"alarm"}), (ts(2026, 11, 8, 4, 30), NOVEMBER.end, set()))
    config = make_config([{"name": "UPS battery replacement", "start": "2026-11-08T02:00:00",
                           "end": "2026-11-08T04:00:00", "timezone": "Asia/Shanghai"}])
    result = evaluate(ledger, config=config)
    assert result.value == 1.0
    assert [(e.unit, e.status) for e in result.events] == [("ups-a", "maintenance"), ("cab-a1", "counted")]
    assert result.parts["ups-a"].value == 0.0
    assert result.totals.maintenance == 2 * 2 * 3600  # both units' two hours
    assert result.coverage == 1.0
    assert "维护窗口内故障 1 次，不计" in note(result)


def test_unknown_time_joins_a_fault_only_between_faulty_stretches_and_up_to_the_bridge(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    day = (2026, 11, 10)
    write(ledger, "ups-a",
          (NOVEMBER.start, ts(*day, 10), set()),
          # on battery, a failed poll (5 min unknown), on battery again: one fault 10:00-10:30
          (ts(*day, 10), ts(*day, 10, 10), {"on_battery"}), (ts(*day, 10, 10), ts(*day, 10, 15), None),
          (ts(*day, 10, 15), ts(*day, 10, 30), {"on_battery"}), (ts(*day, 10, 30), ts(*day, 12), set()),
          # an alarm, 25 minutes without data (longer than the bridge), the alarm again: two faults
          (ts(*day, 12), ts(*day, 12, 5), {"alarm"}),
          (ts(*day, 12, 30), ts(*day, 12, 35), {"alarm"}), (ts(*day, 12, 35), ts(*day, 13), set()),
          # a fault, one normal minute, a fault: two
          (ts(*day, 13), ts(*day, 13, 5), {"alarm"}), (ts(*day, 13, 5), ts(*day, 13, 6), set()),
          (ts(*day, 13, 6), ts(*day, 13, 10), {"alarm"}), (ts(*day, 13, 10), NOVEMBER.end, set()))
    write(ledger, "cab-a1", (NOVEMBER.start, NOVEMBER.end, set()))
    result = evaluate(ledger)
    assert result.value == 5.0 and result.details == {"on_battery": 1.0, "alarm": 4.0}
    assert [(e.start, e.end) for e in result.counted] == [
        (ts(*day, 10), ts(*day, 10, 30)), (ts(*day, 12), ts(*day, 12, 5)), (ts(*day, 12, 30), ts(*day, 12, 35)),
        (ts(*day, 13), ts(*day, 13, 5)), (ts(*day, 13, 6), ts(*day, 13, 10))]
    unit_time = 2 * 30 * DAY
    assert result.coverage == pytest.approx((unit_time - 30 * MINUTE) / unit_time)  # 5 + 25 minutes unknown
    assert result.parts["ups-a"].coverage == pytest.approx((30 * DAY - 30 * MINUTE) / (30 * DAY))
    assert result.totals.bad == pytest.approx(44 * MINUTE)  # the known fault time: 10+15, 5+5, 5+4


def test_an_ongoing_fault_has_no_end_and_counts_once(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    now = ts(2026, 11, 20, 12)
    # On battery since 11:00; the last poll's value holds a little past now (its validity).
    write(ledger, "ups-a", (NOVEMBER.start, ts(2026, 11, 20, 11), set()),
          (ts(2026, 11, 20, 11), now + 40, {"on_battery", "alarm"}))
    write(ledger, "cab-a1", (NOVEMBER.start, now + 40, set()))
    result = evaluate(ledger, now=now)
    (event,) = result.counted
    assert (event.end, event.conditions, event.seconds(result.until)) == (None, ("on_battery", "alarm"), 3600.0)
    assert result.value == 1.0 and result.details == {"on_battery": 1.0, "alarm": 1.0}
    assert result.coverage == 1.0
    assert "ups-a 电池供电、告警，11-20 11:00 起，未结束（已 60 分钟）" in note(result)
    assert "ups-a on battery, alarm, from 11-20 11:00, ongoing (60 min so far)" in note(result, "en")


def test_overlapping_conditions_are_one_fault_counted_under_each(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    day = (2026, 11, 5)
    # on_battery 09:00-09:20 and the alarm it raises 09:01-09:25: the unit is faulty 09:00-09:25.
    write(ledger, "ups-a", (NOVEMBER.start, ts(*day, 9), set()), (ts(*day, 9), ts(*day, 9, 1), {"on_battery"}),
          (ts(*day, 9, 1), ts(*day, 9, 20), {"on_battery", "alarm"}), (ts(*day, 9, 20), ts(*day, 9, 25), {"alarm"}),
          (ts(*day, 9, 25), NOVEMBER.end, set()))
    write(ledger, "cab-a1", (NOVEMBER.start, NOVEMBER.end, set()))
    result = evaluate(ledger)
    (event,) = result.counted
    assert (event.start, event.end, event.conditions) == (ts(*day, 9), ts(*day, 9, 25), ("on_battery", "alarm"))
    assert result.value == 1.0 and result.details == {"on_battery": 1.0, "alarm": 1.0}


def test_no_fault_is_met_and_no_data_is_no_figure(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    empty = evaluate(ledger)
    assert (empty.value, empty.met, empty.coverage) == (None, None, 0.0)
    assert note(empty) == ""
    write(ledger, "ups-a", (NOVEMBER.start, NOVEMBER.end, set()))
    # cab-a1 never answered: the month's figure stands on half the unit-time.
    result = evaluate(ledger)
    assert (result.value, result.met, result.coverage) == (0.0, True, 0.5)
    assert result.parts["cab-a1"].value is None and not result.sufficient
    assert note(result) == "无供电故障"


def test_a_kpi_may_choose_its_units(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    write(ledger, "ups-a", (NOVEMBER.start, ts(2026, 11, 2), set()), (ts(2026, 11, 2), ts(2026, 11, 3), {"bypass"}),
          (ts(2026, 11, 3), NOVEMBER.end, set()))
    write(ledger, "cab-a1", (NOVEMBER.start, NOVEMBER.end, set()))
    result = evaluate(ledger, config=make_config(power_units=["cab-a1"]))
    assert (result.value, list(result.parts)) == (0.0, ["cab-a1"])


def test_fault_runs_by_hand():
    fault, normal = 1.0, 0.0
    # fault 0-10, unknown 10-20, fault 20-30: one run; normal ends it; a gap longer than the bridge splits.
    segments = [(0.0, 10.0, fault), (10.0, 20.0, None), (20.0, 30.0, fault), (30.0, 40.0, normal),
                (40.0, 50.0, fault), (50.0 + BRIDGE + 1, 60.0 + BRIDGE, fault)]
    assert fault_runs(segments, end=60.0 + BRIDGE) == [
        Run(0.0, 30.0, False), Run(40.0, 50.0, False), Run(50.0 + BRIDGE + 1, 60.0 + BRIDGE, True)]
    # Only unknown after the last fault: open while within the bridge of the end, else ended where last seen.
    assert fault_runs([(0.0, 10.0, fault)], end=10.0 + BRIDGE) == [Run(0.0, 10.0, True)]
    assert fault_runs([(0.0, 10.0, fault)], end=11.0 + BRIDGE) == [Run(0.0, 10.0, False)]


def test_the_note_reads_the_centers_offset_from_the_period():
    assert center_zone(NOVEMBER).utcoffset(None).total_seconds() == 8 * 3600
    year_to_date = periods.Period("2026..2026-11", periods.year(2026, SH).start, NOVEMBER.end)
    assert center_zone(year_to_date).utcoffset(None).total_seconds() == 8 * 3600


def test_the_export_row_note_and_a_sub_row_per_unit(tmp_path):
    from agent.export.layout import table12
    from agent.export.measure import LedgerMeasurements
    from agent.export.model import build_report

    ledger = Ledger(tmp_path / "l.sqlite")
    write(ledger, "ups-a", (NOVEMBER.start, ts(2026, 11, 3, 14, 5), set()),
          (ts(2026, 11, 3, 14, 5), ts(2026, 11, 3, 14, 35), {"on_battery"}), (ts(2026, 11, 3, 14, 35), NOVEMBER.end, set()))
    write(ledger, "cab-a1", (NOVEMBER.start, NOVEMBER.end, set()))
    now = ts(2026, 12, 1, 9)
    report = build_report(table12(), LedgerMeasurements(make_config(), ledger, now), {}, NOVEMBER, "month", now, SH)
    rows = {row.id: row for row in report.rows}
    row = rows["equipment_operation"]  # the table's row (保障设备高效、稳定、安全运行), bound by its name
    assert (row.level1, row.level2, row.name, row.status, row.kpi) == (
        "效益", "社会效益", "保障设备高效、稳定、安全运行", "not_met", "power_faults")
    assert row.actual.startswith("1")
    assert "供电故障 1 次：ups-a 电池供电，11-03 14:05 至 14:35（30 分钟）" in row.note
    assert (rows["equipment_operation/ups-a"].status, rows["equipment_operation/cab-a1"].status) == ("not_met", "met")
