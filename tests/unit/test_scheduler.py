"""Scheduling: prompt first polls, spread phases, bounded polls, state-change logging."""

import asyncio
import logging

from agent.scheduler import Scheduler, _offset
from collectors.base import CollectorError, PollResult
from tests.fakes import FakeTarget, run_for


class Recorder:
    """A collector whose polls are timed by the loop clock; some fail, some hang."""

    kind = "rec"

    def __init__(self, targets, hang=(), fail=()):
        self._targets = targets
        self.hang, self.fail = set(hang), set(fail)
        self.polls: list[tuple[str, float]] = []

    def targets(self):
        return self._targets

    async def poll(self, target):
        self.polls.append((target.name, asyncio.get_running_loop().time()))
        if target.name in self.hang:
            await asyncio.sleep(3600)
        if target.name in self.fail:
            raise CollectorError("no answer")
        return PollResult()

    def unknown(self, target):
        return ()

    async def close(self):
        pass


def test_phase_is_stable_and_within_interval():
    assert _offset("snmp:r1", 30) == _offset("snmp:r1", 30)
    phases = {_offset(f"snmp:r{i}", 30) for i in range(200)}
    assert all(0 <= p < 30 for p in phases) and len(phases) > 150


async def test_first_polls_come_promptly_even_with_long_intervals():
    targets = [FakeTarget(f"t{i}", interval=300, poll_timeout=1) for i in range(20)]
    collector = Recorder(targets)
    outcomes = []
    scheduler = Scheduler([collector], outcomes.append)
    start = asyncio.get_running_loop().time()
    await run_for(scheduler, 5.5)
    assert {name for name, _ in collector.polls} == {t.name for t in targets}
    assert all(at - start <= 5.1 for _, at in collector.polls)
    assert len(collector.polls) == 20  # and no immediate second poll


async def test_hanging_target_is_bounded_and_does_not_delay_others(caplog):
    targets = [FakeTarget("slow", interval=0.5, poll_timeout=0.3), FakeTarget("ok", interval=0.5, poll_timeout=0.3),
               FakeTarget("bad", interval=0.5, poll_timeout=0.3)]
    collector = Recorder(targets, hang={"slow"}, fail={"bad"})
    outcomes = []
    scheduler = Scheduler([collector], outcomes.append)
    with caplog.at_level(logging.INFO, logger="agent.scheduler"):
        await run_for(scheduler, 3)
    by_target = {}
    for outcome in outcomes:
        by_target.setdefault(outcome.target, []).append(outcome)
    assert len(by_target["ok"]) >= 4 and all(o.error is None for o in by_target["ok"])
    assert all(o.error == "no complete answer within 0.3s" for o in by_target["slow"])
    assert all(o.duration < 0.5 for o in by_target["slow"])
    assert all(o.error == "no answer" and o.result is None for o in by_target["bad"])
    # Logged once when a target goes unknown, not on every failed poll.
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sorted(warnings) == ["rec target bad is unknown: no answer", "rec target slow is unknown: no complete answer within 0.3s"]


async def test_dead_targets_outnumbering_the_slots_do_not_starve_answering_ones():
    # 12 dead targets (each holds a slot for its whole timeout) against 4 slots: once they are
    # known to fail they share one slot of their own, and the answering target keeps its interval.
    dead = [FakeTarget(f"dead{i}", interval=0.4, poll_timeout=0.3) for i in range(12)]
    alive = FakeTarget("alive", interval=0.4, poll_timeout=0.3)
    collector = Recorder([*dead, alive], hang={t.name for t in dead})
    outcomes = []
    scheduler = Scheduler([collector], outcomes.append, max_concurrency=4)
    await run_for(scheduler, 4)
    alive_polls = [at for name, at in collector.polls if name == "alive"]
    gaps = [b - a for a, b in zip(alive_polls[2:], alive_polls[3:])]  # after every dead target failed once
    assert len(alive_polls) >= 8
    assert max(gaps) < 0.4 * 1.5, gaps
    # The dead targets are still polled (bounded: one slot, 0.3 s each), so a recovery is seen.
    assert sum(1 for name, _ in collector.polls if name.startswith("dead")) >= 12


async def test_a_recovered_target_returns_to_the_main_pool():
    target = FakeTarget("flappy", interval=0.2, poll_timeout=0.1)
    collector = Recorder([target], fail={"flappy"})
    scheduler = Scheduler([collector], lambda outcome: None, max_concurrency=4)
    assert (await scheduler.poll_once(collector, target)).error == "no answer"
    collector.fail.clear()
    assert (await scheduler.poll_once(collector, target)).error is None
    assert ("rec", "flappy") not in scheduler._failing


async def test_targets_are_added_and_removed_while_running():
    keep, gone = FakeTarget("keep", interval=0.2, poll_timeout=0.1), FakeTarget("gone", interval=0.2, poll_timeout=0.1)
    collector = Recorder([keep, gone], hang={"gone"})
    scheduler = Scheduler([collector], lambda outcome: None)
    task = asyncio.create_task(scheduler.run())
    try:
        await asyncio.sleep(1.0)  # first polls come within min(interval, 5 s)
        await scheduler.remove(("rec", "gone"))  # cancelled mid-poll: it hangs
        added = FakeTarget("added", interval=0.2, poll_timeout=0.1)
        scheduler.add(collector, added)
        assert set(scheduler.running()) == {("rec", "keep"), ("rec", "added")}
        gone_polls = sum(1 for name, _ in collector.polls if name == "gone")
        await asyncio.sleep(1.0)
        names = [name for name, _ in collector.polls]
        assert names.count("gone") == gone_polls and "added" in names
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
