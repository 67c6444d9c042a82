"""The HTTP probe engine (collectors/probes/probe.py) against the app lab (agent/lab/apps.py) on 127.0.0.1.

Every probe runs under a short probe timeout and every test under
``bounded`` (a few seconds), so a regression hangs nothing.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any, AsyncIterator, Awaitable, TypeVar

import aiohttp
import pytest

from agent.lab.apps import FAULTS, KEYS, SYSTEMS, AppLab
from collectors.probes.config import Probe
from collectors.probes.probe import PHASES, REASONS, Outcome, make_session, run_probe, tls_context

T = TypeVar("T")
TOKEN = "Bearer lab-probe-S3cret-token"


async def bounded(awaitable: Awaitable[T], seconds: float = 5.0) -> T:
    return await asyncio.wait_for(awaitable, seconds)


def probe(url: str, **fields: Any) -> Probe:
    return Probe.model_validate({"name": "app", "url": url, "timeout": "2s", **fields})


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    client = make_session()
    yield client
    await client.close()


@pytest.fixture
async def lab() -> AsyncIterator[AppLab]:
    async with AppLab() as running:
        yield running


async def check(session: aiohttp.ClientSession, config: Probe) -> Outcome:
    outcome = await bounded(run_probe(session, config, tls_context(config)))
    assert outcome.reason in REASONS and set(outcome.phases) <= set(PHASES)
    assert outcome.success == (outcome.reason == "ok")
    assert "\n" not in outcome.message and "S3cret" not in outcome.message
    return outcome


def free_port() -> int:
    # Bound and closed again: nothing listens there, so a connect is refused.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- plain http ------------------------------------------------------------------------------------


async def test_success_measures_consecutive_phases(session: aiohttp.ClientSession, lab: AppLab) -> None:
    config = probe(lab.endpoint("code"), json_field={"path": "data.status", "equals": "green"},
                   body_contains='"qr"', body_regex=r'"status":\s*"green"')
    outcome = await check(session, config)
    assert outcome.success and outcome.status == 200, outcome.message
    assert set(outcome.phases) == {"connect", "first_byte", "total"}  # an IP literal: no dns; http: no tls
    assert all(value >= 0 for value in outcome.phases.values())
    assert outcome.phases["total"] >= outcome.phases["connect"] + outcome.phases["first_byte"]
    assert outcome.phases["total"] < 2
    assert outcome.certificate_expiry is None
    assert outcome.message.startswith(f"GET {lab.endpoint('code')}: HTTP 200")


async def test_every_system_is_healthy_and_unknown_is_404(session: aiohttp.ClientSession, lab: AppLab) -> None:
    for system in SYSTEMS:
        outcome = await check(session, probe(lab.endpoint(system), json_field={"path": "status", "equals": "UP"}))
        assert outcome.success, outcome.message
    outcome = await check(session, probe(f"{lab.url}/epidemic/unknown/health"))
    assert (outcome.reason, outcome.status) == ("status", 404)


async def test_dns_phase_for_a_host_name(session: aiohttp.ClientSession, lab: AppLab) -> None:
    outcome = await check(session, probe(lab.endpoint("code").replace("127.0.0.1", "localhost")))
    if not outcome.success:
        pytest.skip(f"localhost does not reach the lab here: {outcome.message}")
    assert {"dns", "connect", "first_byte", "total"} <= set(outcome.phases)
    assert outcome.phases["total"] >= outcome.phases["dns"] + outcome.phases["connect"]


async def test_wrong_status(session: aiohttp.ClientSession, lab: AppLab) -> None:
    await lab.set_fault("vaccination", "status")
    outcome = await check(session, probe(lab.endpoint("vaccination")))
    assert (outcome.reason, outcome.status) == ("status", 503)
    assert outcome.message == f"GET {lab.endpoint('vaccination')}: HTTP 503, expected 200"
    assert "first_byte" in outcome.phases
    outcome = await check(session, probe(lab.endpoint("vaccination"), expect_status=[200, 503]))
    assert outcome.success, outcome.message


async def test_body_contains_and_regex(session: aiohttp.ClientSession, lab: AppLab) -> None:
    await lab.set_fault("code", "body")
    outcome = await check(session, probe(lab.endpoint("code"), body_contains='"green"'))
    assert (outcome.reason, outcome.status) == ("body", 200)
    assert "does not contain" in outcome.message
    outcome = await check(session, probe(lab.endpoint("code"), body_regex=r'"status":\s*"green"'))
    assert outcome.reason == "body" and "does not match" in outcome.message
    await lab.set_fault("code", "none")
    assert (await check(session, probe(lab.endpoint("code"), body_regex=r'"status":\s*"green"'))).success


async def test_json_field_mismatch_missing_and_not_json(session: aiohttp.ClientSession, lab: AppLab) -> None:
    await lab.set_fault("travel-record", "body")
    url = lab.endpoint("travel-record")
    outcome = await check(session, probe(url, json_field={"path": "status", "equals": "UP"}))
    assert outcome.reason == "json" and "'DOWN', expected 'UP'" in outcome.message
    outcome = await check(session, probe(url, json_field={"path": "data.items[0]"}))
    assert outcome.reason == "json" and "missing" in outcome.message
    outcome = await check(session, probe(f"{lab.url}/_lab/blob?bytes=10", json_field={"path": "status"}))
    assert outcome.reason == "json" and "JSON" in outcome.message
    # Field present is enough without equals; values compare as JSON values.
    assert (await check(session, probe(lab.endpoint("code"), json_field={"path": "data.qr"}))).success
    assert (await check(session, probe(lab.endpoint("code"), json_field={"path": "code", "equals": 0.0}))).success
    for unequal in ("0", False):  # "0" and false are not 0 as JSON values
        outcome = await check(session, probe(lab.endpoint("code"), json_field={"path": "code", "equals": unequal}))
        assert outcome.reason == "json", unequal


async def test_timeout_is_bounded(session: aiohttp.ClientSession, lab: AppLab) -> None:
    await lab.set_fault("venue-code", "slow", delay=3.0)
    started = time.monotonic()
    outcome = await check(session, probe(lab.endpoint("venue-code"), timeout="0.5s"))
    assert outcome.reason == "timeout" and outcome.status is None
    assert time.monotonic() - started < 1.5
    assert "within 0.5s" in outcome.message
    assert 0.5 <= outcome.phases["total"] < 1.5 and "connect" in outcome.phases and "first_byte" not in outcome.phases
    # A slow answer within the timeout is a success, and the wait shows in first_byte.
    await lab.set_fault("venue-code", "slow", delay=0.3)
    outcome = await check(session, probe(lab.endpoint("venue-code")))
    assert outcome.success and outcome.phases["first_byte"] >= 0.3


async def test_connection_closed_without_answer(session: aiohttp.ClientSession, lab: AppLab) -> None:
    await lab.set_fault("nucleic-acid", "down")
    outcome = await check(session, probe(lab.endpoint("nucleic-acid")))
    assert (outcome.reason, outcome.status) == ("connect", None)
    assert "closed" in outcome.message
    assert lab.requests[-1] == ("GET", "/epidemic/nucleic-acid/health", None)


async def test_connection_refused(session: aiohttp.ClientSession) -> None:
    url = f"http://127.0.0.1:{free_port()}/health"
    outcome = await check(session, probe(url))
    assert (outcome.reason, outcome.status) == ("connect", None)
    assert outcome.message.startswith(f"GET {url}: cannot connect")
    assert "connect" not in outcome.phases and "total" in outcome.phases


async def test_dns_failure(session: aiohttp.ClientSession) -> None:
    outcome = await check(session, probe("http://no-such-host.invalid/health"))
    assert outcome.reason == "dns", outcome.message


async def test_too_large_by_length_and_streamed(session: aiohttp.ClientSession, lab: AppLab) -> None:
    for chunked in ("0", "1"):
        outcome = await check(session, probe(f"{lab.url}/_lab/blob?bytes=300000&chunked={chunked}", max_body="64KiB"))
        assert (outcome.reason, outcome.status) == ("too_large", 200), outcome.message
        assert "64 KiB" in outcome.message and "bytes=" not in outcome.message  # no query in messages
    outcome = await check(session, probe(f"{lab.url}/_lab/blob?bytes=65536&chunked=1", max_body="64KiB"))
    assert outcome.success, outcome.message


async def test_headers_are_sent_and_never_shown(session: aiohttp.ClientSession, lab: AppLab) -> None:
    await lab.set_fault("code", "status")
    config = probe(lab.endpoint("code"), headers={"Authorization": TOKEN, "X-App-Key": "k-S3cret"})
    outcome = await check(session, config)
    assert outcome.reason == "status"
    assert lab.last_headers["Authorization"] == TOKEN and lab.last_headers["X-App-Key"] == "k-S3cret"
    assert lab.last_headers.get("Connection", "").lower() == "close"  # a new connection every probe
    assert TOKEN not in repr(config) and "S3cret" not in repr(outcome)


async def test_user_info_and_query_stay_out_of_messages(session: aiohttp.ClientSession) -> None:
    url = f"http://probe:pw-S3cret@127.0.0.1:{free_port()}/health?key=S3cret"
    with pytest.raises(ValueError):
        probe(url)  # the config refuses user info outright
    outcome = await check(session, probe(f"http://127.0.0.1:{free_port()}/health?key=S3cret"))
    assert "?" not in outcome.message


async def test_post_with_body(session: aiohttp.ClientSession, lab: AppLab) -> None:
    outcome = await check(session, probe(f"{lab.url}/_lab/faults", method="POST",
                                         headers={"Content-Type": "application/json"},
                                         body=json.dumps({"key": "code", "fault": "body"}),
                                         json_field={"path": "fault", "equals": "body"}))
    assert outcome.success, outcome.message
    assert lab.faults()["code"].kind == "body"


# -- https -----------------------------------------------------------------------------------------


async def test_https_valid_with_ca_file(session: aiohttp.ClientSession) -> None:
    async with AppLab(tls="valid", days_left=5) as lab:
        assert lab.ca_file is not None and lab.url.startswith("https://")
        config = probe(lab.endpoint("code"), ca_file=str(lab.ca_file))
        outcome = await check(session, config)
        assert outcome.success, outcome.message
        assert outcome.certificate_expiry is not None
        assert abs(outcome.certificate_expiry - (time.time() + 5 * 86400)) < 60
        assert set(outcome.phases) == {"connect", "tls", "first_byte", "total"}
        assert outcome.phases["tls"] > 0 and outcome.phases["connect"] >= 0
        assert outcome.phases["total"] >= sum(outcome.phases[p] for p in ("connect", "tls", "first_byte"))
        assert "certificate expires in 5.0 days" in outcome.message
        # The default CAs do not know the lab CA.
        outcome = await check(session, probe(lab.endpoint("code")))
        assert outcome.reason == "certificate_untrusted" and outcome.certificate_expiry is None
        assert "tls" not in outcome.phases and "connect" in outcome.phases


async def test_https_expiry_kept_on_a_failed_answer(session: aiohttp.ClientSession) -> None:
    async with AppLab(tls="valid", days_left=30) as lab:
        await lab.set_fault("code", "status")
        outcome = await check(session, probe(lab.endpoint("code"), ca_file=str(lab.ca_file)))
        assert outcome.reason == "status" and outcome.certificate_expiry is not None


async def test_https_expired(session: aiohttp.ClientSession) -> None:
    async with AppLab(tls="expired") as lab:
        outcome = await check(session, probe(lab.endpoint("code"), ca_file=str(lab.ca_file)))
        assert (outcome.reason, outcome.status) == ("certificate_expired", None), outcome.message
        assert "expired" in outcome.message


async def test_https_self_signed(session: aiohttp.ClientSession) -> None:
    async with AppLab(tls="self-signed", days_left=20) as lab:
        assert lab.ca_file is None
        outcome = await check(session, probe(lab.endpoint("code")))
        assert outcome.reason == "certificate_untrusted", outcome.message
        outcome = await check(session, probe(lab.endpoint("code"), verify_tls=False))
        assert outcome.success, outcome.message
        assert outcome.certificate_expiry is not None
        assert abs(outcome.certificate_expiry - (time.time() + 20 * 86400)) < 60


async def test_expired_accepted_without_verification(session: aiohttp.ClientSession) -> None:
    async with AppLab(tls="expired") as lab:
        outcome = await check(session, probe(lab.endpoint("code"), verify_tls=False))
        assert outcome.success and outcome.certificate_expiry is not None
        assert outcome.certificate_expiry < time.time() and "expired" in outcome.message


async def test_hostname_mismatch_is_untrusted(session: aiohttp.ClientSession) -> None:
    async with AppLab(tls="valid", cert_names=("apps.example.test",)) as lab:
        outcome = await check(session, probe(lab.endpoint("code"), ca_file=str(lab.ca_file)))
        assert outcome.reason == "certificate_untrusted", outcome.message
        assert "mismatch" in outcome.message


async def test_plain_http_to_https_port_is_not_ok(session: aiohttp.ClientSession) -> None:
    async with AppLab(tls="valid") as lab:
        outcome = await check(session, probe(lab.endpoint("code").replace("https://", "http://")))
        assert not outcome.success and outcome.reason in ("connect", "other"), outcome.message


async def test_tls_to_plain_port_is_tls_error(session: aiohttp.ClientSession, lab: AppLab) -> None:
    outcome = await check(session, probe(lab.endpoint("code").replace("http://", "https://")))
    assert outcome.reason == "tls", outcome.message


# -- the lab's own controls ------------------------------------------------------------------------


async def test_control_endpoint(lab: AppLab) -> None:
    async with aiohttp.ClientSession() as client:
        async def post(document: Any) -> tuple[int, Any]:
            async with client.post(f"{lab.url}/_lab/faults", json=document) as resp:
                return resp.status, await resp.json()

        assert await bounded(post({"key": "venue-code", "fault": "status"})) == (
            200, {"key": "venue-code", "fault": "status", "delay": 0.0})
        async with client.get(lab.endpoint("venue-code")) as resp:
            assert resp.status == 503
        status, answer = await bounded(post({"key": "venue-code", "fault": "slow"}))
        assert status == 200 and answer["delay"] == 5.0  # the default slow delay
        for bad in ({"key": "nope", "fault": "status"}, {"key": "code", "fault": "melt"},
                    {"key": "code", "fault": "slow", "delay": -1}, {"fault": "none"}, [1]):
            status, answer = await bounded(post(bad))
            assert status == 400 and "error" in answer
        async with client.get(f"{lab.url}/_lab/faults") as resp:
            listed = await resp.json()
        assert set(listed) == set(KEYS) and listed["venue-code"] == {"fault": "slow", "delay": 5.0}
    with pytest.raises(ValueError):
        await lab.set_fault("code", "explode")
    assert set(FAULTS) == {"none", "status", "body", "slow", "down"}


async def until_fault(lab: AppLab, key: str, kind: str) -> None:
    async def poll() -> None:
        while lab.faults()[key].kind != kind:
            await asyncio.sleep(0.01)

    await bounded(poll(), 3.0)


async def test_flap_fails_then_recovers(session: aiohttp.ClientSession, lab: AppLab) -> None:
    config = probe(lab.endpoint("vaccination"), json_field={"path": "status", "equals": "UP"})
    # Healthy for 0.5 s, failing for 0.5 s, again and again: each check lands well inside a window.
    task = lab.start_flap("vaccination", down=0.5, every=0.5, fault="body")
    await until_fault(lab, "vaccination", "body")
    assert (await check(session, config)).reason == "json"
    await until_fault(lab, "vaccination", "none")
    assert (await check(session, config)).success
    await until_fault(lab, "vaccination", "body")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert lab.faults()["vaccination"].kind == "none"  # a stopped flap leaves the endpoint healthy
    assert (await check(session, config)).success


async def test_stop_and_restart_on_the_same_port(session: aiohttp.ClientSession) -> None:
    lab = AppLab(tls="valid")
    await lab.start()
    port, ca = lab.port, lab.ca_file
    await lab.stop()
    assert lab.ca_file is None and ca is not None and not ca.exists()
    outcome = await check(session, probe(f"https://127.0.0.1:{port}/code/display"))
    assert outcome.reason == "connect"
    await lab.start()
    try:
        assert lab.port == port
        assert (await check(session, probe(lab.endpoint("code"), ca_file=str(lab.ca_file)))).success
    finally:
        await lab.stop()


async def test_probe_configs_validate_and_pass(session: aiohttp.ClientSession) -> None:
    async with AppLab(tls="valid", days_left=10) as lab:
        configs = [Probe.model_validate(entry) for entry in lab.probe_configs()]
        assert [c.name for c in configs] == ["health-code", *SYSTEMS]
        outcomes = await bounded(asyncio.gather(*(run_probe(session, c, tls_context(c)) for c in configs)))
        assert all(o.success for o in outcomes), [o.message for o in outcomes]
        assert all("tls" in o.phases for o in outcomes)
