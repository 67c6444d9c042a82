"""The wall clock steps forward and back by hours while the agent runs.

Polls are timed on the monotonic clock; only the timestamps they carry
jump. The ledger then keeps segments that never overlap and never run
backwards, an observation older than what it holds is dropped (said once),
the heartbeat never moves back, and every period's good/bad/unknown add up
to its length: nothing counted twice, nothing negative.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.app import Agent
from agent.ledger import Ledger
from agent.periods import month_containing
from tests.fakes import FakeClock
from tests.processes import free_port
from tests.unit.test_agent import SH, T0, collector, kpis, make_config, poll_at

H = 3 * 3600.0
SERIES = ["link:ct:up", "link:cu:up", "link:ct:available_bytes_per_second", "link:cu:available_bytes_per_second"]


def assert_sane(agent: Agent) -> None:
    """Each series' segments are in order, none runs backwards, none overlaps the next."""
    for name, segments in agent.ledger.segments(SERIES, 0, 2**40).items():
        for (s1, e1, _), (s2, e2, _) in zip(segments, segments[1:]):
            assert s1 <= e1 <= s2 <= e2, (name, segments)


def assert_adds_up(agent: Agent, now: float, links: int = 2) -> None:
    """The availability KPI's classes over the month so far: each >= 0, together the link-time elapsed."""
    totals = kpis(agent)["egress_link_availability"].totals
    assert min(totals.good, totals.bad, totals.unknown, totals.maintenance) >= 0
    elapsed = now - month_containing(now, SH).start
    assert totals.good + totals.bad + totals.unknown + totals.maintenance == pytest.approx(links * elapsed)


async def test_forward_then_back_by_three_hours(tmp_path, caplog):
    clock = FakeClock(T0)
    fake = collector()
    agent = Agent(make_config(tmp_path), [fake], clock)
    await poll_at(agent, fake, clock, T0)
    await poll_at(agent, fake, clock, T0 + 30)
    await poll_at(agent, fake, clock, T0 + H + 60)  # stepped forward 3 h
    fake.states["ct"] = False
    await poll_at(agent, fake, clock, T0 + H + 90)
    fake.states["ct"] = True
    with caplog.at_level(logging.WARNING, logger="agent.app"):
        await poll_at(agent, fake, clock, T0 + 120)  # and back: older than the ledger's data, dropped
        await poll_at(agent, fake, clock, T0 + 150)
    assert sum("wall clock went back" in r.getMessage() for r in caplog.records) == 1
    assert agent.ledger.heartbeat() == (T0 + H + 90, False)
    assert_sane(agent)
    assert agent.ledger.segments(["link:ct:up"], 0, 2**40)["link:ct:up"] == [
        (T0, T0 + 90, 1.0), (T0 + H + 60, T0 + H + 90, 1.0), (T0 + H + 90, T0 + H + 150, 0.0)]

    await agent.evaluate()  # at T0+150 on the stepped-back clock: only what lies before it counts
    totals = kpis(agent)["egress_link_availability"].totals
    assert (totals.good, totals.bad) == (2 * 90, 0)
    assert_adds_up(agent, T0 + 150)

    clock.now = T0 + H + 200  # the clock has caught up
    await agent.evaluate()
    totals = kpis(agent)["egress_link_availability"].totals
    assert (totals.good, totals.bad) == (90 + 30 + 90 + 90, 60)  # ct: 90 + 30 up, 60 down; cu: 90 + 90 up
    assert_adds_up(agent, T0 + H + 200)
    agent.ledger.close()


async def test_back_across_a_month_boundary(tmp_path):
    december = datetime(2026, 12, 1, tzinfo=SH).timestamp()
    clock = FakeClock(december)
    fake = collector()
    agent = Agent(make_config(tmp_path), [fake], clock)
    await poll_at(agent, fake, clock, december)
    await poll_at(agent, fake, clock, december + 30)
    await poll_at(agent, fake, clock, december - 3600 + 60)  # back to 23:01 on 30 November
    await agent.evaluate()
    result = kpis(agent)["egress_link_availability"]
    assert result.period.label == "2026-11" and result.totals.known == 0  # December's data is not November's
    assert_adds_up(agent, december - 3600 + 60)
    clock.now = december + 300
    await agent.evaluate()
    assert kpis(agent)["egress_link_availability"].totals.good == 2 * 90
    assert_adds_up(agent, december + 300)
    agent.ledger.close()


async def test_running_agent_with_a_stepping_clock(tmp_path):
    """The real scheduler and flush loop, polling every 0.2 s, while the clock jumps +3 h, back, then -3 h."""
    offset = [0.0]
    config = make_config(tmp_path, listen=f"127.0.0.1:{free_port()}")
    fake = collector()
    fake.target = type(fake.target)("router", interval=0.2, poll_timeout=1)
    agent = Agent(config, [fake], lambda: time.time() + offset[0])
    started = asyncio.Event()
    task = asyncio.create_task(agent.run(started))
    await asyncio.wait_for(started.wait(), 10)
    for step, seconds in ((H, 1.2), (-H, 1.2), (-H, 1.2), (0.0, 1.2)):
        await asyncio.sleep(seconds)
        offset[0] += step
        fake.states["ct"] = not fake.states.get("ct", True)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert agent.state.ledger.failures == 0
    reopened = Agent(config, [fake], lambda: time.time() + offset[0])
    assert_sane(reopened)
    for now in (time.time() - H, time.time(), time.time() + H):
        reopened.clock = lambda now=now: now
        await reopened.evaluate()
        assert_adds_up(reopened, now)
    reopened.ledger.close()


observations = st.lists(st.tuples(st.sampled_from([1.0, 0.0, None]),
                                  st.sampled_from([10.0, 30.0, -5.0, -H, H, 0.0]),  # the clock's move since the last poll
                                  st.sampled_from([20.0, 60.0])), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(observations, st.booleans())
def test_any_clock_history_leaves_ordered_segments(history, crash):
    """Whatever the clock does, a series' segments follow one another without overlap, and a crash cut keeps that."""
    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger(Path(folder) / "ledger.sqlite")
        ledger.begin_run(T0)
        at = T0
        for value, move, validity in history:
            at += move
            ledger.record([("s", value, at, validity)], heartbeat=at + 0.5)
        ledger.close()
        reopened = Ledger(Path(folder) / "ledger.sqlite")
        if crash:
            reopened.begin_run(at)
        segments = reopened.segments(["s"], 0, 2**40)["s"]
        reopened.close()
    for (s1, e1, _), (s2, e2, _) in zip(segments, segments[1:]):
        assert s1 <= e1 <= s2 <= e2, segments
    assert segments and segments[-1][1] >= segments[-1][0]
