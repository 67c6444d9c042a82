"""One link's time by state (up, down, unknown, maintenance), counted forward as observations come.

The arithmetic behind ``sla_link_state_seconds_total`` (collectors/snmp/link_states.py
keeps one :class:`LinkClock` per configured link). No I/O; every time is a
wall-clock Unix second handed in by the caller.

The four states partition the time since the link was first measured:

- *maintenance* wherever a window of the link's :class:`Calendar` covers
  the instant (it wins over everything);
- otherwise *up* / *down* exactly where the ledger's ``link:<name>:up``
  segment says 1 / 0: an observation holds until the next one of the series,
  for at most its validity (agent/ledger.py ``_record_one``, mirrored here);
- otherwise *unknown*: the poll failed, the interface was not found, the
  observation went stale, or nothing was observed yet.

Counters never go back. An observation is applied from its own time, except
where a reader was already shown a later time (``floor``): the change is then
counted from that time on. That happens only when a scrape falls inside the
poll that saw a change (at most one poll's duration), or after the wall clock
stepped back; in both cases the time already shown stays as shown.
"""

from __future__ import annotations

import bisect
import math
import threading
from typing import Callable, Sequence

from agent import sli
from agent.sli import Span

UP, DOWN, UNKNOWN, MAINTENANCE = 0, 1, 2, 3
STATES = ("up", "down", "unknown", "maintenance")  # index = the constants above
Seconds = tuple[float, float, float, float]
Expander = Callable[[float, float], Sequence[Span]]  # maintenance spans in [start, end), clipped to it
ZERO: Seconds = (0.0, 0.0, 0.0, 0.0)


def state_of(value: float | None) -> int:
    """A ``link:<name>:up`` value as a state: None unknown, else up as the KPI engine reads it (sli.is_up)."""
    if value is None:
        return UNKNOWN
    return UP if sli.is_up(value) else DOWN


class Calendar:
    """The merged maintenance spans of one set of windows, expanded a day at a time as time goes on.

    ``expand(start, end)`` gives the windows' spans in ``[start, end)`` (for
    config windows: agent.periods.window_spans). Read from the render thread
    and the event loop: every expansion publishes one new immutable snapshot.
    """

    CHUNK = 86_400.0  # seconds expanded at a time: a recurring rule is not unrolled for ever

    def __init__(self, expand: Expander | None, start: float):
        self._expand = expand
        self._lock = threading.Lock()
        # (expanded up to, merged spans, their edges flattened: start0, end0, start1, ...)
        self._view: tuple[float, tuple[Span, ...], tuple[float, ...]] = (start, (), ())

    def _edges(self, t: float) -> tuple[float, ...]:
        hi, _, edges = self._view
        if self._expand is None or t < hi:
            return edges
        with self._lock:
            hi, spans, edges = self._view
            if t >= hi:
                until = max(hi, t) + self.CHUNK
                merged = tuple(sli.merge([*spans, *self._expand(hi, until)]))
                edges = tuple(x for span in merged for x in span)
                self._view = (until, merged, edges)
            return edges

    def last_edge(self, t: float) -> float:
        """The latest instant <= ``t`` at which maintenance starts or ends (-inf if none)."""
        edges = self._edges(t)
        at = bisect.bisect_right(edges, t)
        return edges[at - 1] if at else -math.inf

    def covers(self, t: float) -> bool:
        """Whether ``t`` is inside a window (spans are half-open: the end instant is not)."""
        return bisect.bisect_right(self._edges(t), t) % 2 == 1

    def spans(self, start: float, end: float) -> list[Span]:
        """Maintenance in ``[start, end)``, clipped to it."""
        if end <= start or self._expand is None:
            return []
        self._edges(end)
        _, spans, _ = self._view
        return [(max(s, start), min(e, end)) for s, e in spans if e > start and s < end]


NO_MAINTENANCE = Calendar(None, 0.0)


def split(start: float, end: float, state: int, valid_until: float, maintenance: Sequence[Span]) -> Seconds:
    """Seconds of ``[start, end)`` per state: ``state`` until ``valid_until``, unknown after, maintenance over both.

    ``maintenance``: merged, sorted spans (Calendar.spans).
    """
    if end <= start:
        return ZERO
    held = (start, min(end, valid_until))
    stale = (max(start, valid_until), end)
    out = [0.0, 0.0, 0.0, 0.0]
    for (s, e), which in ((held, state), (stale, UNKNOWN)):
        if e > s:
            out[which] += sli.length(sli.subtract(s, e, maintenance))
    out[MAINTENANCE] = sli.length(maintenance)
    return out[0], out[1], out[2], out[3]


