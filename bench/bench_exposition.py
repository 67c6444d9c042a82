"""An agent state of a given size, for timing /metrics (bench/compare.py's metrics_60k_ms).

    python bench/bench_exposition.py [--targets 2500] [--links 5000]

Targets are SNMP devices; links are spread over them, each with the series
of the default snmp.link_metrics (traffic, errors): 9 per link, plus 6 per
target, and the 4 of sla_link_state_seconds_total (one link in 50 down, the
rest up). Prints the render time of AgentState.render (what /metrics serves)
after every target was polled once more: as the agent serves it, the
formatter thread having formatted each target's lines after its poll
(metrics_60k_ms), and in the worst case, every target's lines formatted by
the render itself. Then the formatter's work per poll of the fleet, the render
when nothing was polled since, the link states' family alone, and
prometheus_client's generate_latest over the same state, for scale.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client import generate_latest  # noqa: E402

from agent import textformat  # noqa: E402
from agent.exposition import make_registry  # noqa: E402
from agent.formatter import TargetFormatter  # noqa: E402
from collectors.snmp.link_states import LinkId, LinkStates  # noqa: E402
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
    state.live = (LinkStates([LinkId(f"rt-{t:04d}-gi{k}", "egress", f"rt-{t:04d}")
                                    for t, count in enumerate(_per_target(targets, links)) for k in range(count)],
                                   clock=clock),)
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


def render_ms(targets: int, links: int, repeat: int = 5, formatter: bool = True) -> tuple[float, int]:
    """Median ms of a /metrics render after every target was polled once more.

    With ``formatter`` (as the agent runs, agent/formatter.py) the formatter
    thread has formatted the targets' lines after their polls, as it does
    while polls spread over the interval, and the render joins them. Without,
    the render formats every target's lines itself: the worst case, a scrape
    that lands right after every target's poll at once.
    """
    clock = Clock()
    state = new_state(targets, links, clock)
    if formatter:
        state.formatter = TargetFormatter()
        state.formatter.start()
    settle_gc()  # the collector as the agent runs it (agent/memory.py), after its state is built
    times, body = [], b""
    try:
        for poll in range(repeat):
            for outcome in outcomes(targets, links, poll):  # not timed: what the poll path does
                state.apply(outcome)
            if state.formatter is not None and not state.formatter.drain():
                raise SystemExit("the formatter did not finish within a minute")
            clock.now = T0 + 30 * poll + 1
            started = time.perf_counter()
            body = state.render()
            times.append((time.perf_counter() - started) * 1000)
    finally:
        if state.formatter is not None:
            state.formatter.stop()
    return statistics.median(times), sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))


def format_ms(targets: int, links: int, repeat: int = 5) -> float:
    """Median ms to format every target's lines once: the formatter thread's work per poll of the fleet."""
    state = render_state(targets, links)
    statuses = state.target_list()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for status in statuses:
            textformat.target_fragments(status)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=2500)
    parser.add_argument("--links", type=int, default=5000)
    args = parser.parse_args()
    ms, series = render_ms(args.targets, args.links)
    print(f"AgentState.render as the agent serves it (lines formatted after each poll): {series} series, "
          f"median {ms:.1f} ms")
    worst, _ = render_ms(args.targets, args.links, formatter=False)
    print(f"AgentState.render formatting every target's lines itself (all polled since the last scrape): "
          f"median {worst:.1f} ms")
    print(f"formatting every target's lines once (the formatter thread's work per fleet poll): "
          f"median {format_ms(args.targets, args.links):.1f} ms")
    state = render_state(args.targets, args.links)
    state.render()
    link_states = state.live[0]
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
