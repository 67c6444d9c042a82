"""The SMS canary against the lab gateway's submit API over HTTP on 127.0.0.1.

The canary times its probes on the event loop's monotonic clock, and the lab
releases a submitted message's final record on that loop's timer, so a fixed
lab latency L must read as L .. L + one poll step (+ a status round trip).
"""

from __future__ import annotations

import logging
import math
import time

import pytest
from prometheus_client import generate_latest

from agent.app import build_collectors
from agent.config import parse_config
from agent.exposition import make_registry
from agent.lab.sms import SmsLab
from agent.ledger import Ledger
from agent.scheduler import Scheduler
from agent.state import AgentState
from collectors.base import CollectorError
from collectors.sms.canary import STEP, SmsCanaryCollector
from collectors.sms.collector import SmsCollector
from collectors.sms.config import SmsGateway

PROBE = "+8613912345678"
KEY = "lab-sms-S3cret"
ROUND_TRIP = 0.3  # generous: a status request on 127.0.0.1 under a loaded CI box


def gateway(lab: SmsLab, *, canary: dict | None = None, **overrides) -> SmsGateway:
    settings = {"interval": "30s", "timeout": "3s", "retries": 2, **overrides}
    block = {"to": PROBE, "interval": "30s", "timeout": "5s", **(canary or {})}
    return SmsGateway.model_validate(lab.gateway_config("gov-sms", canary=block, **settings))


def collector_for(lab: SmsLab, **kwargs) -> SmsCanaryCollector:
    return SmsCanaryCollector([gateway(lab, **kwargs)], backoff_base=0.01)


def samples(result) -> dict[tuple[str, tuple], float]:
    return {(s.name, s.labels): s.value for s in result.samples}


def value(result, name: str, **labels: str) -> float | None:
    want = tuple({"gateway": "gov-sms", **labels}.items())
    return samples(result).get((name, want))


def failures(collector: SmsCanaryCollector) -> dict[str, int]:
    return {reason: count for reason, count in collector._state["gov-sms"].failures.items() if count}


async def poll(collector: SmsCanaryCollector):
    return await collector.poll(collector.targets()[0])


async def failed_poll(collector: SmsCanaryCollector) -> str:
    """Poll once, expecting a failed probe; close the collector; the error's message."""
    try:
        with pytest.raises(CollectorError) as info:
            await poll(collector)
    finally:
        await collector.close()
    return str(info.value)


@pytest.fixture
async def lab():
    async with SmsLab(traffic=None, canary_latency=1.0, canary_outcome="delivered") as running:
        yield running


# -- delivered --------------------------------------------------------------------


async def test_delivered_probe_measures_the_lab_latency_within_one_step(lab):
    canary = collector_for(lab)
    try:
        (target,) = canary.targets()
        assert (canary.kind, target.name, target.interval) == ("sms_canary", "gov-sms/canary", 30.0)
        started = time.monotonic()
        result = await poll(canary)
        took = time.monotonic() - started
    finally:
        await canary.close()
    latency = value(result, "sla_sms_canary_latency_seconds")
    assert 1.0 <= latency <= 1.0 + STEP + ROUND_TRIP
    assert latency <= took
    assert value(result, "sla_sms_canary_delivered") == 1
    assert value(result, "sla_sms_canary_probes_total") == 1
    for reason in ("submit", "status", "timeout", "failed", "expired"):
        assert value(result, "sla_sms_canary_failures_total", reason=reason) == 0
    assert result.observations == ()
    # What the gateway got: one message to the probe number, with the default text.
    (sent,) = lab.submissions
    assert sent["to"] == PROBE and "sla-agent" in sent["text"]
    assert lab.message(sent["id"])["status"] == "delivered"
    # Status asked every STEP until delivered: about 1.0 / 0.5 = 2-3 requests, never a flood.
    status_requests = [path for path, _ in lab.requests if path.startswith("/v1/messages/")]
    assert 2 <= len(status_requests) <= 4


