"""Export figures from hand-built ledgers, every one checked against a hand-worked number.

Asia/Shanghai is UTC+8 all year. Link-seconds: an availability figure sums
over the group's links, so a month of two links is 2 x days x 86400 s.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent import periods
from agent import periods as agent_periods
from agent.catalogue import BY_ID, KpiDefinition
from agent.config import parse_config
from agent.export import columns
from agent.export.layout import table12
from agent.export.manual import parse_manual
from agent.export.measure import LedgerMeasurements
from agent.export.model import build_report
from agent.exposition import make_registry
from agent.kpi import KpiEngine
from agent.kpi_types import KpiResult
from agent.ledger import Ledger
from collectors.snmp.series import link_available, link_up
from agent.state import AgentState
from agent.units import parse_target

SH = ZoneInfo("Asia/Shanghai")
DAY = 86400
GBIT = 1e9 / 8


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


def make_config(data_dir, maintenance=(), kpis=None, min_coverage=None):
    kpis = kpis or [
        {"id": "egress_link_availability", "link_group": "egress"},
        {"id": "egress_bandwidth", "link_group": "egress"},
        {"id": "mobile_office_link_availability", "link_group": "mobile"},
    ]
    if min_coverage is not None:
        kpis = [{**k, "min_coverage": min_coverage} for k in kpis]
    return parse_config({
        "agent": {"data_dir": str(data_dir)},
        "snmp": {"devices": [{"name": "r1", "address": "127.0.0.1", "community": "c"}]},
        "link_groups": [
            {"name": "egress", "links": [{"name": "ct", "device": "r1", "if_name": "a", "capacity": "10G"},
                                         {"name": "cu", "device": "r1", "if_name": "b", "capacity": "10G"}]},
            {"name": "mobile", "links": [{"name": "m1", "device": "r1", "if_name": "c"}]},
        ],
        "kpis": kpis,
        "maintenance": list(maintenance),
    }, "test.yaml")


def put(ledger, link, start, end, up, capacity=10 * GBIT):
    """One stretch of a link's state, with its available capacity, as a run of polls would leave it."""
    ledger.record([(link_up(link), up, start, end - start),
                   (link_available(link), None if up is None else up * capacity, start, end - start)])


def report_for(config, ledger, period, now, manual=None, kind="month", lang="zh"):
    measurements = LedgerMeasurements(config, ledger, now)
    return build_report(table12(), measurements, manual or {}, period, kind, now, SH, lang)


def rows(report):
    return {row.id: row for row in report.rows}


@pytest.fixture
def ledger(tmp_path):
    led = Ledger(tmp_path / "ledger.sqlite")
    yield led
    led.close()


def test_outage_across_the_month_boundary_splits_10_and_20_minutes(tmp_path, ledger):
    put(ledger, "ct", ts(2026, 10, 1), ts(2026, 10, 31, 23, 50), 1.0)
    put(ledger, "ct", ts(2026, 10, 31, 23, 50), ts(2026, 11, 1, 0, 20), 0.0)
    put(ledger, "ct", ts(2026, 11, 1, 0, 20), ts(2026, 12, 1), 1.0)
    put(ledger, "cu", ts(2026, 10, 1), ts(2026, 12, 1), 1.0)
    config = make_config(tmp_path)
    now = ts(2026, 12, 5)
    october = rows(report_for(config, ledger, agent_periods.month(2026, 10, SH), now))["egress_link_availability"]
    november = rows(report_for(config, ledger, agent_periods.month(2026, 11, SH), now))["egress_link_availability"]
    assert [o.seconds for o in october.outages] == [600]
    assert [o.seconds for o in november.outages] == [1200]
    assert october.value == pytest.approx(1 - 600 / (2 * 31 * DAY))
    assert november.value == pytest.approx(1 - 1200 / (2 * 30 * DAY))
    # Rounded towards failing: 99.9888 % and 99.9769 %.
    assert october.actual == "99.98%" and november.actual == "99.97%"
    assert october.note == "中断 1 次，共 10 分钟"
    assert november.note == "中断 1 次，共 20 分钟"
    assert october.status == november.status == "met"
    assert october.coverage == 1.0 and october.maintenance_seconds == 0


