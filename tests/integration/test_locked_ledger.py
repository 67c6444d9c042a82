"""Another process holding the ledger's write lock must not stall /metrics.

`sla-agent run` polls the simulated SMS gateway and takes pushed reports on
its webhook; a second process holds ``BEGIN IMMEDIATE`` on the ledger for
about HOLD seconds while pushes keep arriving (each waits out sqlite's 5 s busy
timeout in a thread) and /metrics is scraped every SCRAPE_EVERY seconds.
Before rendering and ledger work had threads of their own, the blocked
ledger calls filled the default thread pool and scrapes waited behind them.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from agent.lab.sms import SmsLab
from tests.integration.test_ledger_faults import LockedLedger
from tests.processes import free_port, scrape, stop, wait_for

HOLD = 12.0
SCRAPE_EVERY = 0.25
PUSHERS = 8
LIMIT = 1.0  # seconds a scrape may take
TOKEN = "push-T0ken"

def timed_scrape(url: str) -> tuple[float, str | None]:
    started = time.monotonic()
    body = scrape(url)
    return time.monotonic() - started, body


async def push_reports(url: str, until: float) -> int:
    """Push one delivery report at a time until ``until``; how many pushes were answered."""
    answered = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        for n in range(1000):
            if time.monotonic() > until:
                break
            now_ms = int(time.time() * 1000)
            record = {"id": f"push-{id(session)}-{n}", "status": "delivered",
                      "submitted_at": now_ms - 2000, "reported_at": now_ms}
            try:
                async with session.post(url, data=json.dumps([record]),
                                        headers={"Authorization": f"Bearer {TOKEN}"}) as response:
                    await response.read()
                    answered += 1
            except (aiohttp.ClientError, TimeoutError):
                pass
    return answered


@pytest.fixture
async def agent(tmp_path: Path):
    async with SmsLab() as lab:
        port, hook = free_port(), free_port()
        config = tmp_path / "c.yaml"
        config.write_text(f"""
agent: {{listen: 127.0.0.1:{port}, data_dir: {tmp_path / 'data'}, kpi_interval: 2s}}
sms:
  - name: gov-sms
    url: {lab.url}
    api_key: {lab.api_key}
    interval: 1s
    timeout: 1s
    webhook: {{listen: 127.0.0.1:{hook}, token: {TOKEN}}}
kpis: [{{id: sms_delivery_rate}}]
""")
        proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "-c", str(config)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
        base = f"http://127.0.0.1:{port}"
        started = await asyncio.to_thread(
            wait_for, lambda: scrape(base + "/healthz") is not None or proc.poll() is not None, 20)
        assert started and proc.poll() is None, proc.stderr.read() if proc.poll() is not None else "no /healthz"
        try:
            yield proc, base, f"http://127.0.0.1:{hook}/sms/delivery-reports", tmp_path / "data" / "ledger.sqlite"
        finally:
            await asyncio.to_thread(stop, proc)


async def test_scrapes_stay_fast_while_another_process_holds_the_ledger_lock(agent):
    proc, base, webhook, ledger = agent
    # The webhook listens once the gateway's first poll ran.
    assert await asyncio.to_thread(wait_for, lambda: 'sla_target_up{collector="sms",target="gov-sms"} 1.0'
                                   in (scrape(base + "/metrics") or ""), 15)
    lock = LockedLedger(ledger.parent)
    lock.start()
    try:
        deadline = time.monotonic() + HOLD - 1.5
        pushers = [asyncio.create_task(push_reports(webhook, deadline)) for _ in range(PUSHERS)]
        await asyncio.sleep(1.0)  # the pushes are in, each blocked on the lock
        latencies: list[float] = []
        for _ in range(int(HOLD / SCRAPE_EVERY)):
            if time.monotonic() > deadline:
                break
            seconds, body = await asyncio.to_thread(timed_scrape, base + "/metrics")
            latencies.append(seconds)
            assert body is not None, f"scrape {len(latencies)} failed after {seconds:.2f}s"
            await asyncio.sleep(SCRAPE_EVERY)
        await asyncio.gather(*pushers)
    finally:
        lock.end()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(f"\n{len(latencies)} scrapes while the ledger was locked: p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    assert len(latencies) >= 20
    slow = [round(s, 2) for s in latencies if s >= LIMIT]
    assert not slow, f"{len(slow)} of {len(latencies)} scrapes took {LIMIT}s or more: {slow}"
    # Once the lock is gone the agent writes again and keeps running.
    assert await asyncio.to_thread(wait_for, lambda: "sla_ledger_last_write_timestamp_seconds" in (
        scrape(base + "/metrics") or ""), 20)
    assert proc.poll() is None
