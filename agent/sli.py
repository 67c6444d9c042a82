"""Pure SLI arithmetic over time segments: no I/O, no clocks.

A *segment* ``(start, end, value)`` says a series had ``value`` from ``start``
to ``end`` (Unix seconds); ``value`` None means the agent could not tell
(unknown). Time no segment covers is unknown too (the agent was not running).
Maintenance time is removed before anything is counted, so it is neither good,
bad nor unknown.
"""

from __future__ import annotations

import math
from fractions import Fraction
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

Span = tuple[float, float]
Segment = tuple[float, float, float | None]


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted union of spans; empty and inverted spans are dropped."""
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def length(spans: Iterable[Span]) -> float:
    return sum(end - start for start, end in spans)


def subtract(start: float, end: float, masks: Sequence[Span]) -> list[Span]:
    """``[start, end)`` minus the merged, sorted ``masks``."""
    pieces: list[Span] = []
    cursor = start
    for mask_start, mask_end in masks:
        if mask_end <= cursor:
            continue
        if mask_start >= end:
            break
        if mask_start > cursor:
            pieces.append((cursor, mask_start))
        cursor = max(cursor, mask_end)
        if cursor >= end:
            break
    if cursor < end:
        pieces.append((cursor, end))
    return pieces


def clip(segments: Iterable[Segment], start: float, end: float) -> list[Segment]:
    """Segments cut to ``[start, end)``; ones outside it are dropped."""
    return [(max(s, start), min(e, end), v) for s, e, v in segments if e > start and s < end]


@dataclass(frozen=True, slots=True)
class Totals:
    """Seconds of a period by class.

    good: up / meeting the target; bad: down / missing it; unknown: no data;
    maintenance: excluded. The four add up to the period's elapsed length.
    """

    good: float = 0.0
    bad: float = 0.0
    unknown: float = 0.0
    maintenance: float = 0.0

    @property
    def known(self) -> float:
        return self.good + self.bad

    @property
    def coverage(self) -> float:
        """Share of the non-maintenance time that has data (0 when there is none)."""
        expected = self.known + self.unknown
        return self.known / expected if expected > 0 else 0.0

    def __add__(self, other: "Totals") -> "Totals":
        return Totals(
            self.good + other.good,
            self.bad + other.bad,
            self.unknown + other.unknown,
            self.maintenance + other.maintenance,
        )


def classify(
    segments: Sequence[Segment],
    start: float,
    end: float,
    maintenance: Sequence[Span],
    is_good: Callable[[float], bool],
) -> Totals:
    """Split ``[start, end)`` into good/bad/unknown/maintenance seconds.

    ``segments`` must not overlap; ``maintenance`` must be merged and sorted.
    """
    if end <= start:
        return Totals()
    in_window = merge((max(s, start), min(e, end)) for s, e in maintenance)
    maint = length(in_window)
    good = bad = 0.0
    for seg_start, seg_end, value in clip(segments, start, end):
        if value is None:
            continue
        seconds = length(subtract(seg_start, seg_end, in_window))
        if is_good(value):
            good += seconds
        else:
            bad += seconds
    unknown = max(0.0, (end - start) - maint - good - bad)
    return Totals(good, bad, unknown, maint)


# A link:<name>:up value at or above this is up (the collectors write 1 or 0).
UP_THRESHOLD = 0.5


def is_up(value: float) -> bool:
    return value >= UP_THRESHOLD


def availability(totals: Totals) -> float | None:
    """Up time / (up + down time); None when nothing is known."""
    return totals.good / totals.known if totals.known > 0 else None


# Changes of a summed series at one instant: exact amount (integer, or a fraction
# for values that are not whole) and count of series that start (+1) or stop (-1) being known.
Events = dict[float, tuple[int | Fraction, int]]


def sum_series(series: Sequence[Sequence[Segment]], start: float, end: float) -> list[Segment]:
    """The instant-by-instant sum of several series over ``[start, end)``.

    The sum is unknown wherever any series is unknown or uncovered: a partial
    sum would understate (e.g. bandwidth) without saying so.

    A sweep over the segments' ends, O(n log n): the bandwidth KPI sums every
    link of a group, 30,000 of them in the benchmark's full fleet, where a
    per-instant pass over every series took seconds. The running sum is exact
    (integers, or fractions for values that are not whole), so adding and
    taking away values leaves no rounding behind.
    """
    if not series or end <= start:
        return []
    events: Events = {}
    for segments in series:
        for s, e, v in clip(segments, start, end):
            if v is None or e <= s:
                continue
            amount: int | Fraction = int(v) if float(v).is_integer() else Fraction(v)
            for at, change, count in ((s, amount, 1), (e, -amount, -1)):
                total, known = events.get(at, (0, 0))
                events[at] = (total + change, known + count)
    return sweep(events, len(series), start, end)


def sum_named(found: Mapping[str, Sequence[Segment]], names: Sequence[str], start: float, end: float) -> list[Segment]:
    """``sum_series`` of the series ``names`` found in ``found`` (a series not found is unknown throughout)."""
    return sum_series([found.get(name, []) for name in names], start, end)


def sweep(events: Events, wanted: int, start: float, end: float) -> list[Segment]:
    """The segments of a sum from its changes (``events``): known while all ``wanted`` series are."""
    if end <= start:
        return []
    total: int | Fraction = 0
    known = 0
    result: list[Segment] = []
    times = sorted({start, end, *(at for at in events if start < at < end)})
    for a, b in zip(times, times[1:]):
        change, count = events.get(a, (0, 0))
        total += change
        known += count
        value = float(total) if known == wanted else None
        if result and result[-1][1] == a and result[-1][2] == value:
            result[-1] = (result[-1][0], b, value)
        else:
            result.append((a, b, value))
    return result


@dataclass(frozen=True, slots=True)
class GaugeSummary:
    """A gauge over a period: time-weighted mean, minimum, and time in compliance."""

    totals: Totals
    mean: float | None
    minimum: float | None

    @property
    def compliance(self) -> float | None:
        """Share of known time at which the target was met."""
        return self.totals.good / self.totals.known if self.totals.known > 0 else None


def summarise_gauge(
    segments: Sequence[Segment],
    start: float,
    end: float,
    maintenance: Sequence[Span],
    meets_target: Callable[[float], bool],
) -> GaugeSummary:
    """Mean and minimum over known, non-maintenance time, plus the good/bad split."""
    totals = classify(segments, start, end, maintenance, meets_target)
    in_window = merge((max(s, start), min(e, end)) for s, e in maintenance)
    weighted = 0.0
    seconds = 0.0
    minimum = math.inf
    for seg_start, seg_end, value in clip(segments, start, end):
        if value is None:
            continue
        part = length(subtract(seg_start, seg_end, in_window))
        if part <= 0:
            continue
        weighted += value * part
        seconds += part
        minimum = min(minimum, value)
    if seconds == 0:
        return GaugeSummary(totals, None, None)
    return GaugeSummary(totals, weighted / seconds, minimum)
