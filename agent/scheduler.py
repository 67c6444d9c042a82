"""Runs every collector's targets on their own intervals.

One task per target, added and removed at run time (a config reload keeps
the tasks of unchanged targets, so their schedule and collector state go on):
ticks are spread over the interval (so 2,500 devices do
not fire at once), each poll runs under the target's timeout and a
per-collector concurrency bound, and a slow or dead target only ever delays
itself: targets whose last poll failed take their turns from a smaller pool
of their own, so a site full of dead devices (each holding a slot for its
whole timeout) cannot use up the slots the answering devices need. A failed poll turns that target's series unknown - never down, never
up - and state changes (unknown / recovered) are logged once, not per poll.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from dataclasses import dataclass
from typing import Callable, Sequence

from collectors.base import Collector, CollectorError, Observation, PollResult, Target

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """One poll, successful or not, as handed to the sink."""

    collector: str
    target: str
    at: float  # wall-clock time the poll started
    duration: float
    validity: float  # seconds the observations hold unless a newer poll says otherwise
    result: PollResult | None  # None when the poll failed
    error: str | None
    observations: tuple[Observation, ...]


FIRST_POLL_SPREAD = 5.0  # seconds over which the first polls after start are spread
FAILING_SHARE = 4  # targets that are failing get max_concurrency // FAILING_SHARE slots (at least 1)


def validity_for(target: Target) -> float:
    """How long one observation stands: two intervals, so one late tick is no gap."""
    return 2.0 * target.interval


def _offset(name: str, interval: float) -> float:
    """A stable per-target phase in [0, interval): spreads polls, same after a restart."""
    return (zlib.crc32(name.encode()) % 10_000) / 10_000 * interval


TargetKey = tuple[str, str]  # (collector kind, target name)
LAG_WINDOW = 60.0  # seconds over which the worst lag is remembered


@dataclass(slots=True)
class KindStats:
    """How well one collector kind keeps its schedule."""

    skipped_ticks: int = 0
    _worst: float = 0.0
    _previous_worst: float = 0.0
    _window_start: float = 0.0

    def late(self, seconds: float, now: float) -> None:
        if now - self._window_start >= LAG_WINDOW:
            self._previous_worst, self._worst, self._window_start = self._worst, 0.0, now
        self._worst = max(self._worst, seconds)

    @property
    def lag(self) -> float:
        """The worst delay of a poll's start behind its tick in the last one to two windows."""
        return max(self._worst, self._previous_worst)


