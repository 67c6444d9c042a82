"""Runs every collector's targets on their own intervals.

One task per target: ticks are spread over the interval (so 2,500 devices do
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


class Scheduler:
    def __init__(
        self,
        collectors: Sequence[Collector],
        sink: Callable[[PollOutcome], None],
        max_concurrency: int = 64,
        clock: Callable[[], float] = time.time,
    ):
        self._collectors = collectors
        self._sink = sink
        self._clock = clock
        self._limits = {c.kind: asyncio.Semaphore(max_concurrency) for c in collectors}
        failing_slots = max(1, max_concurrency // FAILING_SHARE)
        self._failing_limits = {c.kind: asyncio.Semaphore(failing_slots) for c in collectors}
        self._failing: dict[tuple[str, str], str] = {}  # failing targets and their last error

    async def run(self) -> None:
        """Poll forever (until cancelled)."""
        async with asyncio.TaskGroup() as group:
            for collector in self._collectors:
                for target in collector.targets():
                    group.create_task(self._loop(collector, target), name=f"{collector.kind}:{target.name}")

    async def poll_once(self, collector: Collector, target: Target) -> PollOutcome:
        """Poll ``target`` now, hand the outcome to the sink, and return it."""
        failing = (collector.kind, target.name) in self._failing
        limits = self._failing_limits if failing else self._limits
        async with limits[collector.kind]:
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
            await self.poll_once(collector, target)
            next_tick += target.interval
            if next_tick < loop.time():
                # Overran (a slow poll or a stalled loop): skip missed ticks rather than burst.
                missed = int((loop.time() - next_tick) // target.interval) + 1
                next_tick += missed * target.interval