def test_maintenance_is_excluded_and_unknown_lowers_coverage_not_availability(tmp_path, ledger):
    # November 2026, link m1: down 10:00-12:00 on the 10th, 10:00-11:00 of it in a maintenance
    # window; no data 12:00-14:00 on the 12th; up the rest of the month.
    put(ledger, "m1", ts(2026, 11, 1), ts(2026, 11, 10, 10), 1.0, GBIT)
    put(ledger, "m1", ts(2026, 11, 10, 10), ts(2026, 11, 10, 12), 0.0, GBIT)
    put(ledger, "m1", ts(2026, 11, 10, 12), ts(2026, 11, 12, 12), 1.0, GBIT)
    put(ledger, "m1", ts(2026, 11, 12, 12), ts(2026, 11, 12, 14), None, GBIT)
    put(ledger, "m1", ts(2026, 11, 12, 14), ts(2026, 12, 1), 1.0, GBIT)
    window = {"name": "upgrade", "link_groups": ["mobile"],
              "start": "2026-11-10T10:00:00+08:00", "end": "2026-11-10T11:00:00+08:00"}
    config = make_config(tmp_path, [window])
    row = rows(report_for(config, ledger, agent_periods.month(2026, 11, SH), ts(2026, 12, 2)))["mobile_office_link_availability"]
    month = 30 * DAY
    expected = month - 3600  # maintenance removed
    assert row.maintenance_seconds == 3600
    assert row.coverage == pytest.approx((expected - 7200) / expected)  # the 2 h gap lowers coverage...
    assert row.value == pytest.approx((expected - 7200 - 3600) / (expected - 7200))  # ...not availability
    assert [o.seconds for o in row.outages] == [3600]  # the outage counts only outside maintenance
    assert row.note == "中断 1 次，共 60 分钟"
    assert row.status == "met"


def test_outage_entirely_inside_maintenance_is_not_an_outage(tmp_path, ledger):
    put(ledger, "m1", ts(2026, 11, 1), ts(2026, 11, 10, 10), 1.0)
    put(ledger, "m1", ts(2026, 11, 10, 10), ts(2026, 11, 10, 10, 30), 0.0)
    put(ledger, "m1", ts(2026, 11, 10, 10, 30), ts(2026, 12, 1), 1.0)
    window = {"name": "w", "start": "2026-11-10T09:00:00+08:00", "end": "2026-11-10T11:00:00+08:00"}
    config = make_config(tmp_path, [window])
    row = rows(report_for(config, ledger, agent_periods.month(2026, 11, SH), ts(2026, 12, 2)))["mobile_office_link_availability"]
    assert row.outages == () and row.value == 1.0 and row.note == "无中断"
    assert row.maintenance_seconds == 7200


def test_a_window_on_one_link_forgives_only_that_links_outage(tmp_path, ledger):
    # November: ct down 10:00-12:00 on the 10th, in its carrier's works (a window on ct only);
    # cu down 11:00-11:30 the same day, inside that window but not in one of its own.
    put(ledger, "ct", ts(2026, 11, 1), ts(2026, 11, 10, 10), 1.0)
    put(ledger, "ct", ts(2026, 11, 10, 10), ts(2026, 11, 10, 12), 0.0)
    put(ledger, "ct", ts(2026, 11, 10, 12), ts(2026, 12, 1), 1.0)
    put(ledger, "cu", ts(2026, 11, 1), ts(2026, 11, 10, 11), 1.0)
    put(ledger, "cu", ts(2026, 11, 10, 11), ts(2026, 11, 10, 11, 30), 0.0)
    put(ledger, "cu", ts(2026, 11, 10, 11, 30), ts(2026, 12, 1), 1.0)
    window = {"name": "ct carrier works", "links": ["ct"],
              "start": "2026-11-10T10:00:00+08:00", "end": "2026-11-10T12:00:00+08:00"}
    config = make_config(tmp_path, [window])
    november = agent_periods.month(2026, 11, SH)
    measurements = LedgerMeasurements(config, ledger, ts(2026, 12, 2))
    row = rows(report_for(config, ledger, november, ts(2026, 12, 2)))["egress_link_availability"]
    assert [(o.series, o.seconds) for o in row.outages] == [("cu", 1800)]
    assert row.note == "中断 1 次，共 30 分钟"
    assert row.value == pytest.approx(1 - 1800 / (2 * 30 * DAY - 7200))  # ct's 2 h out of the link-time
    assert row.maintenance_seconds == 7200  # wall-clock time a window applied to one of its links
    timelines = {t.series: t for t in measurements.charts(november).timelines if t.kpi == "egress_link_availability"}
    assert any(state == "maintenance" for _, _, state in timelines["ct"].spans)
    assert not any(state == "maintenance" for _, _, state in timelines["cu"].spans)
    assert any(state == "down" for _, _, state in timelines["cu"].spans)


