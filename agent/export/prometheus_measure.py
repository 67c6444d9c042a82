"""Exact counter arithmetic over raw samples from a Prometheus-API store (pure: no I/O, no clocks).

A *sample* is ``(t, values)``: the values of a group of counters scraped
together at ``t`` (the four states of one link's ``sla_link_state_seconds_total``,
or one gateway's SMS counters), keyed by state or metric. A *step* is what the
counters grew by between two consecutive samples, ``(start, end]``.

Why not PromQL ``increase()``: it extrapolates to the window's edges and
guesses at resets. Here every positive delta between consecutive samples
counts, a counter that goes back is a reset (the new value counts from 0), and
only a step that straddles a window edge is split, linearly. For the link-state
counters that split is exact while the state did not change inside the step
(one state grows at 1 s/s); when it did, the error is at most that step's
length (one scrape interval, or the gap of missed scrapes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import median
from typing import Iterable, Mapping, Sequence

from agent import sli
from agent.sli import Segment, Totals

Sample = tuple[float, Mapping[str, float]]

UP, DOWN, UNKNOWN, MAINTENANCE = "up", "down", "unknown", "maintenance"
STATES = (UP, DOWN, UNKNOWN, MAINTENANCE)
# Scrape timestamps are taken when a scrape starts, the value when the agent renders it, so
# one run's total grows by the time between samples give or take this much.
JITTER = 1.0


@dataclass(frozen=True, slots=True)
class Step:
    """The counters' growth over ``(start, end]``; ``start == end`` for a value first seen at ``end``."""

    start: float
    end: float
    delta: Mapping[str, float]


def joint_samples(series: Iterable[tuple[str, Sequence[tuple[float, float]]]]) -> list[Sample]:
    """Series scraped together (``key``, ``[(t, v)]``) as one list of samples, one per timestamp.

    A timestamp where only some of the group's keys have a value (a series that appeared
    later) keeps the keys it has: :func:`counter_steps` compares each key with its own last value.
    """
    by_time: dict[float, dict[str, float]] = {}
    for key, points in series:
        for t, v in points:
            by_time.setdefault(t, {})[key] = v
    return sorted(by_time.items())


def _went_back(previous: Mapping[str, float], current: Mapping[str, float]) -> bool:
    return any(v < previous[k] for k, v in current.items() if k in previous)


def _growth(previous: Mapping[str, float], current: Mapping[str, float], reset: bool) -> dict[str, float]:
    # After a reset every counter of the group starts again from 0 (one process restarted them all).
    return {k: v if reset or k not in previous else v - previous[k] for k, v in current.items()}


def counter_steps(samples: Sequence[Sample], *, from_zero: bool) -> list[Step]:
    """Steps of a group of plain counters (SMS): any counter going back resets the whole group.

    ``from_zero``: the first sample's values count, as a step ending at it (a series that
    began inside the window); otherwise the first sample is only the baseline.
    """
    steps: list[Step] = []
    last: dict[str, float] = {}
    last_t: float | None = None
    for t, values in samples:
        if last_t is None:
            if from_zero:
                steps.append(Step(t, t, dict(values)))
        else:
            steps.append(Step(last_t, t, _growth(last, values, _went_back(last, values))))
        last.update(values)
        last_t = t
    return steps


def _restarted(previous: Mapping[str, float], current: Mapping[str, float], elapsed: float) -> bool:
    """Whether the link's clock started again between two samples ``elapsed`` seconds apart.

    Within one run the four states together grow by exactly the time between samples. A
    counter going back is a restart; so is a total that grew by clearly less than that time
    when the current total is no more than that time (a run begun after the previous sample,
    seen only after missed scrapes, whose values happen to exceed the old ones).
    """
    if _went_back(previous, current):
        return True
    grown = sum(current.values()) - sum(previous.values())
    return grown < elapsed - JITTER and sum(current.values()) <= elapsed + JITTER


