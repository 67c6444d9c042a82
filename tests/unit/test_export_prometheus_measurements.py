"""The store-based Measurements on a scripted API: KPI results built as the ledger path builds them."""

from __future__ import annotations

import math
import re
from zoneinfo import ZoneInfo

import pytest

from agent.config import parse_config
from agent.export.layout import table12
from agent.export.model import build_report
from agent.export.prometheus_measurements import PrometheusMeasurements
from agent.periods import month

UTC = ZoneInfo("UTC")
NOV = month(2026, 11, UTC)
T = NOV.start + 86400  # 2 November, 00:00
GBIT = 1e9 / 8


def labels(**kv: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(kv.items()))


class FakeApi:
    """Answers by what the expression reads; records what was asked."""

    def __init__(self, raw=None, ranges=None, instants=None):
        self._raw = raw or {}
        self._ranges = ranges or {}
        self._instants = instants or {}
        self.asked: list[str] = []
        self.url = "http://store:9090"

    @staticmethod
    def _pick(table, expr):
        return next((v for k, v in table.items() if re.search(k, expr)), {})

    def raw(self, selector, start, end):
        self.asked.append(selector)
        found = self._pick(self._raw, selector)
        return {k: [(t, v) for t, v in p if start <= t <= end] for k, p in found.items()}

    def query_range(self, expr, start, end, step, sampled=None):
        self.asked.append(expr)
        return {k: [(t, v) for t, v in p if start <= t <= end] for k, p in self._pick(self._ranges, expr).items()}

    def instant(self, expr, at):
        self.asked.append(expr)
        return self._pick(self._instants, expr)


def config(**extra):
    data = {
        "agent": {"data_dir": "unused", "timezone": "UTC"},
        "snmp": {"devices": [{"name": "r0", "address": "127.0.0.1", "community": "x"}]},
        "link_groups": [{"name": "internet_egress", "links": [
            {"name": f"egress-{n}", "device": "r0", "if_name": n, "capacity": "10G"} for n in "abc"]}],
        "clouds": [{"type": "openstack", "name": "gov", "auth_url": "http://127.0.0.1:1/v3", "regions": ["r1", "r2"],
                    "auth": {"type": "application_credential", "id": "x", "secret": "x"}}],
        "sms": [{"name": "gw", "url": "http://127.0.0.1:1/sms", "api_key": "x"}],
        "kpis": [{"id": "egress_bandwidth", "link_group": "internet_egress"},
                 {"id": "egress_link_availability", "link_group": "internet_egress"},
                 {"id": "cloud_vcpu_capacity"}, {"id": "sms_delivery_rate"}, {"id": "sms_send_latency"},
                 {"id": "sms_annual_volume"}],
        **extra,
    }
    return parse_config(data, "sla.yaml")


def every(step, start, end, value):
    return [(start + i * step, value(start + i * step)) for i in range(int((end - start) / step) + 1)]


def test_bandwidth_is_summarised_from_points_at_the_scrape_interval():
    # egress-a and -b up all hour (10G each); egress-c unknown (absent) for the first 15 minutes.
    hour = (T, T + 3600)
    points = {labels(link=f"egress-{n}"): every(15, *hour, lambda t: 10 * GBIT) for n in "ab"}
    points[labels(link="egress-c")] = every(15, T + 900, hour[1], lambda t: 10 * GBIT)
    probe = {labels(link="egress-a", job="sla-agent"): every(15, T + 3000, T + 3600, lambda t: 1.0)}
    api = FakeApi(raw={"^sla_link_up": probe}, ranges={"sla_link_capacity": points})
    m = PrometheusMeasurements(config(), api, now=hour[1])
    result = m.results(month(2026, 11, UTC))["egress_bandwidth"]
    assert result.value == pytest.approx(30 * GBIT)
    assert result.totals.good == pytest.approx(2700) and result.totals.bad == 0  # 30G all the known time
    assert result.coverage == pytest.approx(2700 / (hour[1] - NOV.start))
    assert m.steps["egress_bandwidth"] == 15
    assert "max by (link)" in next(e for e in api.asked if "capacity" in e)


def test_cloud_capacity_sums_the_configured_regions():
    r = {labels(cloud="gov", region=r): every(60, T, T + 600, lambda t, v=v: v) for r, v in (("r1", 9000), ("r2", 7000))}
    r[labels(cloud="gov", region="other")] = every(60, T, T + 600, lambda t: 1e6)  # not configured: ignored
    api = FakeApi(ranges={"sla_cloud_vcpu_capacity": r})
    result = PrometheusMeasurements(config(), api, now=T + 600).results(NOV)["cloud_vcpu_capacity"]
    assert result.value == 16000 and result.minimum == 16000 and result.compliance == 1.0


