"""The agent's wiring: scheduler -> ledger -> KPI engine -> /metrics, with a fake collector."""

import asyncio
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from agent.app import Agent
from agent.config import parse_config
from agent.exposition import make_registry
from tests.fakes import FakeClock, FakeLinkCollector
from tests.processes import free_port

SH = ZoneInfo("Asia/Shanghai")
GBIT = 1e9 / 8
T0 = datetime(2026, 11, 10, 9, 0, tzinfo=SH).timestamp()


def make_config(tmp_path, listen="127.0.0.1:9877"):
    return parse_config(
        {
            "agent": {"data_dir": str(tmp_path / "data"), "listen": listen, "kpi_interval": "1s"},
            "snmp": {"devices": [{"name": "r1", "address": "127.0.0.1", "community": "c"}]},
            "link_groups": [{"name": "egress", "links": [
                {"name": "ct", "device": "r1", "if_name": "a"},
                {"name": "cu", "device": "r1", "if_name": "b"},
            ]}],
            "kpis": [
                {"id": "egress_link_availability", "link_group": "egress"},
                {"id": "egress_bandwidth", "link_group": "egress"},
            ],
        },
        "test.yaml",
    )


def collector():
    return FakeLinkCollector(links={"ct": 10 * GBIT, "cu": 10 * GBIT})


async def poll_at(agent, fake, clock, t):
    clock.now = t
    await agent.scheduler.poll_once(fake, fake.target)
    await agent.flush()


def kpis(agent):
    return {r.definition.id: r for r in agent.state.kpis}


async def test_crash_in_an_outage_reads_the_dead_time_as_unknown_not_down(tmp_path):
    """Killed at T0+60 right after a flush, restarted at T0+70, first poll at T0+75.

    Without the heartbeat cut the open segments (valid 60 s) ran to T0+120 and
    the restart's first observation extended them: 15 s of dead time read as
    down (ct) and up (cu).
    """
    config = make_config(tmp_path)
    clock = FakeClock(T0)
    fake = collector()
    agent = Agent(config, [fake], clock)
    await poll_at(agent, fake, clock, T0)
    fake.states["ct"] = False
    await poll_at(agent, fake, clock, T0 + 30)
    await poll_at(agent, fake, clock, T0 + 60)  # the last flush: heartbeat T0+60
    agent.ledger.close()  # a crash: no clean stop

    clock.now = T0 + 70
    restarted = Agent(config, [fake], clock)
    await poll_at(restarted, fake, clock, T0 + 75)
    fake.states["ct"] = True
    await poll_at(restarted, fake, clock, T0 + 105)
    clock.now = T0 + 120
    await restarted.evaluate()
    avail = kpis(restarted)["egress_link_availability"]
    assert avail.totals.bad == 30 + 30  # ct down T0+30..60 and T0+75..105
    assert avail.totals.good == 30 + 15 + 60 + 45  # ct: 0-30, 105-120; cu: 0-60, 75-120
    month_start = datetime(2026, 11, 1, tzinfo=SH).timestamp()
    assert avail.totals.unknown == pytest.approx(2 * 15 + 2 * (T0 - month_start))  # 60-75 on both links
    assert avail.value == pytest.approx(150 / 210)
    bandwidth = kpis(restarted)["egress_bandwidth"]
    # 20G for 30 s, 10G for 30 s, unknown 15 s, 10G for 30 s, 20G for 15 s.
    assert bandwidth.value == pytest.approx((30 * 20 + 30 * 10 + 30 * 10 + 15 * 20) / 105 * GBIT)
    restarted.ledger.close()


async def test_every_flush_moves_the_heartbeat_even_with_nothing_to_write(tmp_path):
    clock = FakeClock(T0)
    agent = Agent(make_config(tmp_path), [collector()], clock)
    assert agent.ledger.heartbeat() == (T0, False)  # the start is a heartbeat too
    clock.advance(1)
    await agent.flush()
    assert agent.ledger.heartbeat() == (T0 + 1, False)
    agent.ledger.close()


