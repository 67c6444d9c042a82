"""``sla_link_state_seconds_total``: every configured link's seconds up, down, unknown and in maintenance.

Counters any Prometheus-API store (federation, Thanos, Mimir, VictoriaMetrics)
can read a month from exactly: the four states partition the wall-clock time
since the agent began measuring the link (its start, or the reload that added
it), counted up to the scrape, so between two scrapes the current state's
counter grows by exactly the time between them. They restart at 0 with the
agent. The accounting is collectors/snmp/link_time.py; this module maps the config's
links and maintenance windows onto it and renders the lines.

Maintenance scope: a window applies to a link when it lists the link, the
link's group or its device, or it is global (collectors/snmp/config.link_scope). Those are
exactly the windows that cover the link's series in the KPI engine
(agent/maintenance.py), so ``sum(up) / sum(up + down)`` over a group's links is
the group's availability KPI over the same time.

Threads: observations are applied on the event loop, /metrics renders on a
thread of its own. Both take ``_lock`` briefly: a render to fix the time it
shows (``_shown``, never going back), an observation to read it, so that no
observation rewrites time a scrape already showed. A render then reads each
link's ``view`` (replaced whole) without the lock; a link observed meanwhile
shows its values as of that observation (a moment later, never less).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator, Sequence
from zoneinfo import ZoneInfo

from agent import periods, textformat
from collectors.snmp import series
from agent.config import Config, MaintenanceWindow
from collectors.snmp.config import link_scope
from collectors.snmp.link_time import MAINTENANCE, NO_MAINTENANCE, STATES, Calendar, Closed, LinkClock, Seconds, state_of
from agent.sli import Span

if TYPE_CHECKING:
    from agent.exposed import Series
    from agent.scheduler import PollOutcome

METRIC = "sla_link_state_seconds_total"


@dataclass(frozen=True, slots=True)
class LinkId:
    """A configured link and the labels it is exposed with (agent.metrics' _LINK)."""

    link: str
    group: str
    device: str


def config_links(config: Config) -> list[LinkId]:
    return [LinkId(link.name, group.name, link.device) for group in config.link_groups for link in group.links]


def _number(value: float) -> bytes:
    # Microseconds, as the wall clock reads: fixed decimals are cheaper to write than the shortest
    # round-trip spelling, and rounding every value the same way keeps the counters monotonic.
    # Trailing zeros go where the text is kept (not for the growing value, written every scrape).
    text = b"%.6f" % value
    return text.rstrip(b"0").rstrip(b".") or b"0"


def exposed_value(value: float) -> float:
    """A value as /metrics writes it (for the prometheus_client view of the same series)."""
    return float(_number(value))


_SUFFIX = tuple(f'{state}"}} '.encode() for state in STATES)
_ZERO_ENDS = tuple(suffix + b"0\n" for suffix in _SUFFIX)  # the end of a line at zero seconds, shared


class _Link(LinkClock):
    """A link's account with its labels (one object per link: there may be 60,000)."""

    __slots__ = ("id", "_head")

    def __init__(self, link_id: LinkId, start: float, calendar: Calendar):
        super().__init__(start, calendar)
        self.id = link_id
        self._head: bytes | None = None

    def head(self) -> bytes:
        """The line up to the state's value, the only text kept per link (its labels never change)."""
        head = self._head
        if head is None:
            escape = textformat.escape_label
            i = self.id
            head = self._head = (f'{METRIC}{{link="{escape(i.link)}",group="{escape(i.group)}",'
                                 f'device="{escape(i.device)}",state="').encode()
        return head

    def static_ends(self, closed: Closed, growing: int) -> tuple[int, bytes, bytes, bytes]:
        """``growing``, then the ends of the lines of the three states that are not growing, in state order.

        Only the ends are kept, and those at zero are shared: with the head in
        each, the lines cost 430 bytes a link (26 MB for 60,000 links); a link
        that was only ever up and unknown keeps one end of its own.
        """
        seconds = closed.seconds
        ends = [_SUFFIX[s] + _number(seconds[s]) + b"\n" if seconds[s] else _ZERO_ENDS[s] for s in range(4)
                if s != growing]
        return growing, ends[0], ends[1], ends[2]

    def lines(self, seconds: Seconds) -> bytes:
        head = self.head()
        return b"".join(head + _SUFFIX[s] + _number(seconds[s]) + b"\n" for s in range(4))


def _expander(windows: tuple[MaintenanceWindow, ...], zone: ZoneInfo) -> Callable[[float, float], list[Span]]:
    def expand(start: float, end: float) -> list[Span]:
        return [span for window in windows for span in periods.window_spans(window, start, end, zone)]

    return expand


CalendarKey = tuple[str, tuple[MaintenanceWindow, ...]]  # default zone, the windows that apply


class LinkStates:
    """The accounts of every configured link, fed with poll outcomes, rendered at every scrape."""

    def __init__(self, links: Sequence[LinkId], windows: Sequence[MaintenanceWindow] = (),
                 zone: ZoneInfo = ZoneInfo("UTC"), clock: Callable[[], float] | None = None):
        self._clock = clock or time.time
        self._lock = threading.Lock()
        self._shown = self._clock()  # the latest time a reader was shown; the start
        self._by_name: dict[str, _Link] = {}
        self._by_series: dict[str, _Link] = {}
        self._groups: tuple[tuple[Calendar, tuple[_Link, ...]], ...] = ()
        self._calendars: dict[CalendarKey, Calendar] = {}
        self._configure(links, windows, zone, self._shown)

    @classmethod
    def from_config(cls, config: Config, clock: Callable[[], float] | None = None) -> "LinkStates":
        return cls(config_links(config), config.maintenance, ZoneInfo(config.agent.timezone), clock)

    def configure(self, links: Sequence[LinkId], windows: Sequence[MaintenanceWindow], zone: ZoneInfo) -> None:
        """A reload: new links are measured from now, removed ones dropped, kept ones go on.

        A link whose labels changed (another group or device) is a new series
        from now on, continuing its ledger segment. Kept links whose windows
        changed count maintenance by the new ones from now on.
        """
        with self._lock:
            self._configure(links, windows, zone, max(self._clock(), self._shown))

    def reconfigure(self, config: Config) -> None:
        self.configure(config_links(config), config.maintenance, ZoneInfo(config.agent.timezone))

    def _configure(self, links: Sequence[LinkId], windows: Sequence[MaintenanceWindow], zone: ZoneInfo,
                   now: float) -> None:
        calendars: dict[CalendarKey, Calendar] = {}
        groups: dict[int, tuple[Calendar, list[_Link]]] = {}
        by_name: dict[str, _Link] = {}
        for link_id in links:
            scope = link_scope(link_id.link, link_id.group, link_id.device)
            applies = tuple(w for w in windows if w.applies_to(scope))
            key = (zone.key, applies)
            calendar = calendars.get(key) or self._calendars.get(key)
            if calendar is None:
                calendar = NO_MAINTENANCE if not applies else Calendar(_expander(applies, zone), now)
            calendars[key] = calendar
            previous = self._by_name.get(link_id.link)
            if previous is not None and previous.id == link_id:
                link = previous
                if link.view[0].calendar is not calendar:
                    link.rescope(calendar, now, self._shown)
            else:
                link = _Link(link_id, now, calendar)
                if previous is not None:
                    link.carry(previous)
            by_name[link_id.link] = link
            groups.setdefault(id(calendar), (calendar, []))[1].append(link)
        self._calendars = calendars
        self._by_name = by_name
        self._by_series = {series.link_up(name): link for name, link in by_name.items()}
        self._groups = tuple((calendar, tuple(members)) for calendar, members in groups.values())

    def observe(self, outcome: "PollOutcome") -> None:
        """Fold a poll's ``link:<name>:up`` observations in (the others are not links' states)."""
        by_series = self._by_series
        with self._lock:
            floor = self._shown
            for observation in outcome.observations:
                link = by_series.get(observation.series)
                if link is not None:
                    link.observe(state_of(observation.value), outcome.at, outcome.validity, floor)

    def now(self) -> float:
        """The time a reader is shown: the wall clock, or the latest time shown if the clock went back."""
        with self._lock:
            self._shown = max(self._clock(), self._shown)
            return self._shown

    def seconds(self) -> dict[str, Seconds]:
        """Each link's seconds per state (link_time.STATES order), by link name, as of now."""
        t = self.now()
        return {name: link.seconds(t) for name, link in self._by_name.items()}

    def series(self) -> Iterator["Series"]:
        """The counters as plain series (the prometheus_client view; /metrics writes ``chunks``)."""
        t = self.now()
        for _, links in self._groups:
            for link in links:
                values = link.seconds(t)
                i = link.id
                for state, value in zip(STATES, values):
                    labels = (("link", i.link), ("group", i.group), ("device", i.device), ("state", state))
                    yield METRIC, labels, exposed_value(value)

    def chunks(self) -> list[bytes]:
        """The family's text as one list of pieces (see iter_chunks)."""
        return [piece for batch in self.iter_chunks() for piece in batch]

    def iter_chunks(self, links_per_batch: int = 1024) -> Iterator[list[bytes]]:
        """The family's text: its header, then per link the cached lines and the one growing value.

        The cost per link and scrape is one number: the states that are not
        growing keep the ends of their lines from the last change of state
        (Closed.text), and each link its head. Handed out a batch of links at a
        time, all at one instant: at 60,000 links the whole list of pieces was
        about 9 MB held for the length of a scrape.
        """
        t = self.now()
        groups = self._groups
        if not any(links for _, links in groups):
            return
        out = [textformat.header(METRIC)]
        append, extend = out.append, out.extend
        left = links_per_batch
        # Links of one device polled together share their growing value: written once, reused.
        last_value, last_line = -1.0, b""
        for calendar, links in groups:
            edge = calendar.last_edge(t)
            inside = calendar.covers(t)
            for link in links:
                closed, valid_until = link.view
                mark = closed.mark
                if closed.calendar is calendar and edge <= mark <= t <= valid_until:
                    growing = MAINTENANCE if inside else closed.state
                    text = closed.text
                    if text is None or text[0] != growing:
                        text = closed.text = link.static_ends(closed, growing)
                    head = link._head or link.head()
                    extend((head, text[1], head, text[2], head, text[3], head, _SUFFIX[growing]))
                    value = closed.seconds[growing] + (t - mark)
                    if value != last_value:
                        last_value, last_line = value, b"%.6f\n" % value  # as _number, inlined
                    append(last_line)
                else:  # a window edge or the state's validity passed since the last change: the long way
                    append(link.lines(closed.at(t, valid_until)))
                left -= 1
                if not left:
                    yield out
                    out = []
                    append, extend = out.append, out.extend
                    left = links_per_batch
        if out:
            yield out