async def test_canary_message_is_a_real_message_in_the_feed_and_the_counts(lab, tmp_path):
    canary = collector_for(lab, canary={"text": "canary 测试"})
    ledger = Ledger(tmp_path / "ledger.sqlite")
    feed = SmsCollector([gateway(lab)], ledger, backoff_base=0.01)
    try:
        await poll(canary)
        await feed.poll(feed.targets()[0])
    finally:
        await canary.close()
        await feed.close()
    totals = feed.store.snapshot("gov-sms").totals
    assert (totals.get("submitted"), totals.get("delivered")) == (1, 1)
    assert [e for e in lab.entries() if '"pending"' in e] and [e for e in lab.entries() if '"delivered"' in e]
    assert lab.submissions[0]["text"] == "canary 测试"
    ledger.close()


async def test_transient_status_errors_are_asked_again(lab):
    lab.fail_status_next(503, 2)
    canary = collector_for(lab)
    try:
        result = await poll(canary)
    finally:
        await canary.close()
    assert value(result, "sla_sms_canary_delivered") == 1
    assert failures(canary) == {}


# -- failed, expired, never -------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["failed", "expired"])
async def test_failed_or_expired_message_is_a_probe_that_answered_not_delivered(outcome, caplog):
    caplog.set_level(logging.INFO)
    async with SmsLab(traffic=None, canary_latency=0.2, canary_outcome=outcome) as lab:
        canary = collector_for(lab)
        try:
            first = await poll(canary)
            second = await poll(canary)
        finally:
            await canary.close()
    for result in (first, second):
        assert value(result, "sla_sms_canary_delivered") == 0
        assert value(result, "sla_sms_canary_latency_seconds") is None  # never delivered
    assert value(second, "sla_sms_canary_probes_total") == 2
    assert value(second, "sla_sms_canary_failures_total", reason=outcome) == 2
    assert failures(canary) == {outcome: 2}
    # Logged once, on the change, not per probe.
    lines = [r.getMessage() for r in caplog.records if "canary" in r.getMessage()]
    assert len(lines) == 1 and outcome in lines[0], lines


async def test_latency_gauge_keeps_the_last_delivered_probe():
    async with SmsLab(traffic=None, canary_latency=0.2, canary_outcome="delivered") as lab:
        canary = collector_for(lab)
        try:
            delivered = await poll(canary)
            lab.canary_outcome = "failed"
            failed = await poll(canary)
        finally:
            await canary.close()
    assert value(failed, "sla_sms_canary_delivered") == 0
    assert value(failed, "sla_sms_canary_latency_seconds") == value(delivered, "sla_sms_canary_latency_seconds")


async def test_never_delivered_is_a_timeout_in_bounded_time():
    async with SmsLab(traffic=None, canary_outcome="never") as lab:
        canary = collector_for(lab, canary={"timeout": "1.5s", "interval": "10s"})
        started = time.monotonic()
        message = await failed_poll(canary)
        took = time.monotonic() - started
        status_requests = [path for path, _ in lab.requests if path.startswith("/v1/messages/")]
    assert 1.4 <= took < 1.5 + 1.0
    assert message.startswith("message SC") and "no final status within 1.5s" in message
    assert 1 <= len(status_requests) <= math.ceil(1.5 / STEP) + 1
    assert failures(canary) == {"timeout": 1}


async def test_status_api_down_all_along_is_a_status_failure():
    async with SmsLab(traffic=None, canary_latency=0.2, canary_outcome="delivered") as lab:
        lab.fail_status_next(500, 100)
        canary = collector_for(lab, canary={"timeout": "1s", "interval": "10s"})
        error = await failed_poll(canary)
    assert "status unavailable for 1s" in error and "HTTP 500" in error
    assert failures(canary) == {"status": 1}


# -- the submit ---------------------------------------------------------------------------


async def test_submit_5xx_is_retried_per_the_gateway_retries(lab):
    lab.fail_submit_next(503, 2)  # retries: 2 -> the third attempt gets through
    canary = collector_for(lab)
    try:
        result = await poll(canary)
        assert value(result, "sla_sms_canary_delivered") == 1
    except BaseException:
        await canary.close()
        raise
    lab.fail_submit_next(503, 3)
    message = await failed_poll(canary)
    assert message.startswith("submit failed: sms canary POST http://127.0.0.1:")
    assert "HTTP 503" in message and "after 3 attempts" in message
    assert [status for path, status in lab.requests if path == "/v1/messages"] == [503, 503, 201, 503, 503, 503]
    assert len(lab.submissions) == 1  # nothing was sent by the failed probe
    assert failures(canary) == {"submit": 1}


