"""The HTTP fault suite: every HTTP source against a misbehaving server on 127.0.0.1 (tests/hostile_http.py).

Sources: Keystone, Placement (provider list and one provider's inventories),
Cinder, a generic vendor API, the SMS feed and the SMS canary's submit API.
Faults: an answer that never comes, slow headers, a slow body, a reset, a
body cut short, huge bodies (declared, and streamed without a length),
deeply nested JSON, HTML, non-UTF-8 bytes; and over TLS a self-signed
certificate, the wrong CA and a handshake answered with garbage.

Each poll must fail with one CollectorError line that says what went wrong
(never a secret, never a traceback), within its timeout (a generous bound:
nothing is timed finely), and read at most about the source's body limit of
a huge answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest
from pydantic import TypeAdapter

from agent.lab.cloud import LabPool, inventory
from agent.ledger import Ledger
from collectors.base import CollectorError
from collectors.cloud.collector import CloudCollector
from collectors.cloud.config import CloudConfig
from collectors.sms.canary import SmsCanaryCollector
from collectors.sms.collector import SmsCollector
from collectors.sms.config import SmsGateway
from tests.hostile_http import (
    Behaviour,
    HostileServer,
    answer,
    certificates,
    cut,
    huge,
    nested,
    reset,
    silent,
    slow_body,
    slow_headers,
    tls_garbage,
)

SECRETS = ("hostile-cloud-S3cret", "hostile-sms-S3cret", "+8613800000000", "hostile-token-S3cret")
TIMEOUT = 1.5  # each source's poll timeout, seconds
BOUND = TIMEOUT + 10.0  # what a failing poll may take at most, however loaded the machine
UUID = "6f1b6ad7-7bd7-4d4b-a0c0-4d8c3ac0b0a1"
CLOUD = TypeAdapter(CloudConfig)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def token_answer(base: str) -> dict[str, Any]:
    now = datetime.now(timezone.utc)

    def service(kind: str, path: str) -> dict[str, Any]:
        return {"type": kind, "endpoints": [{"interface": "public", "region_id": "r1", "url": base + path}]}

    return {"token": {"issued_at": _iso(now), "expires_at": _iso(now + timedelta(hours=1)), "project": {"id": "p1"},
                      "catalog": [service("placement", "/placement"), service("block-storage", "/volume")]}}


def healthy_cloud(server: HostileServer) -> None:
    """Keystone, Placement (one provider) and Cinder (one pool) answering well."""
    server.route("/v3/auth/tokens", answer(token_answer(server.url), 201, headers={"X-Subject-Token": "tok"}))
    server.route("/placement/resource_providers", answer({"resource_providers": [{"uuid": UUID, "name": "n1"}]}))
    part = f"/placement/resource_providers/{UUID}"
    server.route(part + "/inventories", answer({"inventories": {"VCPU": inventory(8), "MEMORY_MB": inventory(4096)}}))
    server.route(part + "/usages", answer({"usages": {"VCPU": 2, "MEMORY_MB": 1024}}))
    server.route("/volume/scheduler-stats/get_pools",
                 answer({"pools": [{"name": "p1", "capabilities": LabPool("p1", 100, 50).capabilities()}]}))


VENDOR = {"cpu": {"total": 64, "used": 8}}


@dataclass(frozen=True)
class Source:
    """One HTTP source: where on the server its faults go, and how to poll it once."""

    name: str
    path: str  # the route whose answer misbehaves
    headers: dict[str, str]  # what a good answer there carries (Keystone's token header)
    status: int  # the status of a good answer there
    poll: Callable[[str, Path, dict[str, Any]], Awaitable[None]]  # (server URL, tmp dir, config overrides)


async def poll_first(collector: Any) -> None:
    """One poll of the collector's first target; the collector is closed either way."""
    try:
        await collector.poll(collector.targets()[0])
    finally:
        await collector.close()


async def _poll_cloud(config: dict[str, Any]) -> None:
    await poll_first(CloudCollector([CLOUD.validate_python(config)], backoff_base=0.01))


