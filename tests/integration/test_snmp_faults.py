"""The SNMP collector under hostile and broken peers: every reply bound to the device and request it answers.

Real net-snmp snmpd behind a UDP proxy that drops, delays, duplicates,
reorders and forges; scripted agents that spray forged replies, never end a
table, or serve thousands of interfaces. Every device uses short timeouts, and
every loop is bounded in count.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, AsyncIterator, Callable

import pytest
from pysnmp.proto import rfc1902

from agent.config import Config, parse_config
from collectors.base import CollectorError, PollResult
from collectors.snmp import SnmpCollector, oids
from collectors.snmp.session import walk_request_limit
from collectors.snmp import ber
from agent.lab.processes import stop_process
from tests.integration.snmpd_fixture import (  # noqa: F401 - snmpd is a fixture
    Snmpd,
    new_snmpd,
    require_snmpd,
    snmpd,
    start_snmpd,
)
from tests.snmp_faults import HOST, MibAgent, UdpProxy, encode_message, typed

COMMUNITY = "sla-test-ro"  # what the snmpd fixture serves; the scripted agents use it too


def config_for(devices: list[dict[str, Any]], links: list[dict[str, Any]]) -> Config:
    return parse_config({
        "snmp": {"defaults": {"timeout": "0.4s", "retries": 1, "community": COMMUNITY}, "devices": devices},
        "link_groups": [{"name": "wan", "links": links}],
    }, "faults.yaml")


def device(name: str, port: int, **extra: Any) -> dict[str, Any]:
    return {"name": name, "address": HOST, "port": port, **extra}


def lo_link(name: str, device_name: str) -> dict[str, Any]:
    return {"name": name, "device": device_name, "if_name": "lo"}


def up_value(result: PollResult, link: str) -> float | None:
    return {o.series: o.value for o in result.observations}[f"link:{link}:up"]


def rejected(collector: SnmpCollector) -> dict[str, float]:
    return {dict(s.labels)["reason"]: s.value for s in collector.shared_samples()}


def if_table(count: int, *, up: int = 1, name_of: Callable[[int], str] = lambda i: f"ge{i}") -> dict[tuple[int, ...], Any]:
    """IF-MIB scalars and ``count`` interface rows, as a scripted agent serves them."""
    mib: dict[tuple[int, ...], Any] = {
        oids.SYS_UPTIME: rfc1902.TimeTicks(500_000),
        oids.IF_NUMBER: rfc1902.Integer32(count),
        oids.IF_TABLE_LAST_CHANGE: rfc1902.TimeTicks(100),
    }
    for i in range(1, count + 1):
        for column, value in ((oids.IF_NAME, name_of(i)), (oids.IF_DESCR, name_of(i)), (oids.IF_ALIAS, ""),
                              (oids.IF_OPER_STATUS, up), (oids.IF_ADMIN_STATUS, 1),
                              (oids.IF_HC_IN_OCTETS, rfc1902.Counter64(1000 * i)),
                              (oids.IF_HC_OUT_OCTETS, rfc1902.Counter64(2000 * i)),
                              (oids.IF_HIGH_SPEED, rfc1902.Gauge32(10_000)),
                              (oids.IF_IN_ERRORS, rfc1902.Counter32(0)), (oids.IF_OUT_ERRORS, rfc1902.Counter32(0)),
                              (oids.IF_IN_DISCARDS, rfc1902.Counter32(0)), (oids.IF_OUT_DISCARDS, rfc1902.Counter32(0))):
            mib[column.instance(i)] = typed(value)
    return mib


@pytest.fixture
async def closing() -> AsyncIterator[list[Any]]:
    """Things to close after the test: collectors (awaited), agents and proxies."""
    things: list[Any] = []
    yield things
    for thing in things:
        result = thing.close()
        if asyncio.iscoroutine(result):
            await result


def oper_down_forgeries(request: ber.Message, count: int) -> list[bytes]:
    """Replies for the ``count`` request-ids on either side of the request's, every value 2 (ifOperStatus down)."""
    asked = [ber.decode_oid(name) for name, _ in request.varbinds]
    return [encode_message(request.community, request.request_id + k, [(oid, rfc1902.Integer32(2)) for oid in asked])
            for k in range(-count, count + 1) if k]


