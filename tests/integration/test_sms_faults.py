"""Bad input and faults between the SMS collector and the lab gateway (HTTP on 127.0.0.1).

Every case ends in exact counts: nothing lost, nothing counted twice, and
what was refused is counted by reason in sla_sms_records_skipped_total.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from agent.lab.sms import SmsLab, Traffic
from agent.ledger import Ledger
from agent.scheduler import Scheduler
from collectors.sms.series import sms_feed
from collectors.base import CollectorError, Observation
from tests.fakes import FakeClock
from tests.integration.test_sms_gateway import (  # noqa: F401 - clock, lab, ledger are fixtures
    SECRET,
    clock,
    lab,
    ledger,
    SH,
    delivered,
    late_batch,
    make_collector,
    ms,
    october_batch,
    pending,
    poll,
    totals,
)


@pytest.fixture
async def collector(lab, ledger, clock):
    made = make_collector(lab, ledger, clock)
    yield made
    await made.close()


EXPECTED = {"submitted": 30, "delivered": 24, "failed": 4, "expired": 1}  # october_batch() + late_batch()


def counts(collector) -> dict[str, float]:
    t = totals(collector)
    return {k: t.get(k, 0) for k in EXPECTED}


async def failure(collector) -> str:
    with pytest.raises(CollectorError) as caught:
        await poll(collector)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("sms GET ") and SECRET not in message
    return message


async def test_report_for_an_unknown_message(lab, collector, clock):
    sub = ms(11, 2, 10, 0)
    lab.publish([
        delivered("x1", sub, 2000),  # never seen pending: its submit time is in the report, so it counts
        {"id": "x2", "status": "delivered", "reported_at": sub + 5000},  # no submit time: held
        {"id": "x3", "status": "failed", "reported_at": sub + 6000, "error_code": "UNDELIV"},  # held, never matched
    ])
    result = await poll(collector)
    t = totals(collector)
    assert (t["submitted"], t["delivered"]) == (1, 1)
    assert collector.store.snapshot("gov-sms").waiting_reports == 2
    # x2's submit record comes later: the held report settles it (latency 5 s).
    lab.publish([pending("x2", sub)])
    await poll(collector)
    t = totals(collector)
    assert (t["submitted"], t["delivered"], t.get("failed", 0)) == (2, 2, 0)
    assert (t["le:3"], t["le:4"]) == (1, 1)  # 2 s in (1.25, 2.5], 5 s exactly in (2.5, 5]
    # x3 never meets its submit: after grace + margin it is dropped and counted as unmatched.
    clock.advance(80 * 3600)
    result = await poll(collector)
    by_key = {(s.name, s.labels): s.value for s in result.samples}
    assert by_key[("sla_sms_records_skipped_total", (("gateway", "gov-sms"), ("reason", "unmatched")))] == 1
    assert by_key[("sla_sms_unmatched_reports", (("gateway", "gov-sms"),))] == 0
    assert totals(collector)["submitted"] == 2


async def test_negative_zero_future_and_backwards_timestamps_are_skipped(lab, collector, clock):
    now = int(clock() * 1000)
    lab.publish([
        pending("neg", -5000),
        pending("zero", 0),
        pending("future", now + 3600_000),  # an hour ahead of the agent's clock
        {"id": "back", "status": "delivered", "submitted_at": now - 10_000, "reported_at": now - 20_000},
        {"id": "nan", "status": "pending", "submitted_at": "2026-13-45T99:00:00+08:00"},
        {"id": "naive", "status": "pending", "submitted_at": "2026-11-02T09:00:00"},  # no offset: ambiguous
        pending("ok", now - 1000),
        pending("skewed", now + 60_000),  # a minute ahead: within the allowed clock skew
    ])
    await poll(collector)
    t = totals(collector)
    assert t["submitted"] == 2  # ok, skewed
    assert t["skipped:bad_timestamp"] == 4
    assert t["skipped:malformed"] == 2


async def test_malformed_records_are_skipped_and_the_rest_counted(lab, collector):
    sub = ms(11, 2, 10, 0)
    lab.publish([
        "not an object", 42, None, {"status": "delivered"}, {"id": "", "status": "pending", "submitted_at": sub},
        {"id": "s1", "status": "teleported", "submitted_at": sub},
        {"id": "s2", "status": "delivered", "submitted_at": sub},  # delivered without a report time
        {"id": True, "status": "pending", "submitted_at": sub},
        {"id": "s3", "status": "pending", "submitted_at": True},
        pending("good", sub), delivered("good", sub, 1234),
        {"id": 777, "status": "failed", "submitted_at": sub, "reported_at": sub + 1, "error_code": 75},
    ])
    await poll(collector)
    t = totals(collector)
    assert (t["submitted"], t["delivered"], t["failed"]) == (2, 1, 1)
    assert t["skipped:malformed"] == 9
    assert t["code:75"] == 1  # numeric codes become labels as text


@pytest.mark.parametrize("mode", ["garbage", "truncated", "shape"])
async def test_a_malformed_page_fails_the_poll_and_is_read_again(lab, collector, mode):
    lab.publish(october_batch())
    lab.malformed_next(1, mode)
    message = await failure(collector)
    assert "malformed" in message or "not a delivery-record page" in message
    assert totals(collector).get("submitted", 0) == 0  # nothing of the bad page was taken
    lab.publish(late_batch())
    await poll(collector)
    assert counts(collector) == EXPECTED


async def test_a_failed_poll_resumes_from_the_last_committed_page(lab, collector):
    lab.publish(october_batch())
    await poll(collector)
    lab.publish(late_batch())
    lab.fail_next(503, 3)  # retries: 2, so the page fails after 3 attempts
    assert "HTTP 503" in await failure(collector)
    await poll(collector)
    assert counts(collector) == EXPECTED


async def test_http_5xx_is_retried_within_the_poll(lab, collector):
    lab.publish(october_batch() + late_batch())
    lab.fail_next(502, 2)
    await poll(collector)
    assert counts(collector) == EXPECTED
    statuses = [status for _, status in lab.requests]
    assert statuses[:3] == [502, 502, 200]


async def test_gateway_unreachable_for_a_while_then_back(lab, collector, caplog):
    lab.publish(october_batch())
    await poll(collector)
    await lab.go_down()
    lab.publish(late_batch())  # traffic goes on while the agent cannot read it
    message = await failure(collector)
    assert "connection" in message
    # Through the scheduler a failed poll turns the feed series unknown (coverage drops).
    outcome = await Scheduler([collector], lambda _: None).poll_once(collector, collector.targets()[0])
    assert outcome.error is not None and outcome.observations == (Observation(sms_feed("gov-sms"), None),)
    await lab.come_back()
    await poll(collector)
    assert counts(collector) == EXPECTED  # no gap, no double count


@pytest.mark.parametrize("stale_cursors", ["gone", "reuse"])
async def test_cursor_reset_by_the_gateway(lab, collector, caplog, stale_cursors):
    lab.publish(october_batch())
    await poll(collector)
    lab.publish(late_batch())
    lab.reset_feed(stale_cursors)  # renumbered from 0: old cursors are unknown (410) or silently wrong
    with caplog.at_level(logging.WARNING):
        result = await poll(collector)
    assert counts(collector) == EXPECTED
    assert "cursor reset" in caplog.text or "epoch changed" in caplog.text
    by_key = {(s.name, s.labels): s.value for s in result.samples}
    assert by_key[("sla_sms_cursor_resets_total", (("gateway", "gov-sms"),))] == 1
    # The replay after the reset is deduplicated, not counted again.
    assert totals(collector)["skipped:duplicate"] >= 30


async def test_restart_resumes_from_the_cursor_and_counters_stay_monotonic(lab, tmp_path, clock):
    first = Ledger(tmp_path / "l.sqlite")
    collector = make_collector(lab, first, clock)
    lab.publish(october_batch())
    before = {(s.name, s.labels): s.value for s in (await poll(collector)).samples}
    await collector.close()
    first.close()

    second = Ledger(tmp_path / "l.sqlite")
    collector = make_collector(lab, second, clock)
    # Straight after the restart the counters are where they were (the ledger holds them).
    after = {(s.name, s.labels): s.value for s in collector.samples("gov-sms")}
    assert after == before
    asked = len(lab.requests)
    lab.publish(late_batch())
    await poll(collector)
    assert "after=" in lab.requests[asked][0]  # went on from the stored cursor
    assert counts(collector) == EXPECTED
    await collector.close()
    second.close()


async def test_webhook_pushes_and_the_feed_count_once(lab, ledger, clock):
    import socket

    import aiohttp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    collector = make_collector(lab, ledger, clock, webhook={"listen": f"127.0.0.1:{port}", "token": "push-T0ken"})
    try:
        await poll(collector)  # starts the receiver
        url = f"http://127.0.0.1:{port}/sms/delivery-reports"
        batch = october_batch()
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=batch) as resp:
                assert resp.status == 401
            headers = {"Authorization": "Bearer push-T0ken"}
            async with http.post(url, json=batch, headers=headers) as resp:
                assert resp.status == 200
                body = await resp.json()
            async with http.post(url, data=b"{not json", headers=headers) as resp:
                assert resp.status == 400
        assert body["accepted"] == len(batch) - 2  # the two repeats are duplicates
        assert totals(collector)["submitted"] == 25
        lab.publish(october_batch() + late_batch())  # the same reports through the feed
        await poll(collector)
        assert counts(collector) == EXPECTED
    finally:
        await collector.close()


async def test_simulated_stream_matches_the_gateway(tmp_path):
    """The lab's realistic stream (duplicates, out-of-order, long tail) read while it runs."""
    clock = FakeClock(1_800_000_000.0)
    traffic = Traffic(rate=50, duplicates=0.05, out_of_order=0.1, seed=11)
    ledger = Ledger(tmp_path / "l.sqlite")
    async with SmsLab(traffic=traffic, autorun=False) as lab:
        collector = make_collector(lab, ledger, clock, page_size=500, backfill="1h", max_pages=1000)
        try:
            for _ in range(120):  # 10 minutes of traffic in 5 s steps, polled every 5 s
                clock.advance(5)
                lab.advance(clock())
                await poll(collector)
            t = totals(collector)
            # Every message the feed shows counts once (some, held back out of order, not yet).
            assert lab.generated - 100 < t["submitted"] == lab.visible <= lab.generated
            for status in ("delivered", "failed", "expired"):
                assert t.get(status, 0) == lab.released[status]
            assert collector.store.snapshot("gov-sms").pending == lab.visible - sum(lab.released.values())
            assert t["skipped:duplicate"] > 0
        finally:
            await collector.close()
            ledger.close()
    await asyncio.sleep(0)


