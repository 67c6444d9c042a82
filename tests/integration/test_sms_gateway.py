"""The SMS collector against the lab gateway over HTTP on 127.0.0.1, with a fixed record set.

Figures are compared with values worked out by hand from the records below
(comments show the arithmetic). Percentiles are nearest-rank: the smallest
latency with at least q of the delivered messages at or below it; the
collector's histogram reports them within latency.PERCENTILE_ACCURACY (1.1 %).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent import periods
from agent.config import parse_config
from agent.kpi import KpiEngine
from agent.lab.sms import SmsLab
from agent.ledger import Ledger
from collectors.sms.series import sms_feed
from collectors.base import CollectorError
from collectors.sms.collector import SmsCollector
from collectors.sms.config import SmsGateway
from collectors.sms.latency import PERCENTILE_ACCURACY
from tests.fakes import FakeClock

SH = ZoneInfo("Asia/Shanghai")
SECRET = "lab-sms-S3cret"
KPIS = [{"id": "sms_delivery_rate"}, {"id": "sms_send_latency"}, {"id": "sms_annual_volume", "target": ">= 35"}]


def ms(month: int, day: int, hour: int, minute: int, second: int = 0, milli: int = 0) -> int:
    return int(datetime(2026, month, day, hour, minute, second, milli * 1000, tzinfo=SH).timestamp() * 1000)


def pending(mid: str, submitted: int | str) -> dict:
    return {"id": mid, "status": "pending", "submitted_at": submitted}


def delivered(mid: str, submitted: int, latency_ms: int) -> dict:
    return {"id": mid, "status": "delivered", "submitted_at": submitted, "reported_at": submitted + latency_ms}


def failed(mid: str, submitted: int, reported: int, code: str, status: str = "failed") -> dict:
    return {"id": mid, "status": status, "submitted_at": submitted, "reported_at": reported, "error_code": code}


# October: 19 deliveries submitted from 23:50 on Oct 31 (Shanghai), latencies in ms.
# The 600000 ms one is reported at 00:08 on Nov 1: it counts for October.
OCT_LATENCIES = [800, 1200, 1500, 2000, 2400, 2500, 3100, 4000, 4500, 5500, 6100, 7900, 9999, 10000, 10001,
                 12000, 30000, 95000, 600000]
OCT_START = ms(10, 31, 23, 50)


def october_batch() -> list[dict]:
    """What the gateway has by Nov 1: 19 delivered, 2 failed, 1 expired, 3 still pending."""
    out: list[dict] = []
    for i, lat in enumerate(OCT_LATENCIES):
        sub = OCT_START + i * 1000
        out.append(pending(f"o{i}", sub))
        out.append(delivered(f"o{i}", sub, lat))
    out += [pending("of1", OCT_START + 30_000), failed("of1", OCT_START + 30_000, OCT_START + 35_000, "UNDELIV"),
            pending("of2", OCT_START + 31_000), failed("of2", OCT_START + 31_000, OCT_START + 90_000, "MK:0001"),
            pending("oe1", OCT_START + 32_000),
            failed("oe1", OCT_START + 32_000, ms(11, 1, 8, 0), "EXPIRED", status="EXPIRED"),  # SMPP spelling
            pending("L1", ms(10, 31, 23, 58)),  # late reports come in the second batch
            pending("L2", ms(10, 31, 23, 58, 30)),
            pending("P", ms(10, 31, 23, 59))]  # never reported
    # The gateway repeats itself: duplicates change nothing.
    out += [delivered("o0", OCT_START, 800), pending("o1", OCT_START + 1000)]
    return out


def late_batch() -> list[dict]:
    """Reports for October messages arriving on Nov 1-2, and November's own messages."""
    nov = ms(11, 2, 9, 0)
    out = [
        delivered("L1", ms(10, 31, 23, 58), 34 * 3600 * 1000),  # 34 h later: 122400 s
        failed("L2", ms(10, 31, 23, 58, 30), ms(11, 1, 1, 0), "UNDELIV"),
        # November: a final before its own pending (out of order), RFC 3339 times.
        {"id": "n0", "status": "DELIVRD", "submitted_at": "2026-11-02T09:00:00.000+08:00",
         "reported_at": "2026-11-02T09:00:01.000+08:00"},
        pending("n0", "2026-11-02T09:00:00+08:00"),
        pending("n1", nov + 1000), delivered("n1", nov + 1000, 3000),
        pending("n2", nov + 2000), delivered("n2", nov + 2000, 11000),
        pending("n3", nov + 3000), delivered("n3", nov + 3000, 20000),
        pending("n4", nov + 4000), failed("n4", nov + 4000, nov + 9000, "DB:0141"),
    ]
    return out


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 11, 3, 12, 0, tzinfo=SH).timestamp())


