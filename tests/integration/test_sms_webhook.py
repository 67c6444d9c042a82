"""The SMS webhook over HTTP on 127.0.0.1: authentication, replay, limits, off-loop parsing, a taken port, a full ledger.

Signatures are computed here with hashlib, the way a gateway vendor would
from docs/sms.md, not with the agent's own code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading

import aiohttp
import pytest

from agent.config import parse_config
from agent.schema import ConfigError
from agent.scheduler import Scheduler
from collectors.sms import webhook as webhook_module
from tests.processes import free_port
from tests.integration.test_sms_gateway import (  # noqa: F401 - clock, lab, ledger are fixtures
    clock,
    gateway_dict,
    lab,
    ledger,
    make_collector,
    ms,
    october_batch,
    poll,
    totals,
)

TOKEN = "push-T0ken-S3cret"
KEY = "hmac-K3y-S3cret-0123456789"
PATH = "/sms/delivery-reports"


def signed(body: bytes, timestamp: int, key: str = KEY) -> dict[str, str]:
    """The headers a gateway sends (docs/sms.md): HMAC-SHA256 of ``<timestamp>.<body>``, hex."""
    digest = hmac.new(key.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Timestamp": str(timestamp), "X-Signature": "sha256=" + digest, "Content-Type": "application/json"}


def pushes(result) -> dict[str, float]:
    return {dict(s.labels)["result"]: s.value for s in result.samples if s.name == "sla_sms_webhook_pushes_total"}


def webhook_up(result) -> float:
    return next(s.value for s in result.samples if s.name == "sla_sms_webhook_up")


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
async def signed_collector(lab, ledger, clock, port):
    made = make_collector(lab, ledger, clock, webhook={"listen": f"127.0.0.1:{port}", "hmac": {"secret": KEY}})
    yield made
    await made.close()


def test_check_refuses_a_webhook_without_authentication(lab):
    gateway = gateway_dict(lab, webhook={"listen": "127.0.0.1:9100"})
    with pytest.raises(ConfigError) as caught:
        parse_config({"sms": [gateway]}, "c.yaml")
    assert caught.value.problems == [
        "c.yaml: sms[0].webhook: a push endpoint needs authentication: give webhook.token (Bearer) or "
        "webhook.hmac (signed pushes, docs/sms.md)"]


@pytest.mark.parametrize("hook, problem", [
    ({"token": TOKEN, "hmac": {"secret": KEY}}, "sms[0].webhook: give one of webhook.token and webhook.hmac"),
    ({"token": "  "}, "sms[0].webhook.token: the secret is empty"),
    ({"hmac": {"secret": KEY, "window": "2h"}}, "sms[0].webhook.hmac: window (7200s) is at most 3600s"),
    ({"hmac": {"secret": KEY, "header": "X-Sig nature"}}, "sms[0].webhook.hmac.header:"),
    ({"token": TOKEN, "max_body": "1GiB"}, "sms[0].webhook.max_body: a body limit is between 1KiB and 256MiB"),
])
def test_check_names_the_wrong_webhook_key(lab, hook, problem):
    with pytest.raises(ConfigError) as caught:
        parse_config({"sms": [gateway_dict(lab, webhook={"listen": "127.0.0.1:9100", **hook})]}, "c.yaml")
    assert len(caught.value.problems) == 1 and caught.value.problems[0].startswith("c.yaml: " + problem)
    assert KEY not in caught.value.problems[0] and TOKEN not in caught.value.problems[0]


async def test_signed_pushes_within_the_window_once_each(signed_collector, clock, port):
    await poll(signed_collector)  # starts the receiver
    url = f"http://127.0.0.1:{port}{PATH}"
    body = json.dumps(october_batch()).encode()
    now = int(clock())
    async with aiohttp.ClientSession() as http:
        async def post(data: bytes, headers: dict[str, str]) -> int:
            async with http.post(url, data=data, headers=headers) as resp:
                return resp.status

        assert await post(body, {}) == 401  # unsigned
        assert await post(body, signed(body, now, key="not-the-key")) == 401
        assert await post(body, {"X-Timestamp": str(now)}) == 401  # a timestamp, no signature
        tampered = signed(body, now)
        assert await post(body.replace(b"delivered", b"failed", 1), tampered) == 401  # body changed after signing
        assert await post(body, signed(body, now - 301)) == 401  # older than the 5-minute window
        assert await post(body, signed(body, now + 301)) == 401  # from the future beyond it
        good = signed(body, now - 200)
        assert await post(body, good) == 200
        assert await post(body, good) == 409  # the same signed push again: a replay
        clock.advance(150)  # its timestamp is now 350 s old: refused by the window, not only as a replay
        assert await post(body, good) == 401
        assert await post(body, signed(body, int(clock()))) == 200  # re-signed: accepted (dedup drops the repeats)
    assert totals(signed_collector)["submitted"] == 25
    counted = pushes(await poll(signed_collector))
    assert (counted["accepted"], counted["replayed"]) == (2, 1)
    assert counted["unauthorized"] >= 6


async def test_a_flood_of_unauthenticated_failed_reports_changes_nothing(lab, ledger, clock, port):
    collector = make_collector(lab, ledger, clock, webhook={"listen": f"127.0.0.1:{port}", "token": TOKEN})
    try:
        await poll(collector)
        now = ms(11, 3, 11, 59)
        fakes = [{"id": f"f{i}", "status": "failed", "submitted_at": now, "reported_at": now + 1,
                  "error_code": "X"} for i in range(5000)]
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                async with http.post(f"http://127.0.0.1:{port}{PATH}", json=fakes, headers=headers) as resp:
                    assert resp.status == 401
        assert totals(collector).get("failed", 0) == 0 and totals(collector).get("submitted", 0) == 0
        assert pushes(await poll(collector))["unauthorized"] == 3
    finally:
        await collector.close()


async def test_a_push_over_the_limit_is_refused_and_the_limit_is_configurable(lab, ledger, clock, port):
    now = ms(11, 3, 11, 59)
    batch = [{"id": f"m{i}", "status": "pending", "submitted_at": now, "note": "x" * 400} for i in range(4000)]
    body = json.dumps(batch).encode()  # about 1.9 MiB: over the 1 MiB default
    for max_body, expected in ((None, 413), ("4MiB", 200)):
        hook = {"listen": f"127.0.0.1:{port}", "token": TOKEN, **({"max_body": max_body} if max_body else {})}
        collector = make_collector(lab, ledger, clock, webhook=hook)
        try:
            await poll(collector)
            async with aiohttp.ClientSession(headers={"Authorization": "Bearer " + TOKEN}) as http:
                async with http.post(f"http://127.0.0.1:{port}{PATH}", data=body) as resp:
                    assert resp.status == expected
                    if expected == 413:
                        assert (await resp.json())["error"] == "body larger than 1 MiB"
        finally:
            await collector.close()


@pytest.fixture
async def token_collector(lab, ledger, clock, port):
    made = make_collector(lab, ledger, clock, webhook={"listen": f"127.0.0.1:{port}", "token": TOKEN})
    yield made
    await made.close()


BEARER = {"Authorization": "Bearer " + TOKEN}


async def test_a_push_is_parsed_off_the_event_loop(token_collector, port, monkeypatch):
    threads: list[int] = []
    real = webhook_module.parse_reports

    def recording(*args):
        threads.append(threading.get_ident())
        return real(*args)

    monkeypatch.setattr(webhook_module, "parse_reports", recording)
    await poll(token_collector)
    async with aiohttp.ClientSession(headers=BEARER) as http:
        async with http.post(f"http://127.0.0.1:{port}{PATH}", json=october_batch()) as resp:
            assert resp.status == 200
    assert threads and threading.get_ident() not in threads


async def test_a_taken_port_leaves_the_feed_read_and_the_webhook_retried(lab, ledger, clock, port, caplog):
    taken = socket.socket()
    taken.bind(("127.0.0.1", port))
    taken.listen()
    collector = make_collector(lab, ledger, clock, webhook={"listen": f"127.0.0.1:{port}", "token": TOKEN})
    try:
        lab.publish(october_batch())
        with caplog.at_level(logging.INFO, logger="collectors.sms.webhook"):
            results = [await poll(collector) for _ in range(3)]  # the feed poll succeeds all the same
            assert totals(collector)["submitted"] == 25
            assert [webhook_up(r) for r in results] == [0, 0, 0]
            cannot = [r for r in caplog.records if "cannot listen" in r.getMessage()]
            assert len(cannot) == 1 and "Address already in use" in cannot[0].getMessage()
            taken.close()
            assert webhook_up(await poll(collector)) == 1  # bound on the next poll
            assert webhook_up(await poll(collector)) == 1
            again = [r for r in caplog.records if "webhook listening on" in r.getMessage()]
            assert len(again) == 1
    finally:
        taken.close()
        await collector.close()


def fill_ledger(ledger) -> None:
    """A full disk, for real: SQLite may not grow the file past the pages it has now."""
    pages = ledger._db.execute("PRAGMA page_count").fetchone()[0]
    ledger._db.execute(f"PRAGMA max_page_count = {pages}")


def many_reports(count: int, prefix: str) -> list[dict]:
    now = ms(11, 3, 11, 59)
    return [{"id": f"{prefix}{i}", "status": "pending", "submitted_at": now} for i in range(count)]


async def test_a_full_ledger_answers_503_and_is_logged_once(token_collector, ledger, port, caplog):
    await poll(token_collector)
    fill_ledger(ledger)
    url = f"http://127.0.0.1:{port}{PATH}"
    with caplog.at_level(logging.INFO, logger="collectors.sms.webhook"):
        async with aiohttp.ClientSession(headers=BEARER) as http:
            statuses = []
            for attempt in range(3):
                async with http.post(url, json=many_reports(2000, f"a{attempt}-")) as resp:
                    statuses.append(resp.status)
            assert statuses == [503, 503, 503]
            not_stored = [r for r in caplog.records if "not stored" in r.getMessage()]
            assert len(not_stored) == 1 and not_stored[0].exc_info is None
            assert "database or disk is full" in not_stored[0].getMessage()
            ledger._db.execute("PRAGMA max_page_count = 1073741823")
            async with http.post(url, json=many_reports(10, "b")) as resp:
                assert resp.status == 200
    assert len([r for r in caplog.records if "stored again" in r.getMessage()]) == 1


async def test_a_signed_push_refused_with_503_may_come_again(signed_collector, ledger, clock, port):
    """A 503 does not use up the signature: the gateway retries the same signed push."""
    await poll(signed_collector)
    fill_ledger(ledger)
    body = json.dumps(many_reports(2000, "r")).encode()
    headers = signed(body, int(clock()))
    async with aiohttp.ClientSession() as http:
        async with http.post(f"http://127.0.0.1:{port}{PATH}", data=body, headers=headers) as resp:
            assert resp.status == 503
        ledger._db.execute("PRAGMA max_page_count = 1073741823")
        async with http.post(f"http://127.0.0.1:{port}{PATH}", data=body, headers=headers) as resp:
            assert resp.status == 200
        async with http.post(f"http://127.0.0.1:{port}{PATH}", data=body, headers=headers) as resp:
            assert resp.status == 409


async def test_a_full_ledger_fails_the_feed_poll_in_one_line_logged_once(lab, ledger, clock, caplog):
    collector = make_collector(lab, ledger, clock)
    try:
        await poll(collector)
        fill_ledger(ledger)
        lab.publish(many_reports(3000, "p"))
        scheduler = Scheduler([collector], lambda _: None)
        with caplog.at_level(logging.INFO):
            outcomes = [await scheduler.poll_once(collector, collector.targets()[0]) for _ in range(3)]
        assert all(o.error is not None and o.error.startswith("ledger cannot store the page: ") for o in outcomes)
        assert "database or disk is full" in outcomes[0].error
        assert not [r for r in caplog.records if r.exc_info]  # no traceback
        assert len([r for r in caplog.records if "is unknown" in r.getMessage()]) == 1
    finally:
        await collector.close()