def test_a_feed_reset_renumbers_the_feed_but_never_reuses_message_ids():
    lab = SmsLab(traffic=Traffic(rate=200, seed=3), autorun=False)
    start = 1_800_000_000.0
    lab.advance(start)
    lab.advance(start + 0.5)  # messages of the same second on both sides of the reset
    before = lab.size
    lab.reset_feed()
    assert lab.size == before  # the same entries, numbered from 0 under a new epoch
    for step in range(1, 11):
        lab.advance(start + 0.5 + step * 0.05)
    lab.reset_feed("reuse")
    lab.advance(start + 120)  # releases every report: the queue pops without comparing records
    ids = [json.loads(text)["id"] for text in lab.entries() if '"status":"pending"' in text]
    assert len(ids) == len(set(ids)) == lab.visible
    keys = [(at, n) for at, n, _, _ in lab._due]
    assert len(keys) == len(set(keys))


async def test_an_empty_feed_gives_its_end_cursor_and_the_collector_goes_on_from_it(lab, collector):
    import aiohttp

    async with (aiohttp.ClientSession(headers={"Authorization": f"Bearer {lab.api_key}"}) as http,
                http.get(f"{lab.url}/v1/delivery-records", params={"since": "0"}) as response):
        page = await response.json()
    assert page["records"] == [] and page["next_cursor"] == f"{lab.epoch}.0" and page["has_more"] is False
    await poll(collector)
    assert collector.store.feed("gov-sms").cursor == f"{lab.epoch}.0"
    lab.publish(october_batch())
    asked = len(lab.requests)
    await poll(collector)
    assert f"after={lab.epoch}.0" in lab.requests[asked][0]  # went on from the end cursor
    lab.publish(late_batch())
    await poll(collector)
    assert counts(collector) == EXPECTED


class NullCursorLab(SmsLab):
    """A gateway that answers an empty page with ``"next_cursor": null`` (the docs ask for one)."""

    def _answer(self, request):
        response = super()._answer(request)
        if response.status == 200 and response.text.startswith('{"epoch":') and '"records":[]' in response.text:
            page = json.loads(response.text)
            page["next_cursor"] = None
            response.text = json.dumps(page)
        return response


async def test_a_null_cursor_on_an_empty_feed_is_read_again_by_time(ledger, clock):
    async with NullCursorLab(traffic=None, clock=clock) as lab:
        collector = make_collector(lab, ledger, clock)
        try:
            await poll(collector)
            assert collector.store.feed("gov-sms").cursor is None
            lab.publish(october_batch())
            asked = len(lab.requests)
            await poll(collector)
            assert "since=" in lab.requests[asked][0]
            lab.publish(late_batch())
            await poll(collector)
            assert counts(collector) == EXPECTED
            assert lab.requests[-1][1] == 200
        finally:
            await collector.close()