def openstack(url: str, **overrides: Any) -> dict[str, Any]:
    return {"type": "openstack", "name": "gov", "auth_url": url, "regions": ["r1"], "interval": "60s",
            "timeout": f"{TIMEOUT}s", "retries": 1, "storage_sources": ["cinder"],
            "auth": {"type": "password", "username": "u", "password": SECRETS[0], "project_name": "p"},
            **overrides}


def generic(url: str, **overrides: Any) -> dict[str, Any]:
    return {"type": "generic", "name": "vendor", "url": url + "/stats", "interval": "60s",
            "timeout": f"{TIMEOUT}s", "retries": 1, "headers": {"X-Auth-Token": SECRETS[3]},
            "mapping": {"vcpu": {"capacity": "cpu.total", "used": "cpu.used", "unit": "count"}}, **overrides}


def gateway(url: str, **overrides: Any) -> SmsGateway:
    return SmsGateway.model_validate({"name": "gw", "url": url, "api_key": SECRETS[1], "interval": "60s",
                                      "timeout": f"{TIMEOUT}s", "retries": 1, **overrides})


async def poll_openstack(url: str, tmp: Path, overrides: dict[str, Any]) -> None:
    await _poll_cloud(openstack(url, **overrides))


async def poll_generic(url: str, tmp: Path, overrides: dict[str, Any]) -> None:
    await _poll_cloud(generic(url, **overrides))


async def poll_feed(url: str, tmp: Path, overrides: dict[str, Any]) -> None:
    ledger = Ledger(tmp / "ledger.sqlite")
    try:
        await poll_first(SmsCollector([gateway(url, **overrides)], ledger, backoff_base=0.01))
    finally:
        ledger.close()


async def poll_canary(url: str, tmp: Path, overrides: dict[str, Any]) -> None:
    canary = {"to": SECRETS[2], "interval": "60s", "timeout": "5s"}
    await poll_first(SmsCanaryCollector([gateway(url, canary=canary, **overrides)], backoff_base=0.01, step=0.1))


SOURCES = [
    Source("keystone", "/v3/auth/tokens", {"X-Subject-Token": "tok"}, 201, poll_openstack),
    Source("placement list", "/placement/resource_providers", {}, 200, poll_openstack),
    Source("placement inventories", f"/placement/resource_providers/{UUID}/inventories", {}, 200, poll_openstack),
    Source("cinder", "/volume/scheduler-stats/get_pools", {}, 200, poll_openstack),
    Source("generic", "/stats", {}, 200, poll_generic),
    Source("sms feed", "/v1/delivery-records", {}, 200, poll_feed),
    Source("sms canary", "/v1/messages", {}, 201, poll_canary),
]

GIB = 2**30
SLOW = "no complete answer within"
TOO_LARGE = "refused: larger than the"
# fault name -> (behaviour for a source, what the error says)
FAULTS: dict[str, tuple[Callable[[Source], Behaviour], str]] = {
    "silent": (lambda s: silent, SLOW),
    "slow headers": (lambda s: slow_headers(), SLOW),
    "slow body": (lambda s: slow_body(), SLOW),
    "reset": (lambda s: reset, "connection error"),
    "cut mid-body": (lambda s: cut(), "truncated"),
    "huge, declared": (lambda s: huge(GIB), TOO_LARGE),
    "huge, streamed": (lambda s: huge(64 * 2**20, declared=False), TOO_LARGE),
    "nested JSON": (lambda s: nested(headers=s.headers, status=s.status), "JSON nested too deep"),
    "HTML": (lambda s: answer("<html><body>Service Unavailable</body></html>", s.status, "text/html",
                              headers=s.headers), "malformed or truncated JSON"),
    "not UTF-8": (lambda s: answer(b'{"a": "\xff\xfe"}', s.status, headers=s.headers), "not UTF-8"),
}


async def failure(source: Source, url: str, tmp: Path, **overrides: Any) -> str:
    started = time.monotonic()
    with pytest.raises(CollectorError) as caught:
        await source.poll(url, tmp, overrides)
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert "\n" not in message and not any(secret in message for secret in SECRETS)
    assert elapsed < BOUND, f"{source.name}: the failing poll took {elapsed:.1f}s"
    return message


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
async def test_every_source_fails_each_fault_in_one_line(source: Source, fault: str, tmp_path: Path) -> None:
    behaviour, expected = FAULTS[fault]
    async with HostileServer() as server:
        healthy_cloud(server)
        server.route(source.path, behaviour(source))
        message = await failure(source, server.url, tmp_path)
        assert expected in message, message
        if fault.startswith("huge"):
            # Refused at the limit: far less than the body was read (socket buffers aside).
            assert server.sent < 16 * 2**20, f"{server.sent} bytes sent before the agent refused"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory):
    directory = tmp_path_factory.mktemp("pki")
    return certificates(directory, "right"), certificates(directory, "other")


