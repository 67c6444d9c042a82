"""The SMS webhook shares the agent's listener: idle connections beyond max_connections are closed,
so pushes keep getting through; a reload that drops the gateway frees its address."""

from __future__ import annotations

import asyncio
import socket

import aiohttp

from tests.integration.test_sms_gateway import clock, lab, ledger, make_collector, poll  # noqa: F401 - fixtures
from tests.processes import closed_by_peer, free_port, open_idle

IDLE = 300  # beyond the default 256 connections


async def test_idle_connections_to_the_webhook_are_bounded(lab, ledger, clock):
    port = free_port()
    collector = make_collector(lab, ledger, clock, webhook={"listen": f"127.0.0.1:{port}", "token": "push-T0ken"})
    idle: list[socket.socket] = []
    try:
        await poll(collector)  # starts the receiver
        idle = await open_idle(port, IDLE)
        assert len(idle) == IDLE
        await asyncio.sleep(0.5)
        closed = sum(closed_by_peer(s) for s in idle)
        assert IDLE - 256 <= closed < IDLE, closed  # the longest idle went first
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.post(f"http://127.0.0.1:{port}/sms/delivery-reports", json=[],
                                 headers={"Authorization": "Bearer push-T0ken"}) as resp:
                assert resp.status == 200
        await collector.forget(collector.targets()[0])  # as a reload that removed the gateway
        with socket.socket() as probe:  # the address is free again for the gateway's new definition
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
            probe.listen()
    finally:
        for sock in idle:
            sock.close()
        await collector.close()
