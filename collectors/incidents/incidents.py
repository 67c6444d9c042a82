"""Incidents from the ledger's state segments and from Alertmanager: what they are, and how they are counted.

An incident of a state series is a maximal run of "down" (series.is_down) that
no "good" observation interrupts: down, then unknown (a failed poll), then down
again is one incident, since nobody saw it working in between; unknown is never
an incident by itself. It starts at its first down observation and is resolved
at the first good observation after it (its end); one with no good observation
yet is open. Maintenance: the time of an incident inside a window is not
counted, and one whose down time falls wholly inside windows is not an incident;
one that begins inside a window is raised when the window ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from agent import sli
from agent.sli import Segment, Span
from collectors.incidents.series import is_down, is_good

LEDGER, ALERTMANAGER = "ledger", "alertmanager"


@dataclass(frozen=True, slots=True)
class Incident:
    source: str  # LEDGER (a series' down time) or ALERTMANAGER (a pushed alert)
    key: str  # the series, or the alert's name and fingerprint
    category: str  # network, service, power, ... (from the series' source, or the alert's labels)
    start: float  # raised: the first down observation outside maintenance
    end: float | None  # resolved: the first good observation after it; None while open
    down_seconds: float  # down time outside maintenance, up to ``end`` (or the read's end)
    what: str = ""  # for people: "link egress-ct", an alert's summary

    @property
    def resolved(self) -> bool:
        return self.end is not None

    def duration(self, now: float) -> float:
        return (self.end if self.end is not None else now) - self.start


def of_series(series: str, segments: Sequence[Segment], category: str, maintenance: Sequence[Span],
              what: str = "") -> list[Incident]:
    """The incidents of one series from its segments (sorted, as the ledger returns them)."""
    found: list[Incident] = []
    run: list[Span] = []  # the down stretches of the incident being read

    def close(end: float | None) -> None:
        if not run:
            return
        outside = [piece for a, b in run for piece in sli.subtract(a, b, maintenance)]
        if outside:
            found.append(Incident(LEDGER, series, category, outside[0][0], end,
                                  sum(b - a for a, b in outside), what))
        run.clear()

    for start, end, value in segments:
        if is_down(series, value):
            run.append((start, end))
        elif is_good(series, value):
            close(start)
    close(None)
    return found


def from_ledger(segments: Mapping[str, Sequence[Segment]], categories: Mapping[str, str],
                maintenance: Mapping[str, Sequence[Span]], what: Mapping[str, str] | None = None) -> list[Incident]:
    """Every series' incidents, sorted by start."""
    found = [incident for name, segs in segments.items()
             for incident in of_series(name, segs, categories.get(name, "other"), maintenance.get(name, ()),
                                       (what or {}).get(name, ""))]
    return sorted(found, key=lambda i: (i.start, i.key))


@dataclass(frozen=True, slots=True)
class Counts:
    """A period's incidents: raised in it, and of those resolved by its end (and within the bound)."""

    raised: int
    resolved: int
    within: int  # resolved within the bound after it was raised

    @property
    def resolution_rate(self) -> float:
        return self.resolved / self.raised if self.raised else 1.0

    @property
    def timeliness(self) -> float:
        return self.within / self.raised if self.raised else 1.0


def raised_in(incidents: Iterable[Incident], start: float, end: float) -> list[Incident]:
    return [i for i in incidents if start <= i.start < end]


def count(incidents: Iterable[Incident], start: float, end: float, bound: float) -> Counts:
    """Incidents raised in ``[start, end)``; resolved ones are those ended by ``end``."""
    raised = raised_in(incidents, start, end)
    resolved = [i for i in raised if i.end is not None and i.end <= end]
    within = [i for i in resolved if i.end is not None and i.end - i.start <= bound]
    return Counts(len(raised), len(resolved), len(within))
