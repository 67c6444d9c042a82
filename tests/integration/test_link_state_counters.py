"""sla_link_state_seconds_total of a running agent polling the snmpsim lab, against the agent's own KPI figures.

One group of three links on one simulated router, polled every second: telecom
goes down for about three seconds, unicom has a two-second maintenance window,
ghost names an interface the router does not have (unknown throughout). The
agent runs in this process with the real SNMP collector, ledger, KPI loop and
HTTP server; its wall clock is frozen at the end, so the last KPI evaluation
and the scrape read the same instant and the counters can be compared with
sla_kpi_period_seconds exactly rather than within a poll.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import AsyncIterator
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent import periods
from agent.app import Agent
from agent.config import parse_config
from agent.lab.devices import LabDevice, LabInterface, mbit
from agent.lab.simulator import SnmpLab
from tests.processes import free_port

ROUTER = LabDevice(
    name="lab-r1",
    sys_name="lab-r1",
    sys_descr="simulated router",
    interfaces=(
        LabInterface(1, "GE0/0/1", "GigabitEthernet0/0/1", "to-telecom", 1000, in_rate_bps=mbit(400)),
        LabInterface(2, "GE0/0/2", "GigabitEthernet0/0/2", "to-unicom", 1000, in_rate_bps=mbit(200)),
    ),
)
INTERVAL = 1.0  # seconds between polls
POLL_TIMEOUT = 2.0  # timeout 0.5 s x 2 tries, capped as collectors/snmp/collector.py poll_timeout does
ZONE = "Asia/Shanghai"


class FreezableClock:
    """The wall clock until frozen; then that instant for ever (polls, flushes, evaluations and scrapes)."""

    def __init__(self) -> None:
        self.frozen: float | None = None

    def __call__(self) -> float:
        return time.time() if self.frozen is None else self.frozen


@pytest.fixture
async def lab() -> AsyncIterator[SnmpLab]:
    async with SnmpLab([ROUTER]) as running:
        yield running


def lab_config(lab: SnmpLab, port: int, data_dir: str, window: tuple[float, float]):
    def iso(ts: float) -> str:
        return datetime.fromtimestamp(ts, timezone.utc).isoformat()

    return parse_config(
        {
            "agent": {"listen": f"127.0.0.1:{port}", "data_dir": data_dir, "kpi_interval": "1s", "timezone": ZONE},
            "snmp": {
                "defaults": {"port": lab.port, "timeout": "0.5s", "retries": 1, "interval": f"{INTERVAL:g}s"},
                "devices": [{"name": "lab-r1", "address": lab.host, "community": lab.community("lab-r1")}],
            },
            "link_groups": [{"name": "egress", "links": [
                {"name": "telecom", "device": "lab-r1", "if_name": "GE0/0/1"},
                {"name": "unicom", "device": "lab-r1", "if_alias": "to-unicom"},
                {"name": "ghost", "device": "lab-r1", "if_name": "GE9/9/9"},
            ]}],
            "kpis": [{"id": "egress_link_availability", "link_group": "egress"}],
            "maintenance": [{"name": "unicom works", "links": ["unicom"], "start": iso(window[0]),
                             "end": iso(window[1])}],
        },
        "lab.yaml",
    )


async def test_counters_partition_the_run_and_sum_to_the_kpi(lab: SnmpLab, tmp_path) -> None:
    port = free_port()
    clock = FreezableClock()
    now = time.time()
    window = (now + 3.0, now + 5.0)
    before = time.time()
    agent = Agent(lab_config(lab, port, str(tmp_path / "data"), window), clock=clock)
    after = time.time()  # the links are measured from a moment in [before, after]
    started = asyncio.Event()
    task = asyncio.create_task(agent.run(started))
    try:
        await asyncio.wait_for(started.wait(), 10)
        await asyncio.sleep(2.5)
        await lab.set_oper_status("lab-r1", 1, up=False)
        await asyncio.sleep(3.0)
        await lab.set_oper_status("lab-r1", 1, up=True)
        await asyncio.sleep(2.0)
        frozen = clock.frozen = time.time()
        # Every poll that began before the freeze lands and is flushed, then the KPIs are evaluated at it.
        await asyncio.sleep(POLL_TIMEOUT + 3 * 1.0)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
                text = await response.text()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    zone = ZoneInfo(ZONE)
    if periods.month_containing(before, zone) != periods.month_containing(frozen, zone):
        pytest.skip("the month changed during the test: the KPI restarted, the counters did not")

    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["sla_link_state_seconds"].type == "counter"
    seconds: dict[str, dict[str, float]] = {}
    for sample in families["sla_link_state_seconds"].samples:
        assert sample.labels["group"] == "egress" and sample.labels["device"] == "lab-r1"
        seconds.setdefault(sample.labels["link"], {})[sample.labels["state"]] = sample.value
    assert set(seconds) == {"telecom", "unicom", "ghost"}

    for link, by_state in seconds.items():
        assert set(by_state) == {"up", "down", "unknown", "maintenance"}
        # The four states partition the time since the agent began measuring.
        assert before - 1e-3 <= frozen - sum(by_state.values()) <= after + 1e-3, (link, by_state)
    # A 3 s outage, seen from the first poll after it began to the first after it ended: a poll
    # interval earlier or later, and up to a poll timeout later when the lab (snmpsim, under a
    # loaded CI machine) answers the poll that would see it back up late or not at all.
    assert 1.5 < seconds["telecom"]["down"] < 3.0 + INTERVAL + POLL_TIMEOUT, seconds["telecom"]
    assert seconds["unicom"]["maintenance"] == pytest.approx(2.0, abs=1e-3)
    assert seconds["unicom"]["down"] == 0 and seconds["telecom"]["maintenance"] == 0
    assert seconds["ghost"]["up"] == seconds["ghost"]["down"] == seconds["ghost"]["maintenance"] == 0

    kpi = {s.labels["class"]: s.value for s in families["sla_kpi_period_seconds"].samples
           if s.labels["kpi"] == "egress_link_availability"}
    up = sum(by_state["up"] for by_state in seconds.values())
    down = sum(by_state["down"] for by_state in seconds.values())
    maintenance = sum(by_state["maintenance"] for by_state in seconds.values())
    # The KPI is month-to-date, but only this run has data: its good and bad seconds are the counters'.
    assert kpi["good"] == pytest.approx(up, abs=0.01)
    assert kpi["bad"] == pytest.approx(down, abs=0.01)
    assert kpi["maintenance"] == pytest.approx(maintenance, abs=0.01)
    value = next(s.value for s in families["sla_kpi_value"].samples if s.labels["kpi"] == "egress_link_availability")
    assert up / (up + down) == pytest.approx(value, rel=1e-5)
