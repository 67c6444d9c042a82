"""SnmpCollector against a real net-snmp snmpd on 127.0.0.1 (the host's own interfaces)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Any, AsyncIterator, Callable

import pytest

from agent.config import Config, parse_config
from collectors.base import Collector, CollectorError, Observation, PollResult, Target
from collectors.snmp import SnmpCollector, SnmpTarget
from collectors.snmp.collector import POLL_SLACK
from tests.integration.snmpd_fixture import Snmpd, free_udp_port, snmpd  # noqa: F401 - snmpd is a fixture

pytestmark = pytest.mark.snmpd

LO_CAPACITY = 10e6 / 8  # net-snmp reports lo's ifHighSpeed as 10 (Mbit/s)
SNMPD_IF_CACHE = 3.2  # seconds net-snmp serves IF-MIB counters from its cache


def make_config(agent: Snmpd, devices: list[dict[str, Any]], links: list[dict[str, Any]] = ()) -> Config:
    data: dict[str, Any] = {
        "snmp": {"defaults": {"port": agent.port, "timeout": "0.5s", "retries": 1}, "devices": devices,
                 "link_metrics": ["traffic", "errors", "rates"]},  # the tests read the agent's rate verdicts
    }
    if links:
        data["link_groups"] = [{"name": "wan", "links": list(links)}]
    return parse_config(data, "test.yaml")


def v2c(agent: Snmpd, name: str = "srv", **extra: Any) -> dict[str, Any]:
    return {"name": name, "address": agent.host, "community": agent.community, **extra}


def v3(agent: Snmpd, name: str = "srv3", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "address": agent.host,
        "version": "v3",
        "user": agent.user,
        "auth_protocol": "sha",
        "auth_key": agent.auth_key,
        "priv_protocol": "aes",
        "priv_key": agent.priv_key,
        **extra,
    }


def lo(name: str = "lo-link", device: str = "srv", **extra: Any) -> dict[str, Any]:
    return {"name": name, "device": device, "if_name": "lo", **extra}


def observations(result: PollResult) -> dict[str, float | None]:
    """The links' observations (each poll also says the device answered: device:<name>:answered)."""
    return {o.series: o.value for o in result.observations if o.series.startswith("link:")}


def samples(result: PollResult) -> dict[tuple[str, str], float]:
    """(metric, link or target) -> value."""
    out = {}
    for s in result.samples:
        labels = dict(s.labels)
        out[(s.name, labels.get("link") or labels["target"])] = s.value
    return out


def target(collector: SnmpCollector, name: str) -> SnmpTarget:
    return next(t for t in collector.targets() if t.name == name)