@pytest.mark.snmpd
async def test_a_device_cannot_answer_for_its_neighbour(snmpd: Snmpd, closing: list[Any]) -> None:
    """The attack of issue 10: a device sprays replies with the next request-ids (same community).

    The healthy neighbour is slow (its replies are delayed), so forged replies
    always arrive first. They go to the rogue's own socket and, to play the
    strongest attacker, to every socket the agent has open: none is taken.
    """
    slow = await UdpProxy((snmpd.host, snmpd.port), on_reply=lambda data: [(0.15, data)]).start()
    closing.append(slow)
    sockets: list[tuple[str, int]] = []

    def spray(request: ber.Message, reply: bytes) -> list[bytes]:
        forged = oper_down_forgeries(request, 20)
        for target in sockets:
            for datagram in forged:
                rogue.sendto(datagram, target)
        return [reply, *forged]

    rogue = await MibAgent(COMMUNITY.encode(), if_table(2), tamper=spray).start()
    closing.append(rogue)
    collector = SnmpCollector(config_for(
        [device("slow", slow.port), device("rogue", rogue.port)],
        [lo_link("slow-lo", "slow"), {"name": "rogue-ge1", "device": "rogue", "if_name": "ge1"}],
    ))
    closing.append(collector)
    slow_t, rogue_t = collector.targets()
    seen: list[float | None] = []
    for _ in range(8):
        results = await asyncio.gather(collector.poll(slow_t), collector.poll(rogue_t))
        if not sockets:
            assert collector._engines is not None
            # The sockets were bound by their first send (asyncio's cached sockname says port 0).
            ports = [e._transport.get_extra_info("socket").getsockname()[1] for e in getattr(collector._engines, "_endpoints", [])]
            sockets.extend((HOST, port) for port in ports)  # bound to 0.0.0.0: reachable on loopback
        seen.append(up_value(results[0], "slow-lo"))
    assert seen == [1.0] * 8, "the neighbour's forged replies were taken for the slow device's"
    counts = rejected(collector)
    assert counts["wrong_address"] > 0 and counts["unknown_request_id"] > 0


