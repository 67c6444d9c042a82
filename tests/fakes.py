"""Test doubles for what the scheduler drives: a scriptable collector and a clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from collectors.snmp.series import link_available as link_available_series
from collectors.snmp.series import link_up as link_up_series
from collectors.base import CollectorError, Observation, PollResult


class FakeClock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class FakeTarget:
    name: str
    interval: float = 30.0
    poll_timeout: float = 5.0


@dataclass
class FakeLinkCollector:
    """Reports links as up (1), down (0) or fails the poll, as the test sets them."""

    links: dict[str, float]  # link -> capacity in bytes/s
    kind: str = "fake"
    states: dict[str, bool] = field(default_factory=dict)
    failing: bool = False
    target: FakeTarget = field(default_factory=lambda: FakeTarget("router"))

    def targets(self):
        return [self.target]

    async def poll(self, target):
        if self.failing:
            raise CollectorError("request timed out")
        observations = []
        for link, capacity in self.links.items():
            up = self.states.get(link, True)
            observations.append(Observation(link_up_series(link), 1.0 if up else 0.0))
            observations.append(Observation(link_available_series(link), capacity if up else 0.0))
        return PollResult(observations=tuple(observations))

    def unknown(self, target):
        return tuple(
            Observation(name(link), None) for link in self.links for name in (link_up_series, link_available_series)
        )

    async def close(self):
        pass


async def run_for(scheduler, seconds: float) -> None:
    """Let a Scheduler poll on its own for ``seconds`` of loop time, then stop it."""
    task = asyncio.create_task(scheduler.run())
    await asyncio.sleep(seconds)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