def add(a: Seconds, b: Seconds) -> Seconds:
    # ``or 0.0``: a sum of zeros as the one shared zero, not a float of its own (most
    # links keep two or three states at zero: 48 bytes a link otherwise).
    return a[0] + b[0] or 0.0, a[1] + b[1] or 0.0, a[2] + b[2] or 0.0, a[3] + b[3] or 0.0


class Closed:
    """Seconds per state up to ``mark``, and the state the link is in from ``mark`` on.

    Immutable for the accounting; a new one is made at every change of state
    (not at every observation), so the text that a scrape formats from it is
    kept across polls that only confirm the state: ``text`` is the state that
    is growing and the ends of the other states' lines (collectors/snmp/link_states.py),
    one tuple, so a reader on another thread never sees half of it.
    """

    __slots__ = ("seconds", "mark", "state", "calendar", "text")

    def __init__(self, seconds: Seconds, mark: float, state: int, calendar: Calendar):
        self.seconds = seconds
        self.mark = mark
        self.state = state
        self.calendar = calendar
        self.text: tuple[int, bytes, bytes, bytes] | None = None

    def at(self, t: float, valid_until: float) -> Seconds:
        """Seconds per state at ``t`` (>= mark, or the seconds as of mark)."""
        if t <= self.mark:
            return self.seconds
        spans = self.calendar.spans(self.mark, t)
        return add(self.seconds, split(self.mark, t, self.state, valid_until, spans))



View = tuple[Closed, float]  # the closed part and until when its state holds (inf for unknown)


class LinkClock:
    """One link's account, and a mirror of its ledger series' newest segment.

    Written by one thread (the event loop); ``view`` is replaced whole, so a
    reader on another thread always sees a consistent pair.
    """

    __slots__ = ("view", "_seg_start", "_seg_end", "_seg_state")

    def __init__(self, start: float, calendar: Calendar):
        # Nothing observed yet: unknown from the start, for as long as that lasts.
        self.view: View = (Closed(ZERO, start, UNKNOWN, calendar), math.inf)
        self._seg_start: float | None = None
        self._seg_end = -math.inf
        self._seg_state = UNKNOWN

    def seconds(self, t: float) -> Seconds:
        closed, valid_until = self.view
        return closed.at(t, valid_until)

    def observe(self, state: int, at: float, validity: float, floor: float) -> bool:
        """Apply an observation of ``state`` made at ``at``, holding ``validity`` seconds, as the ledger does.

        ``floor``: the latest time a reader has been shown; nothing before it
        changes. Returns False if the observation was dropped, as the ledger
        drops it (older than the newest segment: the wall clock went back).
        """
        if self._seg_start is not None and at < self._seg_start:
            return False
        extends = self._seg_start is not None and at <= self._seg_end and state == self._seg_state
        if extends:
            self._seg_end = max(self._seg_end, at + validity)
        else:  # a new segment (the ledger also replaces one that starts at the same instant)
            self._seg_start, self._seg_end, self._seg_state = at, at + validity, state
        closed, valid_until = self.view
        holds = math.inf if state == UNKNOWN else self._seg_end
        since = max(at, floor, closed.mark)
        if state == closed.state and since <= valid_until and closed.calendar.last_edge(since) <= closed.mark:
            # The same state, with nothing shown past its validity and no window edge passed:
            # the closed part stands (and so does its formatted text); only the validity moves.
            self.view = (closed, holds)
        else:
            self.view = (Closed(closed.at(since, valid_until), since, state, closed.calendar), holds)
        return True

    def rescope(self, calendar: Calendar, at: float, floor: float) -> None:
        """From ``at`` on (or from ``floor``, the time already shown), count maintenance by ``calendar``."""
        closed, valid_until = self.view
        since = max(at, floor, closed.mark)
        self.view = (Closed(closed.at(since, valid_until), since, closed.state, calendar), valid_until)

    def carry(self, other: "LinkClock") -> None:
        """Continue ``other``'s ledger segment (the same series, measured anew under new labels)."""
        self._seg_start, self._seg_end, self._seg_state = other._seg_start, other._seg_end, other._seg_state
        closed, _ = self.view
        _, valid_until = other.view
        self.view = (Closed(closed.seconds, closed.mark, other.view[0].state, closed.calendar), valid_until)