@pytest.mark.snmpd
async def test_forgeries_from_the_device_address_are_discarded_and_the_real_reply_taken(
        snmpd: Snmpd, closing: list[Any]) -> None:
    """Before each genuine reply, from the device's own address: every kind of wrong datagram."""

    def forge(reply: bytes) -> list[tuple[float, bytes]]:
        genuine = ber.decode_message(reply)
        community = genuine.community
        other_oids = [(oids.IF_OPER_STATUS.instance(999), rfc1902.Integer32(2))] * max(1, len(genuine.varbinds))
        return [
            (0.0, encode_message(community, genuine.request_id, other_oids)),  # right id, other OIDs
            (0.0, encode_message(community, genuine.request_id ^ 1, [])),  # a near-miss request-id
            (0.0, encode_message(b"other-community", genuine.request_id, [])),
            (0.0, encode_message(community, genuine.request_id, [], pdu=ber_pdu_get())),  # not a Response
            (0.0, reply[: len(reply) // 2]),  # truncated
            (0.0, b"\x30\x03garbage"),
            (0.05, reply),  # and the real one, last
            (0.1, reply),  # then a duplicate
        ]

    proxy = await UdpProxy((snmpd.host, snmpd.port), on_reply=forge).start()
    closing.append(proxy)
    collector = SnmpCollector(config_for([device("srv", proxy.port)], [lo_link("lo", "srv")]))
    closing.append(collector)
    for _ in range(3):
        result = await collector.poll(collector.targets()[0])
        assert up_value(result, "lo") == 1.0
    await asyncio.sleep(0.2)  # the last duplicates arrive
    counts = rejected(collector)
    for reason in ("unexpected_oids", "unknown_request_id", "wrong_community", "not_a_response", "malformed"):
        assert counts[reason] > 0, reason


def ber_pdu_get() -> Any:
    from tests.snmp_faults import V2C

    return V2C.GetRequestPDU


@pytest.mark.snmpd
@pytest.mark.parametrize(
    "fault",
    ["drop_first_request", "drop_first_reply", "duplicate", "reorder", "delay_within_retry"],
)
async def test_lossy_network_faults_are_survived_by_retries(snmpd: Snmpd, closing: list[Any], fault: str) -> None:
    seen: dict[str, int] = {"requests": 0, "replies": 0}

    def drop_request(data: bytes) -> bool:
        seen["requests"] += 1
        return fault == "drop_first_request" and seen["requests"] % 2 == 1

    def on_reply(data: bytes) -> list[tuple[float, bytes]]:
        seen["replies"] += 1
        if fault == "drop_first_reply" and seen["replies"] % 2 == 1:
            return []
        if fault == "duplicate":
            return [(0.0, data), (0.0, data), (0.02, data)]
        if fault == "reorder":  # odd replies overtaken by the next ones
            return [(0.12 if seen["replies"] % 2 else 0.0, data)]
        if fault == "delay_within_retry":  # later than the first try's timeout, within the second's
            return [(0.5, data)]
        return [(0.0, data)]

    proxy = await UdpProxy((snmpd.host, snmpd.port), on_reply=on_reply, drop_request=drop_request).start()
    closing.append(proxy)
    collector = SnmpCollector(config_for([device("srv", proxy.port)], [lo_link("lo", "srv")]))
    closing.append(collector)
    target = collector.targets()[0]
    for _ in range(3):
        started = time.monotonic()
        result = await collector.poll(target)
        assert up_value(result, "lo") == 1.0
        assert time.monotonic() - started < target.poll_timeout


@pytest.mark.snmpd
async def test_a_reply_that_never_comes_right_is_unknown_within_the_bound(snmpd: Snmpd, closing: list[Any]) -> None:
    """Only truncated copies come back: the poll fails (unknown), never reads the link down."""
    proxy = await UdpProxy((snmpd.host, snmpd.port), on_reply=lambda data: [(0.0, data[:-3])]).start()
    closing.append(proxy)
    collector = SnmpCollector(config_for([device("srv", proxy.port)], [lo_link("lo", "srv")]))
    closing.append(collector)
    target = collector.targets()[0]
    started = time.monotonic()
    with pytest.raises(CollectorError, match="no response within 0.4s x 2 tries"):
        await collector.poll(target)
    assert time.monotonic() - started < target.poll_timeout
    assert rejected(collector)["malformed"] >= 2
    assert {o.value for o in collector.unknown(target)} == {None}


async def test_an_endless_table_is_cut_off_a_little_after_ifnumber(closing: list[Any]) -> None:
    """An agent whose column never ends: the walk stops after the requests ifNumber allows."""
    mib = if_table(3)

    def endless(oid: tuple[int, ...], count: int) -> list[tuple[tuple[int, ...], Any]]:
        column, index = (oid[:-1], oid[-1]) if len(oid) > 11 else (oid, 0)
        return [(column + (index + k,), typed(f"if{index + k}")) for k in range(1, count + 1)]

    agent = await MibAgent(COMMUNITY.encode(), mib, walk_rows=endless).start()
    closing.append(agent)
    collector = SnmpCollector(config_for([device("r", agent.port)], [{"name": "x", "device": "r", "if_name": "ge1"}]))
    closing.append(collector)
    with pytest.raises(CollectorError, match=rf"table walk did not end after {walk_request_limit(3)} requests \(ifNumber 3\)"):
        await collector.poll(collector.targets()[0])
    assert agent.bulk_requests == walk_request_limit(3)


async def test_a_device_with_thousands_of_interfaces_is_walked(closing: list[Any]) -> None:
    """2,000 interfaces need 81 GETBULK requests of 25 rows: more than the fixed cap of 64 allowed."""
    agent = await MibAgent(COMMUNITY.encode(), if_table(2000)).start()
    closing.append(agent)
    collector = SnmpCollector(config_for([device("big", agent.port)], [{"name": "last", "device": "big",
                                                                        "if_name": "ge1999"}]))
    closing.append(collector)
    result = await collector.poll(collector.targets()[0])
    assert up_value(result, "last") == 1.0
    rx = {s.name: s.value for s in result.samples if dict(s.labels).get("link") == "last"}
    assert rx["sla_link_receive_bytes_total"] == 1000 * 1999


async def test_a_poll_of_several_pdus_resends_only_the_one_left_unanswered(closing: list[Any]) -> None:
    """60 links are 7 GET PDUs in flight at once; the reply to one is lost: only that one is sent again."""
    seen: dict[int, int] = {}  # GET request-id -> copies received
    drop: dict[str, int | None] = {"id": None}

    def tamper(request: ber.Message, reply: bytes) -> list[bytes]:
        if request.pdu_type != ber.GET_REQUEST:
            return [reply]
        seen[request.request_id] = seen.get(request.request_id, 0) + 1
        if drop["id"] is None and len(seen) == 3:
            drop["id"] = request.request_id  # the third PDU's first copy goes unanswered
            return []
        return [reply]

    agent = await MibAgent(COMMUNITY.encode(), if_table(60), tamper=tamper).start()
    closing.append(agent)
    links = [{"name": f"l{i}", "device": "r", "if_name": f"ge{i}"} for i in range(1, 61)]
    collector = SnmpCollector(config_for([device("r", agent.port)], links))
    closing.append(collector)
    target = collector.targets()[0]
    await collector.poll(target)  # the walk, then the first GETs
    seen.clear()
    drop["id"] = None
    started = time.monotonic()
    result = await collector.poll(target)
    assert time.monotonic() - started < target.poll_timeout
    assert all(up_value(result, f"l{i}") == 1.0 for i in range(1, 61))
    assert len(seen) >= 7 and drop["id"] is not None
    assert {rid: n for rid, n in seen.items() if n != 1} == {drop["id"]: 2}


async def test_huge_octet_strings_shrink_the_walk_instead_of_failing_it(closing: list[Any]) -> None:
    """Interface names of 6 KB: a 25-row reply would exceed a datagram, the agent says tooBig, rows are halved."""
    agent = await MibAgent(COMMUNITY.encode(), if_table(30, name_of=lambda i: f"ge{i}-" + "x" * 6000)).start()
    closing.append(agent)
    wanted = "ge17-" + "x" * 6000
    collector = SnmpCollector(config_for([device("r", agent.port)], [{"name": "l", "device": "r", "if_name": wanted}]))
    closing.append(collector)
    result = await collector.poll(collector.targets()[0])
    assert up_value(result, "l") == 1.0


@pytest.mark.snmpd
async def test_a_v3_device_back_with_a_new_engine_id_is_polled_again(
        tmp_path: Any, closing: list[Any], caplog: pytest.LogCaptureFixture) -> None:
    """snmpd restarted with another snmpEngineID (a replaced router, an HA failover): re-discovered, logged once."""
    require_snmpd()
    agent = new_snmpd(tmp_path)
    proc = start_snmpd(tmp_path, agent, engine_id="sla-first-engine")
    try:
        collector = SnmpCollector(parse_config({
            "snmp": {"devices": [{"name": "rt", "address": HOST, "port": agent.port, "version": "v3",
                                  "user": agent.user, "auth_key": agent.auth_key, "priv_key": agent.priv_key,
                                  "timeout": "0.4s", "retries": 1}]},
            "link_groups": [{"name": "wan", "links": [lo_link("lo", "rt")]}],
        }, "v3.yaml"))
        closing.append(collector)
        target = collector.targets()[0]
        assert up_value(await collector.poll(target), "lo") == 1.0
        stop_process(proc)
        proc = start_snmpd(tmp_path, agent, engine_id="sla-second-engine")
        with caplog.at_level(logging.WARNING, logger="collectors.snmp"):
            started = time.monotonic()
            result = await collector.poll(target)
        assert up_value(result, "lo") == 1.0
        assert time.monotonic() - started < target.poll_timeout
        changes = [r.getMessage() for r in caplog.records if "snmpEngineID changed" in r.getMessage()]
        assert len(changes) == 1
        assert b"sla-first-engine".hex() in changes[0] and b"sla-second-engine".hex() in changes[0]
        caplog.clear()
        assert up_value(await collector.poll(target), "lo") == 1.0  # and it stays found, without another change
        assert not [r for r in caplog.records if "snmpEngineID" in r.getMessage()]
    finally:
        stop_process(proc)


@pytest.mark.snmpd
async def test_v3_datagrams_from_another_address_never_reach_pysnmp(snmpd: Snmpd, closing: list[Any]) -> None:
    collector = SnmpCollector(parse_config({
        "snmp": {"devices": [{"name": "rt", "address": HOST, "port": snmpd.port, "version": "v3", "user": snmpd.user,
                              "auth_key": snmpd.auth_key, "priv_key": snmpd.priv_key, "timeout": "0.4s"}]},
        "link_groups": [{"name": "wan", "links": [lo_link("lo", "rt")]}],
    }, "v3.yaml"))
    closing.append(collector)
    target = collector.targets()[0]
    assert up_value(await collector.poll(target), "lo") == 1.0
    session = collector._sessions["rt"]
    port = session._target.transport.transport.get_extra_info("socket").getsockname()[1]
    stranger = await MibAgent(b"x").start()  # any other socket on the network
    closing.append(stranger)
    for _ in range(5):
        stranger.sendto(b"\x30\x03\x02\x01\x03", (HOST, port))
    for _ in range(2):
        assert up_value(await collector.poll(target), "lo") == 1.0
    assert rejected(collector)["wrong_address"] == 5
