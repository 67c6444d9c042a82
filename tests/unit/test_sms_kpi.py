"""SMS KPI figures from hand-built ledgers, and the sms: config section."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent import periods
from agent.catalogue import BY_ID
from agent.config import ConfigError, parse_config
from agent.kpi import KpiEngine, plan
from agent.ledger import Ledger
from collectors.sms.series import sms_feed
from collectors.sms.collector import policy_of
from collectors.sms.records import DELIVERED, FAILED, PENDING, Record
from collectors.sms.store import SmsStore
from tests.sms_feed import read_over

SH = ZoneInfo("Asia/Shanghai")
GATEWAYS = [{"name": "gw-a", "url": "http://127.0.0.1:1/a"}, {"name": "gw-b", "url": "http://127.0.0.1:1/b"}]


def ts(*args) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


def make_config(kpis=None, gateways=GATEWAYS):
    kpis = kpis if kpis is not None else [{"id": "sms_delivery_rate"}, {"id": "sms_send_latency"},
                                          {"id": "sms_annual_volume"}]
    return parse_config({"sms": gateways, "kpis": kpis}, "t.yaml")


def problems(data) -> list[str]:
    try:
        parse_config(data, "c.yaml", env={})
    except ConfigError as exc:
        return exc.problems
    return []


@pytest.fixture
def ledger(tmp_path):
    opened = Ledger(tmp_path / "l.sqlite")
    yield opened
    opened.close()


def fill(ledger, config, gateway, records, now):
    store = SmsStore(ledger, {g.name: policy_of(g) for g in config.sms})
    store.ingest(gateway, records, now)


def ms(*args) -> int:
    return int(ts(*args) * 1000)


def test_catalogue_rows_are_verbatim_from_table_12():
    rows = {k: (BY_ID[k].name_zh, BY_ID[k].level1, BY_ID[k].level2, BY_ID[k].target_text)
            for k in ("sms_delivery_rate", "sms_send_latency", "sms_annual_volume")}
    assert rows == {
        "sms_delivery_rate": ("短信送达率", "产出指标", "质量指标", "≥98%"),
        "sms_send_latency": ("短信发送速度", "产出指标", "时效", "≤10秒"),
        "sms_annual_volume": ("短信年发送总量", "产出指标", "数量指标", "≥17000万条"),
    }
    assert [p.target.value for p in plan(make_config())] == [0.98, 10.0, 170_000_000]


def test_gateways_are_summed_and_coverage_is_feed_time(ledger):
    config = make_config()
    sub = ms(2026, 11, 10, 12, 0)
    fill(ledger, config, "gw-a", [Record("a1", DELIVERED, sub, sub + 2000, None),
                                  Record("a2", FAILED, sub, sub + 100, "X")], sub / 1000)
    fill(ledger, config, "gw-b", [Record("b1", DELIVERED, sub, sub + 12_000, None),
                                  Record("b2", PENDING, sub, None, None)], sub / 1000)
    month = periods.month(2026, 11, SH)
    now = ts(2026, 11, 21)  # 20 days into November
    # gw-a's feed known complete for the whole 20 days, gw-b's for 5: (20 + 5) / 40 gateway-days.
    read_over(ledger, "gw-a", month.start, month.start + 20 * 86400)
    read_over(ledger, "gw-b", month.start, month.start + 5 * 86400)
    results = {r.definition.id: r for r in KpiEngine(config, ledger).evaluate_period(month, now)}
    rate = results["sms_delivery_rate"]
    assert rate.value == pytest.approx(2 / 3) and rate.met is False
    assert rate.details["pending"] == 1 and rate.details["submitted"] == 4
    assert rate.coverage == pytest.approx(25 / 40)
    latency = results["sms_send_latency"]
    assert latency.compliance == 0.5 and latency.met is False  # 2 s and 12 s
    assert latency.details["delivered"] == 2
    only_a = make_config([{"id": "sms_delivery_rate", "gateways": ["gw-a"]}])
    (result,) = KpiEngine(only_a, ledger).evaluate_period(month, now)
    assert result.value == 0.5 and result.coverage == pytest.approx(20 / 20)


def test_no_data_means_no_value(ledger):
    results = KpiEngine(make_config(), ledger).month_to_date(ts(2026, 11, 5))
    assert [(r.value, r.met) for r in results] == [(None, None)] * 3


def test_annual_volume_pace_in_a_leap_year(ledger):
    config = make_config([{"id": "sms_annual_volume", "target": ">= 1000"}], gateways=GATEWAYS[:1])
    feb = ms(2028, 2, 10, 8, 0)
    fill(ledger, config, "gw-a", [Record(f"m{i}", PENDING, feb + i, None, None) for i in range(100)], feb / 1000)
    fill(ledger, config, "gw-a", [Record("dec", PENDING, ms(2027, 12, 31, 23, 59), None, None)], feb / 1000)
    read_over(ledger, "gw-a", ts(2028, 1, 1), ts(2028, 1, 1) + 40 * 86400)
    (result,) = KpiEngine(config, ledger).evaluate_period(periods.month(2028, 2, SH), ts(2028, 2, 10, 12))
    # 40.5 days of 366 elapsed: pro-rated 1000 x 40.5/366 = 110.66 > 100, so behind pace.
    assert result.value == 100  # December 2027's message belongs to last year
    assert result.details["days_elapsed"] == pytest.approx(40.5)
    assert result.details["prorated_target"] == pytest.approx(1000 * 40.5 / 366)
    assert result.details["projected_year_end"] == pytest.approx(100 * 366 / 40.5)
    assert result.met is False
    assert result.coverage == pytest.approx(40 / 40.5)


def test_the_latency_bound_may_be_overridden_on_an_exact_edge(ledger):
    config = make_config([{"id": "sms_send_latency", "target": "<= 5s", "objective": 0.5}])
    sub = ms(2026, 11, 2, 9, 0)
    fill(ledger, config, "gw-a", [Record(f"d{i}", DELIVERED, sub, sub + lat, None)
                                  for i, lat in enumerate((4999, 5000, 5001, 60_000))], sub / 1000)
    (result,) = KpiEngine(config, ledger).evaluate_period(periods.month(2026, 11, SH), ts(2026, 11, 3))
    assert result.compliance == 0.5 and result.met is True


def test_plan_inputs_are_the_feeds_and_the_zone():
    (p,) = plan(make_config([{"id": "sms_delivery_rate", "gateways": ["gw-b"]}]))
    assert p.inputs == (sms_feed("gw-b"), "tz:Asia/Shanghai")


# -- config ------------------------------------------------------------------------


def test_gateway_defaults_and_secrets():
    config = parse_config({"sms": [{"name": "gw", "url": "https://sms.example/api/", "api_key": "${KEY}",
                                    "webhook": {"listen": "0.0.0.0:9100", "token": "${TOKEN}"}}]},
                          "c.yaml", env={"KEY": "k-S3cret", "TOKEN": "t-S3cret"})
    (gw,) = config.sms
    assert (gw.url, gw.interval, gw.timeout, gw.grace, gw.margin, gw.page_size) == (
        "https://sms.example/api", 15.0, 10.0, 72 * 3600.0, 3600.0, 1000)
    assert gw.api_key.get_secret_value() == "k-S3cret"
    assert "S3cret" not in repr(config) and "S3cret" not in str(config)
    assert (gw.webhook.host, gw.webhook.port, gw.webhook.path) == ("0.0.0.0", 9100, "/sms/delivery-reports")


def test_gateway_problems_are_reported_with_their_paths():
    bad = [{"name": "a:b", "url": "ftp://x"}, {"name": "ok", "url": "http://h.example", "timeout": "20s"},
           {"name": "ok", "url": "http://h.example", "page_size": 0, "extra": 1}]
    found = problems({"sms": bad})
    assert "c.yaml: sms[0].name: 'a:b': gateway names may not contain ':'" in found
    assert any(p.startswith("c.yaml: sms[0].url:") for p in found)
    assert any("sms[1]" in p and "must not exceed interval" in p for p in found)
    assert any(p.startswith("c.yaml: sms[2].page_size:") for p in found)
    assert any(p.startswith("c.yaml: sms[2].extra:") for p in found)
    dup = [{"name": "gw", "url": "http://h.example"}] * 2
    assert problems({"sms": dup}) == ["c.yaml: sms[1].name: duplicate gateway name 'gw'"]
    hooks = [{"name": n, "url": "http://h.example", "webhook": {"listen": "127.0.0.1:9100", "token": "T0ken-" + n}}
             for n in ("a", "b")]
    assert problems({"sms": hooks}) == ["c.yaml: sms[1].webhook.listen: 127.0.0.1:9100 is used by another gateway"]


def test_sms_kpi_cross_checks():
    gw = {"name": "gw", "url": "http://h.example"}
    assert problems({"kpis": [{"id": "sms_delivery_rate"}]}) == [
        "c.yaml: kpis[0].id: sms_delivery_rate needs at least one gateway in sms"]
    assert problems({"sms": [gw], "kpis": [{"id": "sms_delivery_rate", "gateways": ["gw", "other"]}]}) == [
        "c.yaml: kpis[0].gateways: no SMS gateway named 'other'"]
    assert problems({"sms": [gw], "kpis": [{"id": "sms_send_latency", "link_group": "x", "clouds": ["c"]}]}) == [
        "c.yaml: kpis[0].link_group: sms_send_latency measures SMS gateways, not a link group",
        "c.yaml: kpis[0].clouds: sms_send_latency measures SMS gateways, not clouds"]
    assert problems({"sms": [gw], "kpis": [{"id": "cloud_vcpu_capacity", "gateways": ["gw"]}]})[0] == (
        "c.yaml: kpis[0].gateways: cloud_vcpu_capacity does not measure SMS gateways")
    assert problems({"sms": [gw], "kpis": [{"id": "sms_annual_volume"}]}) == []