@pytest.fixture
async def lab(clock):
    async with SmsLab(traffic=None, clock=clock) as running:
        yield running


@pytest.fixture
def ledger(tmp_path):
    opened = Ledger(tmp_path / "ledger.sqlite")
    yield opened
    opened.close()


def gateway_dict(lab: SmsLab, **overrides) -> dict:
    settings = {"interval": "60s", "timeout": "5s", "retries": 2, "backfill": "60d", "page_size": 7}
    return lab.gateway_config("gov-sms", **{**settings, **overrides})


def make_collector(lab: SmsLab, ledger: Ledger, clock: FakeClock, **overrides) -> SmsCollector:
    return SmsCollector([SmsGateway.model_validate(gateway_dict(lab, **overrides))], ledger, clock=clock,
                        backoff_base=0.01)


@pytest.fixture
async def collector(lab, ledger, clock):
    made = make_collector(lab, ledger, clock)
    yield made
    await made.close()


def engine_for(lab: SmsLab, ledger: Ledger) -> KpiEngine:
    config = parse_config({"sms": [gateway_dict(lab)], "kpis": KPIS}, "test.yaml")
    return KpiEngine(config, ledger)


def figures(engine: KpiEngine, month: int, now: float) -> dict:
    return {r.definition.id: r for r in engine.evaluate_period(periods.month(2026, month, SH), now)}


async def poll(collector: SmsCollector):
    return await collector.poll(collector.targets()[0])


def totals(collector: SmsCollector) -> dict[str, float]:
    return collector.store.snapshot("gov-sms").totals


def close_to(value: float) -> object:
    return pytest.approx(value, rel=PERCENTILE_ACCURACY)


# -- the figures -------------------------------------------------------------------


async def test_figures_match_hand_computed_values_and_late_reports_count_for_the_submit_month(
        lab, collector, ledger, clock):
    engine = engine_for(lab, ledger)
    lab.publish(october_batch())
    result = await poll(collector)
    assert [(o.series, o.value) for o in result.observations] == [(sms_feed("gov-sms"), 1.0)]

    october = figures(engine, 10, clock())
    # Final so far: 19 delivered, 2 failed, 1 expired -> 19/22; L1, L2 and P pending.
    assert october["sms_delivery_rate"].value == pytest.approx(19 / 22)
    assert october["sms_delivery_rate"].details["pending"] == 3
    assert october["sms_delivery_rate"].met is False
    latency = october["sms_send_latency"]
    # 14 of the 19 latencies are <= 10 000 ms (10 001 is not). Nearest rank, n=19:
    # p50 = 10th = 5500 ms, p95 = 19th (ceil 18.05) = 600 s, p99 = 19th = 600 s.
    assert latency.compliance == pytest.approx(14 / 19)
    assert latency.details["p50_seconds"] == close_to(5.5)
    assert latency.details["p95_seconds"] == close_to(600)
    assert latency.details["p99_seconds"] == close_to(600)
    assert latency.value == close_to(600)  # the objective's percentile (p95)
    assert latency.met is False  # 73.7 % within 10 s < 95 %

    lab.publish(late_batch())
    await poll(collector)
    october = figures(engine, 10, clock())
    november = figures(engine, 11, clock())
    # October after the late reports: delivered 19 + L1 = 20, failed 2 + L2 = 3, expired 1 -> 20/24.
    rate = october["sms_delivery_rate"]
    assert rate.value == pytest.approx(20 / 24)
    assert {k: rate.details[k] for k in ("submitted", "delivered", "failed", "expired", "pending")} == {
        "submitted": 25, "delivered": 20, "failed": 3, "expired": 1, "pending": 1}
    latency = october["sms_send_latency"]
    # n=20: within 10 s 14/20; p50 = 10th = 5500 ms; p95 = 19th = 600 s; p99 = 20th = L1 = 122400 s.
    assert latency.compliance == pytest.approx(14 / 20)
    assert latency.details["p50_seconds"] == close_to(5.5)
    assert latency.details["p95_seconds"] == close_to(600)
    assert latency.details["p99_seconds"] == close_to(122400)
    # November: n0..n3 delivered (1, 3, 11, 20 s), n4 failed -> 4/5; within 10 s 2/4;
    # p50 = 2nd = 3 s, p95 = p99 = 4th = 20 s.
    assert november["sms_delivery_rate"].value == pytest.approx(4 / 5)
    assert november["sms_send_latency"].compliance == pytest.approx(2 / 4)
    assert november["sms_send_latency"].details["p50_seconds"] == close_to(3)
    assert november["sms_send_latency"].details["p95_seconds"] == close_to(20)
    assert november["sms_send_latency"].details["p99_seconds"] == close_to(20)
    # Year to date on Nov 3 12:00: 25 + 5 = 30 messages in 306.5 of 365 days:
    # pro-rated target 35 x 306.5/365 = 29.39 <= 30, so on pace; projected 30 x 365/306.5 = 35.73.
    volume = november["sms_annual_volume"]
    assert volume.value == 30
    assert volume.details["month"] == 5
    assert volume.details["prorated_target"] == pytest.approx(35 * 306.5 / 365)
    assert volume.details["projected_year_end"] == pytest.approx(30 * 365 / 306.5)
    assert volume.met is True
    october_volume = october["sms_annual_volume"]  # as of Oct 31 24:00: 25 in 304 days
    assert october_volume.value == 25 and october_volume.met is False

    t = totals(collector)
    assert (t["submitted"], t["delivered"], t["failed"], t["expired"]) == (30, 24, 4, 1)
    assert t["skipped:duplicate"] == 2 + 1  # o0 and o1 repeated; n0's pending after its final