def link_steps(samples: Sequence[Sample]) -> list[Step]:
    """Steps of one link's state counters (one series of ``sla_link_state_seconds_total`` per state).

    The four states partition the time since the agent began measuring the link, so a
    sample's total says when that began: the first sample, and the first after a restart,
    are a step from that instant (values from 0), and time between a restart's last sample
    and the new run's start is in no step (unknown, as no agent measured it).
    """
    steps: list[Step] = []
    previous: Mapping[str, float] | None = None
    previous_t = 0.0
    for t, values in samples:
        if previous is not None and not set(previous) <= set(values):
            continue  # a scrape that lost one state's series: wait for a complete sample
        if previous is None or _restarted(previous, values, t - previous_t):
            began = t - max(0.0, sum(values.values()))
            if previous is not None:
                began = max(began, previous_t)  # the new run began after the old one's last sample
            steps.append(Step(began, t, dict(values)))
        else:
            steps.append(Step(previous_t, t, _growth(previous, values, False)))
        previous, previous_t = values, t
    return steps


def clip(steps: Iterable[Step], start: float, end: float) -> list[Step]:
    """Steps cut to ``[start, end]``, a straddling step's growth split in proportion to its time.

    A step of no length (a value first seen at ``t``) counts when ``start < t <= end``.
    """
    out: list[Step] = []
    for step in steps:
        if step.end <= step.start:
            if start < step.end <= end:
                out.append(step)
            continue
        a, b = max(step.start, start), min(step.end, end)
        if b <= a:
            continue
        share = (b - a) / (step.end - step.start)
        out.append(step if share == 1 else Step(a, b, {k: v * share for k, v in step.delta.items()}))
    return out


def total(steps: Iterable[Step]) -> dict[str, float]:
    """The growth of each counter over ``steps``."""
    out: dict[str, float] = {}
    for step in steps:
        for k, v in step.delta.items():
            out[k] = out.get(k, 0.0) + v
    return out


def link_totals(steps: Sequence[Step], start: float, end: float, maintenance: float = 0.0) -> Totals:
    """One link's up (good), down (bad), maintenance and unknown seconds in ``[start, end)``.

    ``steps`` are already clipped to the window; several runs or shards of the link may
    contribute. Unknown is the rest of the elapsed time: the agent's own unknown state
    and every moment no agent measured the link, as in the ledger. Should overlapping
    series claim more than the window (one link scraped twice), the excess is cut.

    ``maintenance`` is how long the config's windows cover the link in ``[start, end)``.
    The ledger-based figures exclude all of it, measured or not; the counters hold only
    the part an agent measured. So the link's maintenance is the larger of the two, and
    a window no agent ran through is maintenance here too, not unknown.
    """
    grown = total(steps)
    up, down, counted = (max(0.0, grown.get(s, 0.0)) for s in (UP, DOWN, MAINTENANCE))
    elapsed = max(0.0, end - start)
    claimed = up + down + counted
    if claimed > elapsed > 0:
        up, down, counted = (x * elapsed / claimed for x in (up, down, counted))
    excluded = min(max(counted, maintenance), max(0.0, elapsed - up - down))
    return Totals(up, down, max(0.0, elapsed - up - down - excluded), excluded)


def outages(steps: Sequence[Step]) -> list[tuple[float, float, float]]:
    """``(start, end, down seconds)`` of each run of consecutive steps in which "down" grew.

    Approximate in time, exact in seconds: a run of several steps is taken to begin where
    the first step's down time ends it and to end where the last step's begins it; a run
    of one step is placed at its start. Maintenance is already outside "down".
    """
    found: list[tuple[float, float, float]] = []
    run: list[Step] = []

    def close() -> None:
        if not run:
            return
        seconds = sum(s.delta.get(DOWN, 0.0) for s in run)
        if len(run) == 1:
            first = run[0].start
            found.append((first, first + seconds, seconds))
        else:
            found.append((run[0].end - run[0].delta.get(DOWN, 0.0),
                          run[-1].start + run[-1].delta.get(DOWN, 0.0), seconds))
        run.clear()

    for step in sorted(steps, key=lambda s: (s.start, s.end)):
        if step.delta.get(DOWN, 0.0) <= 0:
            close()
            continue
        if run and abs(step.start - run[-1].end) > 1e-6:
            close()
        run.append(step)
    close()
    return found