def test_availability_sums_link_runs_and_unmeasured_time_is_unknown():
    def state_series(link, runs):
        out = {}
        for shard, samples in runs:
            for state in ("up", "down", "unknown", "maintenance"):
                out[labels(__name__="sla_link_state_seconds_total", link=link, group="internet_egress",
                           shard=shard, state=state)] = [(t, v.get(state, 0.0)) for t, v in samples]
        return out

    raw = {**state_series("egress-a", [("0", [(T + 60, {"up": 60}), (T + 120, {"up": 100, "down": 20})])]),
           **state_series("egress-b", [("1", [(T + 60, {"up": 60}), (T + 120, {"up": 120})])])}
    api = FakeApi(raw={"^sla_link_state_seconds_total": raw})
    m = PrometheusMeasurements(config(), api, now=T + 120)
    result = m.results(NOV)["egress_link_availability"]
    assert result.totals.good == 220 and result.totals.bad == 20
    assert result.totals.unknown == pytest.approx(3 * (T + 120 - NOV.start) - 240)  # egress-c: never seen
    assert result.value == pytest.approx(220 / 240)
    assert [(o.series, o.seconds) for o in m.outages("egress_link_availability", NOV)] == [("egress-a", 20)]


def sms_raw(submitted_points, delivered=None, buckets=None):
    out = {labels(__name__="sla_sms_submitted_total", gateway="gw", instance="a"): submitted_points}
    if delivered:
        for name, points in delivered.items():
            out[labels(__name__=f"sla_sms_{name}_total", gateway="gw", instance="a")] = points
    for le, points in (buckets or {}).items():
        out[labels(__name__="sla_sms_send_latency_seconds_bucket", gateway="gw", instance="a", le=le)] = points
    return out


def test_an_sms_series_new_in_the_window_counts_from_zero():
    points = [(T, 5.0), (T + 15, 9.0)]
    api = FakeApi(raw={"sla_sms": sms_raw(points)})
    results = PrometheusMeasurements(config(), api, now=T + 15).results(NOV)
    assert results["sms_delivery_rate"].details["submitted"] == 9
    assert any("last_over_time(sla_sms_submitted_total" in e for e in api.asked)


def test_an_sms_series_known_before_the_window_goes_on_from_its_old_totals():
    # The agent was down over 1 November 00:00 (no sample in the hour before); its lifetime
    # totals were 990 on 31 October and 1000 when it came back: 10 were read in November.
    points = [(T, 1000.0), (T + 15, 1004.0)]
    api = FakeApi(raw={"sla_sms": sms_raw(points)},
                  instants={r"last_over_time\(sla_sms_submitted_total": {labels(gateway="gw"): 990.0}})
    results = PrometheusMeasurements(config(), api, now=T + 15).results(NOV)
    assert results["sms_delivery_rate"].details["submitted"] == 14


def test_delivery_rate_latency_and_annual_volume_from_the_counters():
    base = T - 60  # a series new in the window: counted from its first value (0 here)
    counters = {"delivered": [(base, 0), (T + 60, 8), (T + 120, 18)], "failed": [(base, 0), (T + 60, 1), (T + 120, 2)],
                "expired": [(base, 0), (T + 120, 0)]}
    cumulative = {"2.5": 15, "10.0": 16, "20.0": 18, "+Inf": 18}
    buckets = {le: [(base, 0), (T + 120, n)] for le, n in cumulative.items()}
    api = FakeApi(raw={"sla_sms": sms_raw([(base, 0.0), (T + 120, 20.0)], counters, buckets)},
                  instants={"sla_sms_pending": {(): 3.0}})
    m = PrometheusMeasurements(config(), api, now=T + 120)
    results = m.results(NOV)
    rate = results["sms_delivery_rate"]
    assert rate.value == pytest.approx(18 / 20) and rate.details["pending"] == 3 and rate.details["final"] == 20
    latency = results["sms_send_latency"]
    assert latency.compliance == pytest.approx(16 / 18) and latency.value == 20.0  # p95: 18th of 18 in (10, 20]
    assert latency.details["p50_seconds"] == 2.5
    annual = results["sms_annual_volume"]
    assert annual.value == 20 and annual.details["month"] == 20
    report = m.annotate(build_report(table12(), m, {}, NOV, "month", T + 120, UTC, charts=m.charts(NOV)))
    notes = {row.kpi: row.note for row in report.rows if row.kpi}
    assert "按代理读取到最终状态的时间计入" in notes["sms_delivery_rate"]
    assert "按代理读取到提交记录的时间计入" in notes["sms_annual_volume"]
    assert report.store_url == "http://store:9090"
    assert "分位时延取直方图桶上界" in notes["sms_send_latency"]
    assert "按采集间隔 15 秒采样" in notes["egress_bandwidth"]
    assert "链路状态秒数计数器精确累计" in notes["egress_link_availability"]
    bars = report.charts.distributions[0].bins
    assert bars[0] == (1.25, 2.5, 15) and bars[-1] == (10.0, 20.0, 2) and all(b[0] > 0 for b in bars)