def test_a_month_with_too_little_data_says_insufficient(tmp_path, ledger):
    # Only the first 10 days of November have data: coverage 1/3, below the default 90 %.
    put(ledger, "ct", ts(2026, 11, 1), ts(2026, 11, 11), 1.0)
    put(ledger, "cu", ts(2026, 11, 1), ts(2026, 11, 11), 1.0)
    config = make_config(tmp_path)
    report = report_for(config, ledger, agent_periods.month(2026, 11, SH), ts(2026, 12, 2))
    row = rows(report)["egress_link_availability"]
    assert row.status == "insufficient"
    assert row.actual == "100.00%"  # the figure is shown, but not as final
    assert row.coverage == pytest.approx(1 / 3)
    assert row.note.startswith("数据覆盖率 33.3% 低于 90%")  # as the coverage column reads it
    # No data at all: no figure.
    mobile = rows(report)["mobile_office_link_availability"]
    assert mobile.status == "insufficient" and mobile.value is None and mobile.actual == "—"
    assert mobile.note.startswith("期间内无数据")


def test_a_few_minutes_of_data_read_as_a_coverage_above_zero_in_the_column_and_the_note(tmp_path, ledger):
    put(ledger, "m1", ts(2026, 11, 3, 9), ts(2026, 11, 3, 9, 18), 1.0, GBIT)  # 18 minutes of November
    row = rows(report_for(make_config(tmp_path), ledger, agent_periods.month(2026, 11, SH), ts(2026, 12, 2)))[
        "mobile_office_link_availability"]
    assert row.coverage == pytest.approx(18 * 60 / (30 * DAY))  # 0.0417 %
    assert columns.coverage_text(row) == "0.04%"
    assert row.note.startswith("数据覆盖率 0.04% 低于 90%")


def test_gauge_mean_minimum_and_compliance(tmp_path, ledger):
    # November: cu down 3 days (sum 10G < 15G): compliance 27/30, below the 99 % objective.
    put(ledger, "ct", ts(2026, 11, 1), ts(2026, 12, 1), 1.0)
    put(ledger, "cu", ts(2026, 11, 1), ts(2026, 11, 5), 1.0)
    put(ledger, "cu", ts(2026, 11, 5), ts(2026, 11, 8), 0.0)
    put(ledger, "cu", ts(2026, 11, 8), ts(2026, 12, 1), 1.0)
    row = rows(report_for(make_config(tmp_path), ledger, agent_periods.month(2026, 11, SH), ts(2026, 12, 2)))["egress_bandwidth"]
    assert row.value == pytest.approx((27 * 20 + 3 * 10) / 30 * GBIT)  # 19G
    assert row.actual == "19G"
    assert row.minimum == pytest.approx(10 * GBIT)
    assert row.compliance == pytest.approx(27 / 30)
    assert row.status == "not_met"
    assert row.note == "均值 19G，最小 10G，达标时间占比 90.00%（要求 ≥99%）"
    assert row.target_text == "≥15G"


def test_leap_year_february(tmp_path, ledger):
    # February 2028 has 29 days; ct is down one hour on the 29th.
    put(ledger, "ct", ts(2028, 2, 1), ts(2028, 2, 29, 12), 1.0)
    put(ledger, "ct", ts(2028, 2, 29, 12), ts(2028, 2, 29, 13), 0.0)
    put(ledger, "ct", ts(2028, 2, 29, 13), ts(2028, 3, 1), 1.0)
    put(ledger, "cu", ts(2028, 2, 1), ts(2028, 3, 1), 1.0)
    february = agent_periods.month(2028, 2, SH)
    assert february.end - february.start == 29 * DAY
    manual = parse_manual({"2028-01": {"magazine_issues": 1}, "2028-02": {"budget_execution_rate": "12%"}},
                          "m.yaml", table12(), SH)
    report = report_for(make_config(tmp_path), ledger, february, ts(2028, 3, 2), manual)
    row = rows(report)["egress_link_availability"]
    assert row.value == pytest.approx(1 - 3600 / (2 * 29 * DAY))
    assert [o.seconds for o in row.outages] == [3600]
    # Year-to-date at the end of a leap February: 60 of 366 days.
    budget = rows(report)["budget_execution_rate"]
    assert budget.target_value == pytest.approx(0.8 * 60 / 366)
    assert "60/366 天" in budget.note and budget.status == "not_met"  # 12 % < 13.11 %
    magazine = rows(report)["magazine_issues"]
    assert magazine.target_value == 0  # floor(4 x 60/366) = 0: one issue is ahead of schedule
    assert magazine.status == "met"