class Scheduler:
    def __init__(
        self,
        collectors: Sequence[Collector],
        sink: Callable[[PollOutcome], None],
        max_concurrency: int = 64,
        clock: Callable[[], float] = time.time,
    ):
        self._sink = sink
        self._clock = clock
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._failing_limits: dict[str, asyncio.Semaphore] = {}
        self.set_concurrency(max_concurrency)
        self._failing: dict[TargetKey, str] = {}  # failing targets and their last error
        self._group: asyncio.TaskGroup | None = None
        self._targets: dict[TargetKey, tuple[Collector, Target]] = {}
        self._tasks: dict[TargetKey, asyncio.Task[None]] = {}
        self.stats: dict[str, KindStats] = {}
        for collector in collectors:
            for target in collector.targets():
                self.add(collector, target)

    def set_concurrency(self, max_concurrency: int) -> None:
        """Bound polls in flight per collector kind; polls already running finish under the old bound."""
        self.max_concurrency = max_concurrency
        self._limits.clear()
        self._failing_limits.clear()

    def _limit(self, kind: str, failing: bool) -> asyncio.Semaphore:
        limits = self._failing_limits if failing else self._limits
        if kind not in limits:
            limits[kind] = asyncio.Semaphore(max(1, self.max_concurrency // FAILING_SHARE) if failing else self.max_concurrency)
        return limits[kind]

    def running(self) -> dict[TargetKey, tuple[Collector, Target]]:
        """Every scheduled target, by (kind, name)."""
        return dict(self._targets)

    def add(self, collector: Collector, target: Target) -> None:
        """Poll ``target`` on its interval from now on (from run() if it has not started yet)."""
        key = (collector.kind, target.name)
        if key in self._targets:
            raise ValueError(f"{collector.kind} target {target.name} is already scheduled")
        self._targets[key] = (collector, target)
        if self._group is not None:
            self._start(key)

    def _start(self, key: TargetKey) -> None:
        assert self._group is not None
        collector, target = self._targets[key]
        self._tasks[key] = self._group.create_task(self._loop(collector, target), name=f"{key[0]}:{key[1]}")

    async def remove(self, key: TargetKey) -> None:
        """Stop polling a target; a poll in progress is cancelled and reports nothing."""
        self._targets.pop(key, None)
        self._failing.pop(key, None)
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()
            # Only this task's own cancellation is absorbed here; anything else propagates.
            await asyncio.wait([task])

    async def run(self) -> None:
        """Poll every target until cancelled; targets may be added and removed meanwhile."""
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                for key in self._targets:
                    self._start(key)
                await asyncio.get_running_loop().create_future()  # keeps the group open until cancelled
        finally:
            self._group = None
            self._tasks.clear()

    async def poll_once(self, collector: Collector, target: Target, due: float | None = None) -> PollOutcome:
        """Poll ``target`` now, hand the outcome to the sink, and return it.

        ``due`` is the loop time the poll was scheduled for: how late it starts,
        concurrency waits included, is what ``sla_scheduler_lag_seconds`` shows.
        """
        failing = (collector.kind, target.name) in self._failing
        async with self._limit(collector.kind, failing):
            if due is not None:
                now = asyncio.get_running_loop().time()
                self._stats(collector.kind).late(max(0.0, now - due), now)
            at = self._clock()
            started = time.monotonic()
            result: PollResult | None = None
            error: str | None = None
            try:
                async with asyncio.timeout(target.poll_timeout):
                    result = await collector.poll(target)
            except CollectorError as exc:
                error = str(exc) or type(exc).__name__
            except TimeoutError:
                error = f"no complete answer within {target.poll_timeout:g}s"
            except Exception as exc:  # a bug must not stop the other targets
                error = f"internal error: {type(exc).__name__}"
                # The traceback once when the fault starts, not on every poll while it lasts.
                if self._failing.get((collector.kind, target.name)) != error:
                    log.exception("%s target %s: unexpected error in poll", collector.kind, target.name)
            duration = time.monotonic() - started
        observations = result.observations if result is not None else collector.unknown(target)
        outcome = PollOutcome(
            collector.kind, target.name, at, duration, validity_for(target), result, error, observations
        )
        self._log_change(outcome)
        self._sink(outcome)
        return outcome

    def _stats(self, kind: str) -> KindStats:
        stats = self.stats.get(kind)
        if stats is None:
            stats = self.stats[kind] = KindStats()
        return stats

    def _log_change(self, outcome: PollOutcome) -> None:
        key = (outcome.collector, outcome.target)
        if outcome.error is not None:
            if key not in self._failing:
                log.warning("%s target %s is unknown: %s", outcome.collector, outcome.target, outcome.error)
            self._failing[key] = outcome.error
        elif key in self._failing:
            del self._failing[key]
            log.info("%s target %s recovered", outcome.collector, outcome.target)

    async def _loop(self, collector: Collector, target: Target) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        phase = _offset(f"{collector.kind}:{target.name}", target.interval)
        # The first poll comes soon after start (spread over a few seconds, so
        # figures appear at once even for a 5-minute interval); later polls
        # keep the per-target phase that spreads load over the interval.
        await asyncio.sleep(phase % min(target.interval, FIRST_POLL_SPREAD))
        first = loop.time()
        await self.poll_once(collector, target)
        next_tick = start + phase
        while next_tick - first < target.interval / 2:  # no back-to-back second poll
            next_tick += target.interval
        while True:
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
            await self.poll_once(collector, target, due=next_tick)
            next_tick += target.interval
            if next_tick < loop.time():
                # Overran (a slow poll or a stalled loop): skip missed ticks rather than burst.
                missed = int((loop.time() - next_tick) // target.interval) + 1
                next_tick += missed * target.interval
                self._stats(collector.kind).skipped_ticks += missed
