"""The agent (agent.app.Agent, in process) with healthy sources and hostile ones side by side on 127.0.0.1.

Healthy: the lab cloud (two regions) and the lab SMS gateway with its
canary. Hostile (tests/hostile_http.py): a 30 MiB body streamed without a
length, JSON nested 100,000 deep, a body dribbled a byte at a time, a
Keystone that resets every connection, a 30 MiB SMS feed page.

Asserted on behaviour: every poll of a healthy target succeeds and none is
missed, every hostile poll fails with its own one-line reason, nothing logs a
traceback. The /metrics latency of sequential scrapes is measured and printed
(the loop the scrapes run on is the agent's own, so it shows any stall), with
a bound far above the requirement's 100 ms (bench/hostile_mix.py measures it
properly, in separate processes).
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import pytest

from agent.app import Agent
from agent.config import parse_config
from agent.lab.cloud import CloudLab
from agent.lab.sms import SmsLab
from tests.hostile_http import HostileServer, huge, nested, reset, slow_body
from tests.processes import free_port

RUN = 15.0  # seconds the agent runs
HUGE = 30 * 2**20
EXPECTED_ERRORS = {
    "hostile-huge/default": "larger than the 1 MiB limit",
    "hostile-nested/default": "JSON nested too deep",
    "hostile-slow/default": "no complete answer within",
    "hostile-keystone/r1": "connection error",
    "hostile-sms": "larger than the",
}


def config(tmp_path, port: int, cloud: CloudLab, sms: SmsLab, hostile: str):
    bounds = {"interval": "10s", "timeout": "1.5s", "retries": 1}  # clouds: every 10 s at the most
    mapping = {"vcpu": {"capacity": "cpu.total", "unit": "count"}}
    clouds = [cloud.cloud_config("gov-cloud", interval="10s", timeout="1.5s")]
    clouds += [{"type": "generic", "name": f"hostile-{name}", "url": f"{hostile}/{name}", "mapping": mapping, **bounds}
               for name in ("huge", "nested", "slow")]
    clouds.append({"type": "openstack", "name": "hostile-keystone", "auth_url": hostile, "regions": ["r1"],
                   "auth": {"type": "password", "username": "u", "password": "pw-S3cret", "project_name": "p"},
                   **bounds})
    gateways = [sms.gateway_config("gov-sms", interval="1s", timeout="1s",
                                   canary={"to": sms.probe_number, "interval": "10s", "timeout": "3s"}),
                {"name": "hostile-sms", "url": hostile, "api_key": "key-S3cret", "interval": "1s", "timeout": "1s"}]
    return parse_config({"agent": {"listen": f"127.0.0.1:{port}", "data_dir": str(tmp_path), "kpi_interval": "2s"},
                         "clouds": clouds, "sms": gateways}, "hostile-mix.yaml")


@pytest.fixture
def hostile_routes():
    page = b'{"records": [' + b"0," * (HUGE // 2) + b'0], "next_cursor": "c", "has_more": false}'
    from tests.hostile_http import answer

    return {"/huge": huge(HUGE, declared=False), "/nested": nested(100_000), "/slow": slow_body(),
            "/v3/auth/tokens": reset, "/v1/delivery-records": answer(page)}


async def test_hostile_sources_leave_the_healthy_ones_and_metrics_untouched(tmp_path, hostile_routes, caplog):
    port = free_port()
    async with (CloudLab() as cloud, SmsLab(canary_latency=0.2, canary_outcome="delivered") as sms,
                HostileServer(routes=hostile_routes) as bad):
        agent = Agent(config(tmp_path, port, cloud, sms, bad.url))
        started = asyncio.Event()
        latencies: list[float] = []
        with caplog.at_level(logging.INFO):
            task = asyncio.create_task(agent.run(started))
            await asyncio.wait_for(started.wait(), 10)
            async with aiohttp.ClientSession() as http:
                end = time.monotonic() + RUN
                for _ in range(int(RUN / 0.05)):  # bounded in count and time
                    if time.monotonic() > end:
                        break
                    begun = time.perf_counter()
                    async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                        assert resp.status == 200
                        await resp.read()
                    latencies.append(time.perf_counter() - begun)
                    await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    print(f"\n/metrics over {len(latencies)} scrapes: p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    targets = {status.target: status for status in agent.state.target_list()}
    healthy = {name: status for name, status in targets.items() if not name.startswith("hostile")}
    assert {"gov-sms", "gov-sms/canary"} <= set(healthy) and len(healthy) == 4
    assert {name: status.error for name, status in healthy.items() if status.failures} == {}
    for name, status in healthy.items():
        interval = 1.0 if name == "gov-sms" else 10.0
        # A poll per interval once the first polls' spread is over: none skipped for a stall.
        assert status.polls >= max(1, RUN / interval - 3), (name, status.polls)
    for name, expected in EXPECTED_ERRORS.items():
        assert targets[name].failures == targets[name].polls > 0
        assert expected in (targets[name].error or ""), (name, targets[name].error)
        assert "\n" not in targets[name].error
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert p99 < 1.0, f"/metrics p99 {p99 * 1000:.0f} ms while hostile sources were polled"