def test_export_equals_what_sla_kpi_value_showed_at_the_end_of_the_month(tmp_path, ledger):
    put(ledger, "ct", ts(2026, 10, 1), ts(2026, 10, 17, 3), 1.0)
    put(ledger, "ct", ts(2026, 10, 17, 3), ts(2026, 10, 17, 3, 41), 0.0)
    # The last poll's observation ends a minute before midnight, so the last millisecond
    # of the month is unknown both to the last evaluation and to the export.
    put(ledger, "ct", ts(2026, 10, 17, 3, 41), ts(2026, 10, 31, 23, 59), 1.0)
    put(ledger, "cu", ts(2026, 10, 1), ts(2026, 10, 31, 23, 59), 1.0)
    config = make_config(tmp_path)
    october = agent_periods.month(2026, 10, SH)
    # What /metrics served at the last evaluation before midnight.
    state = AgentState()
    state.kpis = tuple(KpiEngine(config, ledger).month_to_date(october.end - 0.001))
    served = make_registry(state).get_sample_value("sla_kpi_value", {"kpi": "egress_link_availability"})
    row = rows(report_for(config, ledger, october, ts(2026, 11, 27)))["egress_link_availability"]
    assert row.value == served
    assert row.note == "中断 1 次，共 41 分钟"


def test_unconfigured_kpi_rows_stay_and_say_so(tmp_path, ledger):
    report = report_for(make_config(tmp_path), ledger, agent_periods.month(2026, 10, SH), ts(2026, 11, 27))
    cloud = rows(report)["cloud_vcpu_capacity"]
    assert cloud.source == "unconfigured" and cloud.status == "insufficient" and cloud.actual == "未配置"
    assert "cloud_vcpu_capacity" in cloud.note
    assert len(report.rows) == len(table12())
    assert [r.id for r in report.rows] == [r.id for r in table12()]


def test_manual_rows_without_a_value_say_not_reported_never_met(tmp_path, ledger):
    report = report_for(make_config(tmp_path), ledger, agent_periods.month(2026, 10, SH), ts(2026, 11, 27))
    manual = [r for r in report.rows if r.source == "manual"]
    assert manual and all(r.status == "not_reported" and r.actual == "未填报" for r in manual)


# --- measured KPIs the layout does not know, and yearly totals ---------------------------------

class StubMeasurements:
    """Measurements with hand-made results, for KPI kinds the engine does not have yet (SMS)."""

    def __init__(self, definitions, results_by_window):
        self._definitions = definitions
        self._results = results_by_window  # (start, end) -> {id: KpiResult}

    def definitions(self):
        return self._definitions

    def results(self, period):
        return self._results.get((period.start, period.end), {})

    def outages(self, kpi, period):
        return []

    def maintenance_seconds(self, kpi, period):
        return 0.0


def sms_definition(**changes) -> KpiDefinition:
    base = KpiDefinition(id="sms_annual_volume", name_zh="短信年发送总量", name_en="SMS sent per year",
                         level1="产出指标", level2="数量指标", kind="sms_total", unit="count",
                         target=">= 170000000", target_text="≥17000万条", objective=None, source="link_group",
                         description="stub")
    return replace(base, **changes)


def result(definition, period, value, coverage=1.0):
    target = parse_target(definition.target, definition.unit)
    return KpiResult(definition=definition, target=target, period=period, until=period.end, value=value,
                     met=target.met_by(value), coverage=coverage, min_coverage=0.9)


def test_yearly_sms_total_is_judged_year_to_date_against_the_target_pro_rated_by_days():
    definition = sms_definition()
    february = agent_periods.month(2026, 2, SH)
    ytd = periods.to_date("year", february, "month", SH)
    assert (ytd.start, ytd.end) == (ts(2026, 1, 1), ts(2026, 3, 1))
    stub = StubMeasurements([definition], {
        (ytd.start, ytd.end): {definition.id: result(definition, ytd, 28_000_000)},
        (february.start, february.end): {definition.id: result(definition, february, 13_000_000)},
    })
    report = build_report(table12(), stub, {}, february, "month", ts(2026, 3, 5), SH)
    row = rows(report)["sms_annual_volume"]
    required = 170_000_000 * 59 / 365  # 27,479,452.05: January and February are 59 of 365 days
    assert row.target_value == pytest.approx(required) and row.target_full == 170_000_000
    assert row.value == 28_000_000 and row.status == "met"
    assert row.actual == "2800万条"
    assert row.report_period_value == 13_000_000
    assert row.note == "年度目标按 59/365 天折算为 2747.94万条；本期 1300万条"
    assert row.source == "measured" and row.window_start == ytd.start
    # One message short of the pro-rated target fails.
    stub._results[(ytd.start, ytd.end)] = {definition.id: result(definition, ytd, math.floor(required))}
    assert rows(build_report(table12(), stub, {}, february, "month", ts(2026, 3, 5), SH))["sms_annual_volume"].status == "not_met"


