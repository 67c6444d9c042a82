"""The probe KPIs from hand-built ledgers, against hand-worked figures."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent import periods
from agent.config import parse_config
from agent.kpi import KpiEngine
from agent.ledger import Ledger
from collectors.probes.series import probe_up

SH = ZoneInfo("Asia/Shanghai")
NOVEMBER = periods.month(2026, 11, SH)
DAY = 86400.0


def ts(*args) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


def make_config(maintenance=()):
    url = "https://127.0.0.1:1"
    return parse_config({
        "probes": [
            {"name": "code", "url": f"{url}/code/display"},
            {"name": "nat-1", "url": f"{url}/nat/1", "system": "nucleic-acid"},
            {"name": "nat-2", "url": f"{url}/nat/2", "system": "nucleic-acid"},
            {"name": "vaccination", "url": f"{url}/vax"},
        ],
        "kpis": [
            {"id": "app_code_display_stability", "probes": ["code"]},
            {"id": "epidemic_platform_availability", "probes": ["nat-1", "nat-2", "vaccination"]},
        ],
        "maintenance": list(maintenance),
    }, "test.yaml")


def put(ledger, name, start, end, value):
    ledger.record([(name, value, start, end - start)])


def results(ledger, config=None, now=None):
    engine = KpiEngine(config or make_config(), ledger)
    return {r.definition.id: r for r in engine.evaluate_period(NOVEMBER, now or ts(2026, 12, 1))}


def whole_month(ledger, name, value=1.0):
    put(ledger, name, NOVEMBER.start, NOVEMBER.end, value)


def test_code_display_stability_is_successful_probe_time_over_known(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    # 30 days; the code endpoint fails 6 h in total on Nov 3 and is unknown 12 h on Nov 4 (agent down).
    put(ledger, probe_up("code"), NOVEMBER.start, ts(2026, 11, 3, 8), 1.0)
    put(ledger, probe_up("code"), ts(2026, 11, 3, 8), ts(2026, 11, 3, 14), 0.0)
    put(ledger, probe_up("code"), ts(2026, 11, 3, 14), ts(2026, 11, 4), 1.0)
    put(ledger, probe_up("code"), ts(2026, 11, 4, 12), NOVEMBER.end, 1.0)
    for name in ("nat-1", "nat-2", "vaccination"):
        whole_month(ledger, probe_up(name))
    code = results(ledger)["app_code_display_stability"]
    known = 30 * DAY - 12 * 3600
    assert code.totals.bad == 6 * 3600 and code.totals.unknown == 12 * 3600
    assert code.value == pytest.approx((known - 6 * 3600) / known)  # 0.99156...
    assert code.met  # >= 99 %
    assert code.coverage == pytest.approx(known / (30 * DAY))


def test_platform_is_its_worst_system_and_met_only_if_every_system_is(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    whole_month(ledger, probe_up("code"))
    # nucleic-acid: nat-1 down 3 days, nat-2 down 6 days -> (60 - 9) / 60 probe-days = 0.85.
    put(ledger, probe_up("nat-1"), NOVEMBER.start, ts(2026, 11, 4), 0.0)
    put(ledger, probe_up("nat-1"), ts(2026, 11, 4), NOVEMBER.end, 1.0)
    put(ledger, probe_up("nat-2"), NOVEMBER.start, ts(2026, 11, 25), 1.0)
    put(ledger, probe_up("nat-2"), ts(2026, 11, 25), NOVEMBER.end, 0.0)
    # vaccination: down 1.5 days of 30 -> 0.95.
    put(ledger, probe_up("vaccination"), NOVEMBER.start, ts(2026, 11, 10), 1.0)
    put(ledger, probe_up("vaccination"), ts(2026, 11, 10), ts(2026, 11, 11, 12), 0.0)
    put(ledger, probe_up("vaccination"), ts(2026, 11, 11, 12), NOVEMBER.end, 1.0)
    platform = results(ledger)["epidemic_platform_availability"]
    assert list(platform.parts) == ["nucleic-acid", "vaccination"]
    assert platform.parts["nucleic-acid"].value == pytest.approx(51 / 60)
    assert platform.parts["vaccination"].value == pytest.approx(28.5 / 30)
    assert platform.value == pytest.approx(0.85)  # the worst system, not the pooled 79.5 / 90 = 0.883
    assert platform.parts["vaccination"].met and not platform.parts["nucleic-acid"].met
    assert platform.met is False
    assert platform.coverage == 1.0


def test_platform_met_when_every_system_meets_the_target(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    for name in ("code", "nat-1", "nat-2"):
        whole_month(ledger, probe_up(name))
    put(ledger, probe_up("vaccination"), NOVEMBER.start, ts(2026, 11, 28), 1.0)
    put(ledger, probe_up("vaccination"), ts(2026, 11, 28), NOVEMBER.end, 0.0)  # 3 days: 27 / 30 = 0.9, the target
    platform = results(ledger)["epidemic_platform_availability"]
    assert platform.value == pytest.approx(0.9) and platform.met is True  # >= 90 % holds on the boundary


def test_a_system_without_data_leaves_the_platform_short_of_coverage_not_met_on_the_others(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    for name in ("code", "nat-1", "nat-2"):
        whole_month(ledger, probe_up(name))
    platform = results(ledger)["epidemic_platform_availability"]
    assert platform.parts["vaccination"].value is None
    assert platform.value == 1.0 and platform.coverage == 0.0
    assert not platform.sufficient  # the report says 数据不足, not 达标


def test_a_global_maintenance_window_takes_probe_time_out(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    # The code endpoint is down 02:00-04:00 on Nov 8, inside a global window: not counted.
    put(ledger, probe_up("code"), NOVEMBER.start, ts(2026, 11, 8, 2), 1.0)
    put(ledger, probe_up("code"), ts(2026, 11, 8, 2), ts(2026, 11, 8, 4), 0.0)
    put(ledger, probe_up("code"), ts(2026, 11, 8, 4), NOVEMBER.end, 1.0)
    config = make_config([{"name": "app release", "start": "2026-11-08T02:00:00", "end": "2026-11-08T04:00:00",
                           "timezone": "Asia/Shanghai"}])
    code = results(ledger, config)["app_code_display_stability"]
    assert code.value == 1.0 and code.totals.bad == 0 and code.totals.maintenance == 2 * 3600


def test_the_export_fills_both_rows_and_a_sub_row_per_system(tmp_path):
    import json

    from agent.export import csv_writer, json_writer
    from agent.export.layout import table12
    from agent.export.measure import LedgerMeasurements
    from agent.export.model import build_report

    ledger = Ledger(tmp_path / "l.sqlite")
    for name in ("code", "nat-1", "nat-2"):
        whole_month(ledger, probe_up(name))
    put(ledger, probe_up("vaccination"), NOVEMBER.start, ts(2026, 11, 25), 1.0)
    put(ledger, probe_up("vaccination"), ts(2026, 11, 25), NOVEMBER.end, 0.0)  # 6 days down: 24 / 30 = 80 %
    now = ts(2026, 12, 1, 9)
    report = build_report(table12(), LedgerMeasurements(make_config(), ledger, now), {}, NOVEMBER, "month", now, SH)
    rows = {row.id: row for row in report.rows}
    code = rows["sz_i_code_stability"]  # the table's row, bound by its name (深 i 您亮码稳定率)
    assert (code.source, code.kpi, code.actual, code.status) == ("measured", "app_code_display_stability", "100.00%", "met")
    platform = rows["epidemic_platform_availability"]
    assert (platform.actual, platform.status) == ("80.00%", "not_met")
    assert "最差业务系统 vaccination 80.00%" in platform.note and "2 个业务系统中 1 个达标" in platform.note
    ids = [row.id for row in report.rows]
    at = ids.index("epidemic_platform_availability")
    assert ids[at + 1: at + 3] == ["epidemic_platform_availability/nucleic-acid", "epidemic_platform_availability/vaccination"]
    nat, vax = rows["epidemic_platform_availability/nucleic-acid"], rows["epidemic_platform_availability/vaccination"]
    assert (nat.name, nat.actual, nat.status, nat.part_of) == (
        "深 i 您-疫情管控平台各业务系统可用性：nucleic-acid", "100.00%", "met", "epidemic_platform_availability")
    assert (vax.actual, vax.status, vax.value) == ("80.00%", "not_met", pytest.approx(0.8))
    assert "疫情管控平台各业务系统可用性：vaccination" in csv_writer.render(report).decode("utf-8-sig")
    exported = {r["id"]: r for r in json.loads(json_writer.render(report))["rows"]}
    assert exported["epidemic_platform_availability/vaccination"]["part_of"] == "epidemic_platform_availability"