def loopback_traffic(total: int = 256 * 1024) -> None:
    """Send ``total`` bytes through lo so its counters move between polls."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(1.0)
        chunk = b"x" * 8192
        for _ in range(total // len(chunk)):
            tx.sendto(chunk, rx.getsockname())
            rx.recv(65535)


@pytest.fixture
async def make_collector() -> AsyncIterator[Callable[[Config], SnmpCollector]]:
    made: list[SnmpCollector] = []

    def make(config: Config) -> SnmpCollector:
        made.append(SnmpCollector(config))
        return made[-1]

    yield make
    for collector in made:
        await collector.close()


async def test_v2c_lo_state_capacity_counters_and_rate(snmpd: Snmpd, make_collector: Callable[[Config], SnmpCollector]) -> None:
    # Two links on lo: one takes its capacity from ifHighSpeed; the other has a
    # contract so large that concurrent loopback load on a busy test machine
    # can never make its rate "absurd".
    config = make_config(
        snmpd, [v2c(snmpd)], [lo("by-name"), {"name": "by-descr", "device": "srv", "if_descr": "lo", "capacity": "100Gbit/s"}]
    )
    collector = make_collector(config)
    assert isinstance(collector, Collector)
    srv = target(collector, "srv")

    first = await collector.poll(srv)
    obs, s1 = observations(first), samples(first)
    assert obs["link:by-name:up"] == 1.0
    assert obs["link:by-name:available_bytes_per_second"] == LO_CAPACITY
    assert obs["link:by-descr:available_bytes_per_second"] == 12.5e9
    assert s1[("sla_link_capacity_bytes_per_second", "by-name")] == LO_CAPACITY
    assert s1[("sla_link_up", "by-name")] == 1.0 and s1[("sla_link_admin_up", "by-name")] == 1.0
    assert s1[("sla_snmp_device_uptime_seconds", "srv")] > 0
    for link in ("by-name", "by-descr"):
        assert s1[("sla_link_receive_bytes_total", link)] > 0
        assert ("sla_link_transmit_bytes_total", link) in s1
        assert ("sla_link_receive_errors_total", link) in s1
        assert ("sla_link_transmit_discards_total", link) in s1
        assert ("sla_link_receive_bytes_per_second", link) not in s1  # no rate on the first poll
    assert first.discontinuities == 0

    loopback_traffic()
    # snmpd caches the interface table for ~3 s: poll again once it has
    # refreshed (bounded; each poll is a new baseline for the next rate).
    await asyncio.sleep(SNMPD_IF_CACHE)
    for _ in range(4):
        second = await collector.poll(srv)
        s2 = samples(second)
        if s2[("sla_link_receive_bytes_total", "by-descr")] > s1[("sla_link_receive_bytes_total", "by-descr")]:
            break
        await asyncio.sleep(1.0)
    for link in ("by-name", "by-descr"):
        for counter in ("sla_link_receive_bytes_total", "sla_link_transmit_bytes_total"):
            assert s2[(counter, link)] >= s1[(counter, link)] + 256 * 1024
    # The 256 KiB plus the SNMP packets themselves crossed lo.
    assert s2[("sla_link_receive_bytes_per_second", "by-descr")] > 0
    assert s2[("sla_link_transmit_bytes_per_second", "by-descr")] > 0
    # lo's nominal 10 Mbit/s may be exceeded by other loopback users of this
    # machine; then that rate is dropped as implausible, never negative.
    assert s2.get(("sla_link_receive_bytes_per_second", "by-name"), 0.0) >= 0


async def test_v3_authpriv_and_v2c_poll_side_by_side(snmpd: Snmpd, make_collector: Callable[[Config], SnmpCollector]) -> None:
    # Both devices' first polls run at once against one single-threaded snmpd, the v3 one with engine
    # discovery and pure-Python key localisation: 2 s, not the suite's 0.5 s, so a busy CI machine does
    # not read either as down (the timeout tests below keep the short bounds).
    config = make_config(snmpd, [v2c(snmpd, timeout="2s"), v3(snmpd, context="", timeout="2s")],
                         [lo("v2", "srv"), lo("v3", "srv3")])
    collector = make_collector(config)
    results = await asyncio.gather(*(collector.poll(t) for t in collector.targets()))
    merged = {k: v for r in results for k, v in observations(r).items()}
    assert merged["link:v2:up"] == merged["link:v3:up"] == 1.0
    assert samples(results[1])[("sla_link_receive_bytes_total", "v3")] > 0
    # One pysnmp engine, for v3 (v2c devices have sockets of their own): only a v3 user name
    # reused with other keys needs another.
    assert collector._engines is not None and len(collector._engines) == 1


async def test_v3_requests_build_no_mib_parser(snmpd: Snmpd, make_collector: Callable[[Config], SnmpCollector],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # pysnmp builds pysmi's MIB parser (0.7 s of CPU, on the event loop) at an engine's first request
    # unless a compiler is set: every poll in flight at start-up would wait for it. The agent's
    # engines resolve numeric OIDs with none (collectors/snmp/v3.py).
    from pysmi.parser.lark_parser import SmiV2Parser

    built: list[object] = []
    monkeypatch.setattr(SmiV2Parser, "__init__", lambda self, *a, **k: built.append(self))
    config = make_config(snmpd, [v3(snmpd, context="", timeout="2s")], [lo("v3", "srv3")])
    collector = make_collector(config)
    result = await collector.poll(collector.targets()[0])
    assert observations(result)["link:v3:up"] == 1.0
    assert built == []


async def test_wrong_community_fails_cleanly_within_bound(snmpd: Snmpd, make_collector: Callable[[Config], SnmpCollector]) -> None:
    config = make_config(snmpd, [v2c(snmpd, community="not-the-community", timeout="0.3s", retries=1)], [lo()])
    collector = make_collector(config)
    srv = target(collector, "srv")
    started = time.monotonic()
    with pytest.raises(CollectorError) as caught:
        await collector.poll(srv)
    assert time.monotonic() - started < srv.poll_timeout
    message = str(caught.value)
    assert "\n" not in message and "not-the-community" not in message
    assert "no response" in message
    assert [(o.series, o.value) for o in collector.unknown(srv)] == [
        ("device:srv:answered", None),
        ("link:lo-link:up", None),
        ("link:lo-link:available_bytes_per_second", None),
    ]


@pytest.mark.parametrize(
    ("override", "expect"),
    [
        ({"auth_key": "wrong-auth-key"}, ("SNMPv3 authentication failed (wrong auth_key or auth_protocol)",)),
        # Net-SNMP drops a request it cannot decrypt (no report): a timeout; an agent that does
        # send the usmStatsDecryptionErrors report gets the decryption message.
        ({"priv_key": "wrong-priv-key"}, ("no response within 0.3s x 1 try", "SNMPv3 decryption failed")),
    ],
)
async def test_wrong_v3_keys_fail_without_disturbing_good_user(
    snmpd: Snmpd, make_collector: Callable[[Config], SnmpCollector], override: dict[str, str], expect: tuple[str, ...]
) -> None:
    # Same user name with different keys on two devices: pysnmp holds one USM
    # row per user name per engine, so the collector must keep them apart.
    bad = v3(snmpd, "bad", timeout="0.3s", retries=0, **override)
    config = make_config(snmpd, [v3(snmpd, "good"), bad], [lo("good-lo", "good"), lo("bad-lo", "bad")])
    collector = make_collector(config)
    good_t, bad_t = target(collector, "good"), target(collector, "bad")
    started = time.monotonic()
    good, failed = await asyncio.gather(collector.poll(good_t), collector.poll(bad_t), return_exceptions=True)
    assert time.monotonic() - started < bad_t.poll_timeout
    assert isinstance(good, PollResult) and observations(good)["link:good-lo:up"] == 1.0
    assert isinstance(failed, CollectorError)
    message = str(failed)
    assert any(e in message for e in expect), message
    for secret in (snmpd.auth_key, snmpd.priv_key, *override.values()):
        assert secret not in message
    # And the good user still works after the bad one was tried.
    assert observations(await collector.poll(good_t))["link:good-lo:up"] == 1.0
    # Kept apart: the user name with other keys got an engine of its own.
    assert collector._engines is not None and len(collector._engines) == 2


async def test_unreachable_port_fails_within_bound_without_delaying_others(
    snmpd: Snmpd, make_collector: Callable[[Config], SnmpCollector]
) -> None:
    dead = v2c(snmpd, "dead", port=free_udp_port(), timeout="0.5s", retries=1)
    config = make_config(snmpd, [v2c(snmpd), dead], [lo("live", "srv"), lo("gone", "dead")])
    collector = make_collector(config)
    dead_t = target(collector, "dead")
    assert dead_t.poll_timeout == pytest.approx(min(0.5 * 2 * 8 + POLL_SLACK, 30.0))

    async def timed(t: Target) -> tuple[float, PollResult | BaseException]:
        started = time.monotonic()
        try:
            return time.monotonic() - started, await collector.poll(t)
        except CollectorError as exc:
            return time.monotonic() - started, exc

    (live_s, live), (dead_s, failed) = await asyncio.gather(timed(target(collector, "srv")), timed(dead_t))
    assert isinstance(live, PollResult) and observations(live)["link:live:up"] == 1.0
    assert isinstance(failed, CollectorError) and "no response within 0.5s x 2 tries" in str(failed)
    assert 0.9 <= dead_s < dead_t.poll_timeout
    assert live_s < 0.9  # answered while the dead device was still being retried


async def test_unmatched_selector_is_unknown_while_device_answers(
    snmpd: Snmpd, make_collector: Callable[[Config], SnmpCollector], caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(
        snmpd, [v2c(snmpd)], [lo("present"), {"name": "absent", "device": "srv", "if_alias": "no such interface"}]
    )
    collector = make_collector(config)
    srv = target(collector, "srv")
    with caplog.at_level(logging.WARNING, logger="collectors.snmp"):
        for _ in range(2):
            result = await collector.poll(srv)
            obs = observations(result)
            assert obs["link:present:up"] == 1.0
            assert obs["link:absent:up"] is None and obs["link:absent:available_bytes_per_second"] is None
            assert not [k for k in samples(result) if k[1] == "absent"]
    warnings = [r for r in caplog.records if "absent" in r.getMessage()]
    assert len(warnings) == 1, "a missing interface is logged once, not every poll"
    assert "if_alias='no such interface'" in warnings[0].getMessage()


async def test_device_without_links_polls_uptime(snmpd: Snmpd, make_collector: Callable[[Config], SnmpCollector]) -> None:
    collector = make_collector(make_config(snmpd, [v2c(snmpd, "bare")]))
    bare = target(collector, "bare")
    assert bare.links == () and bare.poll_timeout == pytest.approx(0.5 * 2 + POLL_SLACK)
    result = await collector.poll(bare)
    # A device without links: only that it answered (managed_devices), unknown when a poll fails.
    assert result.observations == (Observation("device:bare:answered", 1.0),)
    assert collector.unknown(bare) == (Observation("device:bare:answered", None),)
    assert samples(result)[("sla_snmp_device_uptime_seconds", "bare")] > 0


def test_targets_apply_defaults_and_group_links(snmpd: Snmpd) -> None:
    config = make_config(
        snmpd,
        [v2c(snmpd, "a", interval="1m", timeout="2s", retries=2), v3(snmpd, "b")],
        [lo("l1", "a"), lo("l2", "b"), lo("l3", "a")],
    )
    collector = SnmpCollector(config)
    a, b = collector.targets()
    assert (a.name, a.interval, a.device.port, a.device.timeout, a.device.retries) == ("a", 60.0, snmpd.port, 2.0, 2)
    assert [(tl.link.name, tl.group) for tl in a.links] == [("l1", "wan"), ("l3", "wan")]
    # 2 s x 3 tries x 8 request rounds + slack (under the 60 s interval cap).
    assert a.poll_timeout == pytest.approx(2 * 3 * 8 + POLL_SLACK)
    assert (b.interval, b.device.timeout, b.device.retries, b.device.version) == (30.0, 0.5, 1, "v3")
    assert b.poll_timeout == pytest.approx(0.5 * 2 * 8 + POLL_SLACK)
    assert [o.series for o in collector.unknown(b)] == ["device:b:answered", "link:l2:up",
                                                        "link:l2:available_bytes_per_second"]
    assert all(o.value is None for o in collector.unknown(b))
    with pytest.raises(Exception):
        a.name = "x"  # type: ignore[misc]  # frozen
