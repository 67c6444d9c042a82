"""An agent state of a given size, for timing /metrics (bench/compare.py's metrics_60k_ms).

    python bench/bench_exposition.py [--targets 2500] [--links 5000]

Targets are SNMP devices; links are spread over them, each with the series
of the default snmp.link_metrics (traffic, errors): 9 per link, plus 6 per
target, and the 4 of sla_link_state_seconds_total (one link in 50 down, the
rest up). Prints the render time of AgentState.render (what /metrics serves)
when every target was polled since the last scrape (the worst case: every
target's lines are formatted in the render), when none was, of the link
states' family alone, and of prometheus_client's generate_latest over the
same state, for scale.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client import generate_latest  # noqa: E402

from agent.exposition import make_registry  # noqa: E402
from agent.link_states import LinkId, LinkStates  # noqa: E402
from agent.memory import settle_gc  # noqa: E402
from agent.scheduler import PollOutcome  # noqa: E402
from agent.state import AgentState  # noqa: E402
from collectors.base import Observation, PollResult, Sample  # noqa: E402

_LINK_SERIES = ("sla_link_up", "sla_link_admin_up", "sla_link_capacity_bytes_per_second",
                "sla_link_receive_bytes_total", "sla_link_transmit_bytes_total", "sla_link_receive_errors_total",
                "sla_link_transmit_errors_total", "sla_link_receive_discards_total", "sla_link_transmit_discards_total")


T0 = 1.79e9  # the first poll's wall-clock time


class Clock:
    """The wall clock the link states read: a second after the latest poll, as a scrape would."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _per_target(targets: int, links: int) -> list[int]:
    return [links // targets + (1 if i < links % targets else 0) for i in range(targets)]


def new_state(targets: int, links: int, clock: Clock) -> AgentState:
    state = AgentState()
    state.link_states = LinkStates([LinkId(f"rt-{t:04d}-gi{k}", "egress", f"rt-{t:04d}")
                                    for t, count in enumerate(_per_target(targets, links)) for k in range(count)],
                                   clock=clock)
    return state


def render_state(targets: int, links: int) -> AgentState:
    """A state as the agent holds it after one poll of every target."""
    clock = Clock()
    state = new_state(targets, links, clock)
    for outcome in outcomes(targets, links):
        state.apply(outcome)
    clock.now = T0 + 1
    return state


def outcomes(targets: int, links: int, poll: int = 0) -> list[PollOutcome]:
    """Poll number ``poll`` of every target: state and capacity as before, counters moved on."""
    out = []
    for t, count in enumerate(_per_target(targets, links)):
        device = f"rt-{t:04d}"
        samples = [Sample("sla_snmp_device_uptime_seconds", (("target", device),), 86400.0 + 30 * poll + t)]
        observations = []
        for k in range(count):
            link = f"{device}-gi{k}"
            labels = (("link", link), ("group", "egress"), ("device", device))
            moved = 10**12 + 7_919 * t + 104_729 * k + 37_500_000 * poll  # distinct per link and poll
            up = 0.0 if (t * 24 + k) % 50 == 0 else 1.0
            # Counters as the collector hands them over: ints, as read from the device.
            values = (up, 1.0, 1.25e9, moved, moved // 3, k % 3, 0, poll % 5, 0)
            samples += [Sample(name, labels, value) for name, value in zip(_LINK_SERIES, values)]
            observations += [Observation(f"link:{link}:up", up),
                             Observation(f"link:{link}:available_bytes_per_second", up * 1.25e9)]
        out.append(PollOutcome("snmp", device, T0 + 30 * poll, 0.002, 60.0, PollResult(samples=tuple(samples)),
                               None, tuple(observations)))
    return out


def render_ms(targets: int, links: int, repeat: int = 5) -> tuple[float, int]:
    """Median ms of a /metrics render in which every target was polled since the last (its lines formatted too)."""
    clock = Clock()
    state = new_state(targets, links, clock)
    settle_gc()  # the collector as the agent runs it (agent/memory.py), after its state is built
    times, body = [], b""
    for poll in range(repeat):
        for outcome in outcomes(targets, links, poll):  # not timed: what the poll path does
            state.apply(outcome)
        clock.now = T0 + 30 * poll + 1
        started = time.perf_counter()
        body = state.render()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=2500)
    parser.add_argument("--links", type=int, default=5000)
    args = parser.parse_args()
    ms, series = render_ms(args.targets, args.links)
    print(f"AgentState.render, every target polled since the last scrape: {series} series, median {ms:.1f} ms")
    state = render_state(args.targets, args.links)
    state.render()
    link_states = state.link_states
    assert link_states is not None
    for name, render in (("AgentState.render, nothing polled since", state.render),
                         ("sla_link_state_seconds_total alone", link_states.chunks),
                         ("prometheus_client generate_latest", lambda: generate_latest(make_registry(state)))):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            render()
            times.append((time.perf_counter() - started) * 1000)
        print(f"{name}: median {statistics.median(times):.1f} ms")


if __name__ == "__main__":
    main()