def state_spans(steps: Sequence[Step], start: float, end: float) -> list[tuple[float, float, str]]:
    """``[start, end)`` as (start, end, state) pieces for the timeline charts.

    Inside a step the states are laid end to end in proportion to their growth (their
    order within one scrape interval is not known); time in no step is unknown.
    """
    spans: list[tuple[float, float, str]] = []
    covered: list[sli.Span] = []
    for step in steps:
        length = step.end - step.start
        if length <= 0:
            continue
        grown = {s: max(0.0, step.delta.get(s, 0.0)) for s in STATES}
        scale = length / max(length, sum(grown.values()))
        cursor = step.start
        for state in STATES:
            width = grown[state] * scale
            if width > 0:
                spans.append((cursor, cursor + width, state))
                cursor += width
        if cursor < step.end - 1e-9:
            spans.append((cursor, step.end, UNKNOWN))
        covered.append((step.start, step.end))
    cursor = start
    for a, b in sli.merge(covered):
        if a > cursor:
            spans.append((cursor, a, UNKNOWN))
        cursor = max(cursor, b)
    if cursor < end:
        spans.append((cursor, end, UNKNOWN))
    return sorted(spans)


def covered(steps: Sequence[Step]) -> list[sli.Span]:
    """The time the steps span, merged (a step of no length covers nothing)."""
    return sli.merge((s.start, s.end) for s in steps)


def gauge_segments(points: Sequence[tuple[float, float]], step: float, end: float) -> list[Segment]:
    """A range query's points as segments: each value holds for one step (sampled, not exact)."""
    out: list[Segment] = []
    for t, v in sorted(points):
        if not math.isfinite(v):
            continue
        e = min(t + step, end)
        if e <= t:
            continue
        if out and out[-1][2] == v and abs(out[-1][1] - t) < 1e-6:
            out[-1] = (out[-1][0], e, v)
        else:
            out.append((t, e, v))
    return out


def scrape_interval(timestamps: Iterable[Sequence[float]], default: float) -> float:
    """The median time between consecutive samples over several series (``default`` if too few)."""
    gaps = [b - a for ts in timestamps for a, b in zip(ts, ts[1:]) if b > a]
    return round(median(gaps), 3) if gaps else default


# --- the SMS latency histogram (sla_sms_send_latency_seconds, cumulative ``le`` buckets) ---------------------


def buckets(cumulative: Mapping[float, float]) -> list[tuple[float, float, float]]:
    """Growth of the cumulative ``le`` counters as ``(lower, upper, count)`` per bucket, +Inf last."""
    out: list[tuple[float, float, float]] = []
    lower, below = 0.0, 0.0
    for le in sorted(cumulative):
        count = max(0.0, cumulative[le] - below)
        out.append((lower, le, count))
        lower, below = le, max(below, cumulative[le])
    return out


def share_within(cumulative: Mapping[float, float], bound: float) -> float | None:
    """Share of the histogram's observations at or below the largest bucket edge not above ``bound``.

    Exact when ``bound`` is an edge (10 s is one); otherwise at most one bucket short.
    """
    count = cumulative.get(math.inf, 0.0)
    if count <= 0:
        return None
    edges = [le for le in cumulative if le <= bound * (1 + 1e-12)]
    return (cumulative[max(edges)] / count) if edges else 0.0


def percentile_edge(cumulative: Mapping[float, float], q: float) -> float | None:
    """The upper edge of the bucket holding the nearest-rank ``q`` percentile (at least the true value).

    The +Inf bucket reads as the largest finite edge: the true value is beyond it.
    """
    count = cumulative.get(math.inf, 0.0)
    if count <= 0:
        return None
    rank = max(1.0, math.ceil(q * count - 1e-9))
    finite = sorted(le for le in cumulative if math.isfinite(le))
    for le in finite:
        if cumulative[le] >= rank - 1e-9:
            return le
    return finite[-1] if finite else None