async def test_failed_poll_is_unknown_and_shown_per_target(tmp_path):
    config = make_config(tmp_path)
    clock = FakeClock(T0)
    fake = collector()
    agent = Agent(config, [fake], clock)
    await poll_at(agent, fake, clock, T0)
    fake.failing = True
    await poll_at(agent, fake, clock, T0 + 30)
    clock.now = T0 + 60
    await agent.evaluate()
    avail = kpis(agent)["egress_link_availability"]
    assert avail.totals.good == 60 and avail.totals.bad == 0  # 30 s up on each link
    assert avail.value == 1.0
    # Unknown: both links from T0+30 to now, plus the month before T0 (no data).
    month_start = datetime(2026, 11, 1, tzinfo=SH).timestamp()
    assert avail.totals.unknown == pytest.approx(2 * 30 + 2 * (T0 - month_start))

    registry = make_registry(agent.state)
    ids = {"collector": "fake", "target": "router"}
    assert registry.get_sample_value("sla_target_up", ids) == 0
    assert registry.get_sample_value("sla_target_polls_total", ids) == 2
    assert registry.get_sample_value("sla_target_poll_failures_total", ids) == 1
    assert registry.get_sample_value("sla_target_last_success_timestamp_seconds", ids) == T0
    assert registry.get_sample_value("sla_kpi_value", {"kpi": "egress_link_availability"}) == 1.0
    assert registry.get_sample_value("sla_kpi_met", {"kpi": "egress_link_availability"}) == 1.0
    assert registry.get_sample_value("sla_kpi_target", {"kpi": "egress_bandwidth"}) == pytest.approx(15 * GBIT)
    assert registry.get_sample_value("sla_kpi_period_seconds", {"kpi": "egress_link_availability", "class": "good"}) == 60
    agent.ledger.close()


async def test_kpi_without_data_is_absent_not_zero(tmp_path):
    agent = Agent(make_config(tmp_path), [collector()], FakeClock(T0))
    await agent.evaluate()
    registry = make_registry(agent.state)
    assert registry.get_sample_value("sla_kpi_value", {"kpi": "egress_link_availability"}) is None
    assert registry.get_sample_value("sla_kpi_met", {"kpi": "egress_link_availability"}) is None
    assert registry.get_sample_value("sla_kpi_coverage_ratio", {"kpi": "egress_link_availability"}) == 0
    # The threshold below which the figure is insufficient data (min_coverage, default 90 %).
    assert registry.get_sample_value("sla_kpi_min_coverage_ratio", {"kpi": "egress_link_availability"}) == 0.9
    agent.ledger.close()


async def test_serves_metrics_and_healthz_and_closes_segments_on_stop(tmp_path):
    port = free_port()
    config = make_config(tmp_path, listen=f"127.0.0.1:{port}")
    fake = collector()
    fake.target = type(fake.target)("router", interval=0.2, poll_timeout=1)
    agent = Agent(config, [fake])
    started = asyncio.Event()
    task = asyncio.create_task(agent.run(started))
    await asyncio.wait_for(started.wait(), 10)
    async with aiohttp.ClientSession() as http:
        text = ""
        for _ in range(50):  # bounded: up to ~5 s for a poll, a flush and an evaluation
            await asyncio.sleep(0.1)
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                assert resp.status == 200
                text = await resp.text()
            if 'sla_kpi_value{kpi="egress_bandwidth"}' in text:
                break
        assert 'sla_kpi_value{kpi="egress_bandwidth"} 2.5e+09' in text
        assert 'sla_target_up{collector="fake",target="router"} 1.0' in text
        # The formatter thread runs with the agent (agent/formatter.py), and has formatted the router's lines.
        assert "metrics-format" in {thread.name for thread in threading.enumerate()}
        status = agent.state.targets[("fake", "router")]  # submitted before the drain's marker
        assert agent.state.formatter is not None and agent.state.formatter.drain(5.0)
        assert status._text is not None
        async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            assert resp.status == 200
            assert (await resp.json())["status"] == "ok"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "metrics-format" not in {thread.name for thread in threading.enumerate() if thread.is_alive()}
