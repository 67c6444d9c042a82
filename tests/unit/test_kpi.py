"""KPI figures from hand-built ledgers, checked against hand-worked numbers."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent import periods
from agent.config import parse_config
from agent.kpi import KpiEngine
from agent.ledger import Ledger
from collectors.snmp.series import link_available as link_available_series
from collectors.snmp.series import link_up as link_up_series

SH = ZoneInfo("Asia/Shanghai")
GBIT = 1e9 / 8  # bytes/s in one Gbit/s


def ts(*args) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


def make_config(maintenance=()):
    return parse_config(
        {
            "snmp": {"devices": [{"name": "r1", "address": "127.0.0.1", "community": "c"}]},
            "link_groups": [
                {"name": "egress", "links": [
                    {"name": "ct", "device": "r1", "if_name": "a"},
                    {"name": "cu", "device": "r1", "if_name": "b"},
                ]},
                {"name": "mobile", "links": [{"name": "m1", "device": "r1", "if_name": "c"}]},
            ],
            "kpis": [
                {"id": "egress_link_availability", "link_group": "egress"},
                {"id": "egress_bandwidth", "link_group": "egress"},
                {"id": "mobile_office_link_availability", "link_group": "mobile"},
            ],
            "maintenance": list(maintenance),
        },
        "test.yaml",
    )


def put(ledger, name, start, end, value):
    """Write one segment directly, as a long run of polls would have."""
    ledger.record([(name, value, start, end - start)])


def results_by_id(engine, period, now):
    return {r.definition.id: r for r in engine.evaluate_period(period, now)}


def test_outage_across_month_boundary_splits_10_and_20_minutes(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    # ct: up all October and November except 23:50 Oct 31 -> 00:20 Nov 1 (Shanghai time).
    put(ledger, link_up_series("ct"), ts(2026, 10, 1), ts(2026, 10, 31, 23, 50), 1.0)
    put(ledger, link_up_series("ct"), ts(2026, 10, 31, 23, 50), ts(2026, 11, 1, 0, 20), 0.0)
    put(ledger, link_up_series("ct"), ts(2026, 11, 1, 0, 20), ts(2026, 12, 1), 1.0)
    put(ledger, link_up_series("cu"), ts(2026, 10, 1), ts(2026, 12, 1), 1.0)
    engine = KpiEngine(make_config(), ledger)
    october = results_by_id(engine, periods.month(2026, 10, SH), ts(2027, 1, 1))["egress_link_availability"]
    november = results_by_id(engine, periods.month(2026, 11, SH), ts(2027, 1, 1))["egress_link_availability"]
    oct_link_seconds = 2 * 31 * 86400
    nov_link_seconds = 2 * 30 * 86400
    assert october.totals.bad == 600
    assert november.totals.bad == 1200
    assert october.value == pytest.approx((oct_link_seconds - 600) / oct_link_seconds)
    assert november.value == pytest.approx((nov_link_seconds - 1200) / nov_link_seconds)
    assert october.met and november.met
    assert october.totals.coverage == 1.0


def test_maintenance_excluded_and_unknown_lowers_coverage_not_availability(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    day = ts(2026, 11, 10)
    # Mobile link m1 on Nov 10 (a one-day view): up 0-10h, down 10-12h (maintenance 10-11h),
    # unknown 12-14h (poll failures), up 14-24h.
    put(ledger, link_up_series("m1"), day, day + 10 * 3600, 1.0)
    put(ledger, link_up_series("m1"), day + 10 * 3600, day + 12 * 3600, 0.0)
    put(ledger, link_up_series("m1"), day + 12 * 3600, day + 14 * 3600, None)
    put(ledger, link_up_series("m1"), day + 14 * 3600, day + 24 * 3600, 1.0)
    window = {"name": "upgrade", "link_groups": ["mobile"],
              "start": "2026-11-10T10:00:00+08:00", "end": "2026-11-10T11:00:00+08:00"}
    engine = KpiEngine(make_config([window]), ledger)
    period = periods.Period("2026-11-10", day, day + 86400)
    result = results_by_id(engine, period, day + 86400)["mobile_office_link_availability"]
    assert result.totals.maintenance == 3600
    assert result.totals.bad == 3600  # 11-12h
    assert result.totals.unknown == 2 * 3600
    assert result.totals.good == 20 * 3600
    assert result.value == pytest.approx(20 / 21)  # 95.24 %: below 99 %
    assert result.met is False
    assert result.totals.coverage == pytest.approx(21 / 23)


def test_global_maintenance_applies_to_every_group_but_group_window_only_to_its_own(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    day = ts(2026, 11, 10)
    for link in ("ct", "cu", "m1"):
        put(ledger, link_up_series(link), day, day + 86400, 0.0)
    windows = [
        {"name": "all", "start": "2026-11-10T00:00:00+08:00", "end": "2026-11-10T01:00:00+08:00"},
        {"name": "egress only", "link_groups": ["egress"],
         "rrule": "FREQ=DAILY;BYHOUR=12", "dtstart": "2026-01-01T12:00:00", "duration": "2h"},
    ]
    engine = KpiEngine(make_config(windows), ledger)
    res = results_by_id(engine, periods.Period("d", day, day + 86400), day + 86400)
    assert res["mobile_office_link_availability"].totals.maintenance == 3600
    assert res["egress_link_availability"].totals.maintenance == 2 * 3 * 3600  # two links x 3 h


def test_bandwidth_mean_minimum_and_time_in_compliance(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    day = ts(2026, 11, 10)
    # ct 10G up all day; cu 10G up except 6 h down: sum 20G for 18 h, 10G for 6 h.
    put(ledger, link_available_series("ct"), day, day + 86400, 10 * GBIT)
    put(ledger, link_available_series("cu"), day, day + 6 * 3600, 10 * GBIT)
    put(ledger, link_available_series("cu"), day + 6 * 3600, day + 12 * 3600, 0.0)
    put(ledger, link_available_series("cu"), day + 12 * 3600, day + 86400, 10 * GBIT)
    engine = KpiEngine(make_config(), ledger)
    result = results_by_id(engine, periods.Period("d", day, day + 86400), day + 86400)["egress_bandwidth"]
    assert result.value == pytest.approx((18 * 20 + 6 * 10) / 24 * GBIT)  # 17.5 Gbit/s
    assert result.minimum == pytest.approx(10 * GBIT)
    assert result.compliance == pytest.approx(18 / 24)  # >= 15G for 18 of 24 h
    assert result.met is False  # objective 99 % of the time
    assert result.target.value == pytest.approx(15 * GBIT)


def test_bandwidth_unknown_while_any_link_unknown(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    day = ts(2026, 11, 10)
    put(ledger, link_available_series("ct"), day, day + 86400, 10 * GBIT)
    put(ledger, link_available_series("cu"), day, day + 12 * 3600, 10 * GBIT)  # no data after noon
    engine = KpiEngine(make_config(), ledger)
    result = results_by_id(engine, periods.Period("d", day, day + 86400), day + 86400)["egress_bandwidth"]
    assert result.value == pytest.approx(20 * GBIT)
    assert result.totals.unknown == 12 * 3600
    assert result.totals.coverage == 0.5
    assert result.met is True and result.sufficient is False


def test_month_to_date_stops_at_now_and_no_data_means_no_value(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    engine = KpiEngine(make_config(), ledger)
    now = ts(2026, 11, 27, 12)
    res = {r.definition.id: r for r in engine.month_to_date(now)}
    avail = res["egress_link_availability"]
    assert avail.period.label == "2026-11"
    assert avail.value is None and avail.met is None
    assert avail.totals.unknown == 2 * (now - ts(2026, 11, 1))


def cloud_config(kpi_extra=None, clouds=("gov", "mo")):
    entries = []
    if "gov" in clouds:
        entries.append({"type": "openstack", "name": "gov", "auth_url": "http://127.0.0.1:5000/v3",
                        "regions": ["sz-1", "sz-2"],
                        "auth": {"type": "password", "username": "u", "password": "p", "project_name": "x"}})
    if "mo" in clouds:
        entries.append({"type": "generic", "name": "mo", "url": "http://127.0.0.1:1/cap",
                        "mapping": {"vcpu": {"capacity": "a", "unit": "cores"}}})
    return parse_config(
        {
            "clouds": entries,
            "kpis": [{"id": "cloud_vcpu_capacity", **(kpi_extra or {})}, {"id": "cloud_memory_capacity"}],
            "maintenance": [
                {"name": "global", "start": "2026-11-10T06:00:00+08:00", "end": "2026-11-10T07:00:00+08:00"},
            ],
        },
        "test.yaml",
    )


def test_cloud_capacity_sums_regions_and_clouds_and_honours_global_maintenance(tmp_path):
    from collectors.cloud import series

    ledger = Ledger(tmp_path / "l.sqlite")
    day = ts(2026, 11, 10)
    put(ledger, series.cloud("gov", "sz-1", "vcpu", "capacity"), day, day + 86400, 10000.0)
    put(ledger, series.cloud("gov", "sz-2", "vcpu", "capacity"), day, day + 12 * 3600, 3000.0)
    put(ledger, series.cloud("gov", "sz-2", "vcpu", "capacity"), day + 12 * 3600, day + 86400, 6000.0)
    put(ledger, series.cloud("mo", "default", "vcpu", "capacity"), day, day + 86400, 1000.0)
    put(ledger, series.cloud("gov", "sz-1", "memory", "capacity"), day, day + 86400, 1.0)
    engine = KpiEngine(cloud_config(), ledger)
    res = results_by_id(engine, periods.Period("d", day, day + 86400), day + 86400)
    vcpu = res["cloud_vcpu_capacity"]
    # 14000 for 12 h (one hour of it in maintenance), 17000 for 12 h.
    assert vcpu.totals.maintenance == 3600
    assert vcpu.value == pytest.approx((11 * 14000 + 12 * 17000) / 23)
    assert vcpu.minimum == 14000
    assert vcpu.compliance == pytest.approx(12 / 23)  # >= 15000 only in the afternoon
    # The generic cloud maps no memory: memory sums the OpenStack regions only; sz-2 has no data.
    memory = res["cloud_memory_capacity"]
    assert memory.value is None and memory.totals.unknown == 23 * 3600


def test_cloud_kpi_can_name_its_clouds(tmp_path):
    from agent.kpi import plan

    plans = {p.definition.id: p for p in plan(cloud_config({"clouds": ["mo"]}))}
    assert plans["cloud_vcpu_capacity"].series() == ["cloud:mo:default:vcpu:capacity"]
    assert plans["cloud_memory_capacity"].series() == ["cloud:gov:sz-1:memory:capacity", "cloud:gov:sz-2:memory:capacity"]
    assert plans["cloud_memory_capacity"].target.value == 100000 * 2**30


def _carrier_works_day(ledger, day, cu_down=None):
    """Nov 10: ct down 10-12h (its carrier's works), up otherwise; cu up all day, or down over ``cu_down``."""
    put(ledger, link_up_series("ct"), day, day + 10 * 3600, 1.0)
    put(ledger, link_up_series("ct"), day + 10 * 3600, day + 12 * 3600, 0.0)
    put(ledger, link_up_series("ct"), day + 12 * 3600, day + 86400, 1.0)
    cuts = [day, *(cu_down or ()), day + 86400]
    for i, (a, b) in enumerate(zip(cuts, cuts[1:])):
        put(ledger, link_up_series("cu"), a, b, 0.0 if i == 1 else 1.0)
    for link in ("ct", "cu"):
        put(ledger, link_available_series(link), day, day + 86400, 10 * GBIT)


CT_WORKS = {"name": "ct carrier works", "links": ["ct"],
            "start": "2026-11-10T10:00:00+08:00", "end": "2026-11-10T12:00:00+08:00"}


def test_a_window_on_one_link_excludes_only_that_links_time(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    day = ts(2026, 11, 10)
    _carrier_works_day(ledger, day)
    engine = KpiEngine(make_config([CT_WORKS]), ledger)
    res = results_by_id(engine, periods.Period("d", day, day + 86400), day + 86400)
    egress = res["egress_link_availability"].totals
    # ct's 2 h are excluded; cu's same 2 h are counted (up): 22 h + 24 h good, nothing bad.
    assert (egress.maintenance, egress.good, egress.bad, egress.unknown) == (2 * 3600, 46 * 3600, 0, 0)
    assert res["egress_link_availability"].value == 1.0
    # The sum of capacities is one figure for both links: out while either is in maintenance.
    assert res["egress_bandwidth"].totals.maintenance == 2 * 3600
    assert res["mobile_office_link_availability"].totals.maintenance == 0  # another group: untouched


def test_the_other_link_failing_during_the_window_still_counts(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    day = ts(2026, 11, 10)
    _carrier_works_day(ledger, day, cu_down=(day + 11 * 3600, day + 11.5 * 3600))
    for windows, excluded, bad in (
        ([CT_WORKS], 2 * 3600, 1800),  # cu's 30 min outage inside ct's window is cu's own
        ([{**CT_WORKS, "links": None, "link_groups": ["egress"]}], 2 * 2 * 3600, 0),  # a group window forgives both
    ):
        windows = [{k: v for k, v in w.items() if v is not None} for w in windows]
        engine = KpiEngine(make_config(windows), ledger)
        totals = results_by_id(engine, periods.Period("d", day, day + 86400), day + 86400)[
            "egress_link_availability"].totals
        assert (totals.maintenance, totals.bad) == (excluded, bad)
        assert totals.good + totals.bad + totals.maintenance == 2 * 86400


def test_links_and_link_groups_together_cover_both(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    day = ts(2026, 11, 10)
    for link in ("ct", "cu", "m1"):
        put(ledger, link_up_series(link), day, day + 86400, 0.0)
    window = {**CT_WORKS, "link_groups": ["mobile"]}  # ct of egress, and all of mobile
    engine = KpiEngine(make_config([window]), ledger)
    res = results_by_id(engine, periods.Period("d", day, day + 86400), day + 86400)
    assert res["egress_link_availability"].totals.maintenance == 2 * 3600  # ct only
    assert res["mobile_office_link_availability"].totals.maintenance == 2 * 3600  # m1