async def test_pending_past_the_grace_expires_as_no_report(lab, collector, ledger, clock):
    engine = engine_for(lab, ledger)
    lab.publish(october_batch() + late_batch())
    await poll(collector)
    clock.now = datetime(2026, 11, 4, 0, 0, tzinfo=SH).timestamp()  # P was submitted 72 h 1 min ago
    await poll(collector)
    rate = figures(engine, 10, clock())["sms_delivery_rate"]
    assert rate.value == pytest.approx(20 / 25)  # P counts as expired now
    assert (rate.details["expired"], rate.details["pending"]) == (2, 0)
    assert totals(collector)["code:no_report"] == 1
    # A report for P after the grace is a duplicate of its expiry, not a second outcome.
    lab.publish([delivered("P", ms(10, 31, 23, 59), 72 * 3600 * 1000 + 30_000)])
    await poll(collector)
    assert figures(engine, 10, clock())["sms_delivery_rate"].value == pytest.approx(20 / 25)


async def test_histogram_and_counters_follow_the_metrics_table(lab, collector):
    lab.publish(october_batch() + late_batch())
    result = await poll(collector)
    by_key = {(s.name, s.labels): s.value for s in result.samples}
    gw = (("gateway", "gov-sms"),)
    assert by_key[("sla_sms_submitted_total", gw)] == 30
    assert by_key[("sla_sms_delivered_total", gw)] == 24
    assert by_key[("sla_sms_failed_total", gw)] == 4  # of1, of2, L2, n4 (oe1 is EXPIRED)
    assert by_key[("sla_sms_expired_total", gw)] == 1
    assert by_key[("sla_sms_pending", gw)] == 1
    assert by_key[("sla_sms_errors_total", gw + (("code", "UNDELIV"),))] == 2
    # le="10.0" is exact: 14 October + 2 November deliveries took <= 10 s.
    assert by_key[("sla_sms_send_latency_seconds_bucket", gw + (("le", "10.0"),))] == 16
    assert by_key[("sla_sms_send_latency_seconds_bucket", gw + (("le", "+Inf"),))] == 24
    assert by_key[("sla_sms_send_latency_seconds_count", gw)] == 24


async def test_secret_never_in_errors_and_a_wrong_key_is_named(lab, ledger, clock):
    wrong = make_collector(lab, ledger, clock, api_key="not-the-key-123")
    with pytest.raises(CollectorError) as caught:
        await poll(wrong)
    await wrong.close()
    message = str(caught.value)
    assert message.startswith("sms GET ") and "API key rejected" in message
    assert "not-the-key-123" not in message and SECRET not in message and "since=" not in message