def test_maintenance_seconds_come_from_the_config_windows():
    windows = [{"name": "works", "links": ["egress-a"], "start": "2026-11-14T01:00:00+00:00",
                "end": "2026-11-14T03:00:00+00:00"}]
    m = PrometheusMeasurements(config(maintenance=windows), FakeApi(), now=NOV.end + 10)
    assert m.maintenance_seconds("egress_link_availability", NOV) == 7200
    assert m.maintenance_seconds("cloud_vcpu_capacity", NOV) == 0  # only global windows apply to clouds
    assert math.isclose(m.results(NOV)["egress_link_availability"].coverage, 0.0)


def probe_config():
    return parse_config({
        "agent": {"data_dir": "unused", "timezone": "UTC"},
        "snmp": {"devices": [{"name": f"r{i}", "address": "127.0.0.1", "community": "x"} for i in range(3)]},
        "probes": [{"name": "code", "url": "https://127.0.0.1:1/code"},
                   {"name": "nat", "url": "https://127.0.0.1:1/nat", "system": "nucleic-acid"},
                   {"name": "vax", "url": "https://127.0.0.1:1/vax", "system": "vaccination"}],
        "kpis": [{"id": "app_code_display_stability", "probes": ["code"]},
                 {"id": "epidemic_platform_availability", "probes": ["nat", "vax"]}, {"id": "managed_devices"}],
    }, "sla.yaml")


def test_probe_kpis_from_the_sampled_success_gauge_by_hand():
    # One hour at a 15 s scrape: code fails for 10 minutes; vax for 30; nat is up; vax is unknown
    # (no sample) for the last 15 minutes.
    hour = (T, T + 3600)
    code = every(15, *hour, lambda t: 0.0 if T + 600 <= t < T + 1200 else 1.0)
    vax = every(15, T, T + 2685, lambda t: 0.0 if t < T + 1800 else 1.0)  # its last point holds to T + 2700
    nat = every(15, *hour, lambda t: 1.0)
    success = {labels(probe="code"): code, labels(probe="nat"): nat, labels(probe="vax"): vax}
    probe = {labels(probe="code", job="sla-agent"): every(15, T + 3000, T + 3600, lambda t: 1.0)}
    api = FakeApi(raw={"sla_probe_success": probe}, ranges={"sla_probe_success": success})
    results = PrometheusMeasurements(probe_config(), api, now=hour[1]).results(NOV)
    stability = results["app_code_display_stability"]
    assert stability.value == pytest.approx(50 / 60) and stability.totals.bad == pytest.approx(600)
    platform = results["epidemic_platform_availability"]
    assert platform.parts["vaccination"].value == pytest.approx(15 / 45)  # 45 known minutes, 15 up
    assert platform.parts["nucleic-acid"].value == 1.0
    assert platform.value == pytest.approx(15 / 45) and platform.met is False
    assert "max by (probe)" in next(e for e in api.asked if "sla_probe_success" in e and "max" in e)


def test_a_failed_device_poll_in_the_store_is_unknown_not_a_device_that_answered():
    up = {labels(target="r0"): every(15, T, T + 600, lambda t: 1.0),
          labels(target="r1"): every(15, T, T + 600, lambda t: 0.0),  # never answered: known nowhere
          labels(target="r2"): every(15, T, T + 600, lambda t: 1.0 if t < T + 60 else 0.0)}
    api = FakeApi(raw={"sla_target_up": {labels(target="r0"): every(15, T, T + 600, lambda t: 1.0)}},
                  ranges={"sla_target_up": up})
    devices = PrometheusMeasurements(probe_config(), api, now=T + 600).results(NOV)["managed_devices"]
    assert devices.value == 2  # r0 and r2 answered at least once
    assert devices.details == {"configured": 3.0, "known": 2.0}
