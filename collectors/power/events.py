"""Power faults as events, from a unit's ledger segments (pure: no I/O, no clocks).

A fault event is a maximal run of fault = 1. Three rules say where one
begins and ends, given the ledger's three values (1, 0, unknown):

* Unknown time between two faulty stretches, up to ``BRIDGE`` long, is part
  of the event: a UPS card that stops answering for a minute while the UPS
  is on battery has one fault, not two. The agent cannot tell the fault
  ended, and counting it twice would report a fault that was not there.
  A longer gap, or any normal (0) time, ends the event.
* An event ends where it was last seen faulty (the end of its last faulty
  stretch), also when unknown time follows; while nothing but unknown
  (up to ``BRIDGE``) follows until the end of what was read, it has not
  ended: ongoing, no end.
* Conditions that overlap (on battery, and the alarm the UPS raises for it)
  are one event, with both conditions.

An event belongs to the period it starts in: one going on at the period's
start (started before; ``lookback`` reads far enough back to see it) is not
counted again, and one that lies entirely inside maintenance is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

from agent import sli
from agent.sli import Segment, Span

BRIDGE = 900.0  # seconds of unknown inside one fault: a card rebooting, an agent restart, a network blip
LOOKBACK = BRIDGE + 60.0  # read before a period's start: enough to see an event that began before it

Status = Literal["counted", "earlier", "maintenance"]


@dataclass(frozen=True, slots=True)
class Run:
    """A run of fault: ``end`` is the end of its last faulty stretch; ``open``: not known to have ended."""

    start: float
    end: float
    open: bool


@dataclass(frozen=True, slots=True)
class FaultEvent:
    """One power fault of one unit, as the report lists it."""

    unit: str
    start: float
    end: float | None  # None: not known to have ended by the end of the evaluation (ongoing)
    conditions: tuple[str, ...]  # those that held during it, in the profile's order
    status: Status  # counted in the period, started before it, or entirely inside maintenance

    def seconds(self, until: float) -> float:
        """Its length, up to ``until`` while it is ongoing."""
        return (until if self.end is None else self.end) - self.start


def _is_fault(value: float | None) -> bool:
    # The collector writes 1.0 or 0.0; the ledger's usual threshold tells them apart.
    return value is not None and sli.is_up(value)


def fault_runs(segments: Sequence[Segment], end: float, bridge: float = BRIDGE) -> list[Run]:
    """The runs of fault in ``segments`` (read up to ``end``), by the rules of the module doc."""
    runs: list[Run] = []
    start: float | None = None
    last = 0.0  # the end of the current run's last faulty stretch
    for seg_start, seg_end, value in sorted(segments):
        if value is None:
            continue  # unknown: neither continues nor ends a run by itself
        if not _is_fault(value):
            if start is not None:
                runs.append(Run(start, last, False))
                start = None
            continue
        if start is not None and seg_start - last <= bridge:
            last = max(last, seg_end)
            continue
        if start is not None:
            runs.append(Run(start, last, False))  # a gap too long to bridge
        start, last = seg_start, seg_end
    if start is not None:
        runs.append(Run(start, last, end - last <= bridge))
    return runs


def _held(segments: Sequence[Segment], start: float, stop: float) -> bool:
    return any(_is_fault(value) and s < stop and e > start for s, e, value in segments)


def unit_events(unit: str, fault: Sequence[Segment], conditions: Mapping[str, Sequence[Segment]],
                period_start: float, end: float, maintenance: Sequence[Span], bridge: float = BRIDGE) -> list[FaultEvent]:
    """The unit's events that reach into ``[period_start, end)``, from segments read from before it.

    ``fault`` and ``conditions`` (condition name -> segments, in the profile's order) are read from
    at least ``LOOKBACK`` before ``period_start``; ``maintenance`` is merged and sorted.
    """
    events: list[FaultEvent] = []
    for run in fault_runs(fault, end, bridge):
        stop = end if run.open else run.end
        if stop <= period_start:
            continue  # over before the period began
        status: Status
        if run.start < period_start:
            status = "earlier"
        elif sli.length(sli.subtract(run.start, stop, maintenance)) <= 0:
            status = "maintenance"
        else:
            status = "counted"
        held = tuple(name for name, found in conditions.items() if _held(found, run.start, stop))
        events.append(FaultEvent(unit, run.start, None if run.open else run.end, held, status))
    return events


__all__ = ["BRIDGE", "FaultEvent", "LOOKBACK", "Run", "fault_runs", "unit_events"]