async def test_wrong_key_is_a_clear_error(lab):
    canary = collector_for(lab, api_key="not-the-key")
    error = await failed_poll(canary)
    assert "HTTP 401: API key rejected (check api_key)" in error
    assert "not-the-key" not in error
    assert [status for path, status in lab.requests if path == "/v1/messages"] == [401]  # not retried
    assert failures(canary) == {"submit": 1}


async def test_gateway_unreachable_is_a_submit_failure_in_bounded_time(lab):
    await lab.go_down()
    canary = collector_for(lab, timeout="1s")
    started = time.monotonic()
    error = await failed_poll(canary)
    assert time.monotonic() - started < 3
    assert "submit failed" in error and "connection error" in error


# -- through the agent: scheduler, state, /metrics, logs ---------------------------------------


def canary_config(lab: SmsLab, tmp_path, **overrides) -> dict:
    entry = lab.gateway_config("gov-sms", api_key="${LAB_KEY}", interval="30s", timeout="3s",
                               canary={"to": "${PROBE}", "interval": "30s", "timeout": "2s"}, **overrides)
    return {"agent": {"data_dir": str(tmp_path)}, "sms": [entry]}


async def test_the_probe_number_never_reaches_logs_errors_or_metrics(lab, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    config = parse_config(canary_config(lab, tmp_path), "t.yaml", env={"LAB_KEY": KEY, "PROBE": PROBE})
    assert PROBE not in repr(config)
    ledger = Ledger(tmp_path / "ledger.sqlite")
    collectors = build_collectors(config, ledger)
    assert [c.kind for c in collectors] == ["sms", "sms_canary"]
    canary = collectors[1]
    (target,) = canary.targets()
    assert target.name == "gov-sms/canary"
    state = AgentState()
    scheduler = Scheduler(collectors, state.apply)
    texts: list[str] = []
    errors: list[str] = []
    try:
        ok = await scheduler.poll_once(canary, target)  # delivered
        texts.append(generate_latest(make_registry(state)).decode())
        lab.fail_submit_next(500, 3)
        failed = await scheduler.poll_once(canary, target)  # submit 5xx after the retries
        texts.append(generate_latest(make_registry(state)).decode())
        lab.canary_outcome = "never"
        timed_out = await scheduler.poll_once(canary, target)
        texts.append(generate_latest(make_registry(state)).decode())
        lab.canary_outcome = "delivered"
        back = await scheduler.poll_once(canary, target)
        texts.append(generate_latest(make_registry(state)).decode())
        errors = [o.error for o in (ok, failed, timed_out, back) if o.error]
    finally:
        for collector in collectors:
            await collector.close()
        ledger.close()
    assert (ok.error, back.error) == (None, None)
    assert failed.error and timed_out.error
    assert 'sla_target_up{collector="sms_canary",target="gov-sms/canary"} 1.0' in texts[0]
    assert 'sla_target_up{collector="sms_canary",target="gov-sms/canary"} 0.0' in texts[1]
    assert "sla_sms_canary_delivered" not in texts[1]  # a failed poll's samples are dropped
    assert 'sla_sms_canary_failures_total{gateway="gov-sms",reason="submit"} 1.0' in texts[3]
    assert 'sla_sms_canary_failures_total{gateway="gov-sms",reason="timeout"} 1.0' in texts[3]
    assert 'sla_sms_canary_probes_total{gateway="gov-sms"} 4.0' in texts[3]
    # The scheduler logs the change once (unknown), not per failed probe, then the recovery.
    changes = [r.getMessage() for r in caplog.records if r.name == "agent.scheduler"]
    assert len(changes) == 2 and "recovered" in changes[1], changes
    assert changes[0].startswith("sms_canary target gov-sms/canary is unknown: submit failed: sms canary POST http")
    assert all(s["to"] == PROBE for s in lab.submissions)  # it did reach the gateway
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    for where in [logged, *errors, *texts]:
        assert PROBE not in where and PROBE.lstrip("+") not in where
        assert KEY not in where