def test_a_configured_kpi_binds_to_its_row_by_name_and_new_ones_are_appended_to_their_group():
    # An SMS KPI named like the table's row but with another id still lands on that row...
    delivery = sms_definition(id="sms_delivered_ratio", name_zh="短信送达率", unit="ratio", target=">= 98%",
                              target_text="≥98%", level2="质量指标")
    # ...and a KPI the table does not have is appended after the last 质量指标 row.
    probe = sms_definition(id="portal_http_availability", name_zh="门户网站可用率", unit="ratio",
                           target=">= 99.9%", target_text="≥99.9%", level2="质量指标")
    october = agent_periods.month(2026, 10, SH)
    stub = StubMeasurements([delivery, probe], {(october.start, october.end): {
        delivery.id: result(delivery, october, 0.991), probe.id: result(probe, october, 0.9995)}})
    report = build_report(table12(), stub, {}, october, "month", ts(2026, 11, 2), SH)
    ids = [r.id for r in report.rows]
    assert len(report.rows) == len(table12()) + 1
    sms = rows(report)["sms_delivery_rate"]
    assert sms.source == "measured" and sms.kpi == "sms_delivered_ratio" and sms.actual == "99.10%"
    assert sms.target_text == "≥98%"
    appended = ids.index("portal_http_availability")
    assert report.rows[appended - 1].level2 == "质量指标" and report.rows[appended + 1].level2 == "时效"
    assert report.rows[appended].name == "门户网站可用率" and report.rows[appended].status == "met"


def test_a_config_target_override_shows_the_override(tmp_path, ledger):
    put(ledger, "ct", ts(2026, 10, 1), ts(2026, 11, 1), 1.0)
    put(ledger, "cu", ts(2026, 10, 1), ts(2026, 11, 1), 1.0)
    config = make_config(tmp_path, kpis=[{"id": "egress_link_availability", "link_group": "egress", "target": ">= 99.9%"}])
    row = rows(report_for(config, ledger, agent_periods.month(2026, 10, SH), ts(2026, 11, 27)))["egress_link_availability"]
    assert row.target_text == "≥99.9%" and row.target_full == pytest.approx(0.999)
    assert BY_ID["egress_link_availability"].target_text == "≥99%"


def test_quarter_report_evaluates_the_quarter(tmp_path, ledger):
    put(ledger, "ct", ts(2026, 7, 1), ts(2026, 8, 15), 1.0)
    put(ledger, "ct", ts(2026, 8, 15), ts(2026, 8, 15, 1), 0.0)
    put(ledger, "ct", ts(2026, 8, 15, 1), ts(2026, 10, 1), 1.0)
    put(ledger, "cu", ts(2026, 7, 1), ts(2026, 10, 1), 1.0)
    q3 = periods.quarter(2026, 3, SH)
    row = rows(report_for(make_config(tmp_path), ledger, q3, ts(2026, 11, 27), kind="quarter"))["egress_link_availability"]
    assert row.value == pytest.approx(1 - 3600 / (2 * 92 * DAY))
    assert (row.window_start, row.window_end) == (q3.start, q3.end)


def test_english_names_and_notes(tmp_path, ledger):
    put(ledger, "ct", ts(2026, 10, 1), ts(2026, 10, 2), 0.0)
    put(ledger, "ct", ts(2026, 10, 2), ts(2026, 11, 1), 1.0)
    put(ledger, "cu", ts(2026, 10, 1), ts(2026, 11, 1), 1.0)
    report = report_for(make_config(tmp_path), ledger, agent_periods.month(2026, 10, SH), ts(2026, 11, 27), lang="en")
    row = rows(report)["egress_link_availability"]
    assert row.name == "政务外网统一互联网出口链路可用率" and row.name_en == "Unified internet egress link availability"
    assert row.note == "1 outage, 24 h total"
    assert rows(report)["cloud_memory_capacity"].name_en == "Government cloud capacity (memory)"