def vendor_server(**options: Any) -> HostileServer:
    return HostileServer(routes={"/stats": answer(VENDOR)}, **options)


async def test_tls_with_the_right_ca_is_read(pki, tmp_path: Path) -> None:
    right, _ = pki
    async with vendor_server(tls=right.server_context()) as server:
        await poll_generic(server.url, tmp_path, {"ca_file": str(right.ca_file)})


@pytest.mark.parametrize("source", [s for s in SOURCES if s.name in ("keystone", "generic", "sms feed")],
                         ids=lambda s: s.name)
@pytest.mark.parametrize("case", ["self-signed", "wrong CA", "handshake garbage"])
async def test_tls_faults_fail_in_one_line(source: Source, case: str, pki, tmp_path: Path) -> None:
    right, other = pki
    if case == "handshake garbage":
        server, overrides, expected = HostileServer(raw=tls_garbage), {}, "TLS error"
    else:
        # Self-signed: a CA the system does not trust; wrong CA: the agent trusts another one.
        server = HostileServer(tls=right.server_context())
        overrides = {"ca_file": str(other.ca_file)} if case == "wrong CA" else {}
        expected = "TLS certificate verification failed"
    async with server:
        url = server.url.replace("http://", "https://")
        message = await failure(source, url, tmp_path, **overrides)
        assert expected in message, message


def padded(document: dict[str, Any], size: int) -> dict[str, Any]:
    """``document`` with a padding field that brings it to about ``size`` bytes."""
    return {**document, "padding": "x" * size}


@pytest.mark.parametrize("source, document, limit", [
    (SOURCES[0], token_answer("http://127.0.0.1:1"), "1 MiB"),
    (SOURCES[2], {"inventories": {"VCPU": inventory(8)}}, "64 KiB"),
    (SOURCES[4], VENDOR, "1 MiB"),
], ids=["keystone", "placement inventories", "generic"])
async def test_each_api_has_a_body_limit_sized_to_it(source: Source, document: dict[str, Any], limit: str,
                                                     tmp_path: Path) -> None:
    """Good JSON, just larger than the API ever answers: refused, naming the limit."""
    async with HostileServer() as server:
        healthy_cloud(server)
        body = padded(document if source.name != "keystone" else token_answer(server.url), 2 * 2**20)
        server.route(source.path, answer(body, source.status, headers=source.headers))
        message = await failure(source, server.url, tmp_path)
        assert f"larger than the {limit} limit" in message, message


async def test_a_generic_cloud_reads_a_larger_document_when_configured(tmp_path: Path) -> None:
    async with HostileServer(routes={"/stats": answer(padded(VENDOR, 2 * 2**20))}) as server:
        message = await failure(SOURCES[4], server.url, tmp_path)
        assert "larger than the 1 MiB limit" in message
        await poll_generic(server.url, tmp_path, {"max_body": "4MiB"})


def feed_page(records: int, record_size: int) -> dict[str, Any]:
    now = int(time.time() * 1000)
    return {"records": [{"id": f"m{i}", "status": "pending", "submitted_at": now - 1000, "x": "p" * record_size}
                        for i in range(records)], "next_cursor": "c1", "has_more": False}


async def test_an_sms_page_is_limited_by_the_page_size(tmp_path: Path) -> None:
    """page_size x 2 KiB + 64 KiB: 10 records of 20 KiB are refused at page_size 10; max_body raises it."""
    async with HostileServer(routes={"/v1/delivery-records": answer(feed_page(10, 20_000))}) as server:
        message = await failure(SOURCES[5], server.url, tmp_path, page_size=10)
        assert "larger than the 84 KiB limit" in message, message
        await poll_feed(server.url, tmp_path, {"page_size": 10, "max_body": "1MiB"})
