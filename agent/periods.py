"""Calendar periods and maintenance windows as UTC second ranges (pure).

SLA months are calendar months in the center's time zone (Asia/Shanghai by
default): an outage from 23:50 on the 31st to 00:20 on the 1st belongs 10
minutes to one month and 20 to the next. Everything here returns plain
``(start, end)`` Unix-second pairs so the arithmetic in agent.sli stays
unit-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence
from zoneinfo import ZoneInfo

from agent.config import MaintenanceWindow, parse_rrule
from agent.sli import Span, merge


@dataclass(frozen=True, slots=True)
class Period:
    """A labelled calendar period, e.g. ``2026-11``."""

    label: str
    start: float
    end: float


def _ts(value: datetime) -> float:
    return value.timestamp()


def month(year: int, month_: int, zone: ZoneInfo) -> Period:
    """The calendar month ``year-month_`` in ``zone``."""
    start = datetime(year, month_, 1, tzinfo=zone)
    nxt = datetime(year + (month_ == 12), month_ % 12 + 1, 1, tzinfo=zone)
    return Period(f"{year:04d}-{month_:02d}", _ts(start), _ts(nxt))


def month_containing(ts: float, zone: ZoneInfo) -> Period:
    """The calendar month in ``zone`` that contains Unix time ``ts``."""
    local = datetime.fromtimestamp(ts, zone)
    return month(local.year, local.month, zone)


def _aware(value: datetime, zone: ZoneInfo) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def _clamped_until(until: datetime | None, hi: datetime, zone: ZoneInfo) -> datetime:
    """The earlier of a rule's own ``until`` and the naive wall-clock bound ``hi``.

    parse_rrule expands on naive wall-clock times of ``zone`` and has already turned a
    UTC ``UNTIL=...Z`` into that wall clock, so ``until`` is normally naive; an aware one
    is converted the same way rather than compared with a naive ``hi``.
    """
    if until is None:
        return hi
    if until.tzinfo is not None:
        until = until.astimezone(zone).replace(tzinfo=None)
    return min(until, hi)


def window_spans(window: MaintenanceWindow, start: float, end: float, default_zone: ZoneInfo) -> list[Span]:
    """The occurrences of ``window`` that overlap ``[start, end)``, clipped to it."""
    zone = ZoneInfo(window.timezone) if window.timezone else default_zone
    spans: list[Span] = []
    if window.rrule is None:
        assert window.start is not None and window.end is not None
        spans.append((_ts(_aware(window.start, zone)), _ts(_aware(window.end, zone))))
    else:
        assert window.dtstart is not None and window.duration is not None
        rule = parse_rrule(window.rrule, window.dtstart, zone)
        # Wall-clock bounds widened by a day: around a DST change wall time and
        # real time differ by up to an hour; the clip below trims the excess.
        lo = datetime.fromtimestamp(start - window.duration, zone).replace(tzinfo=None) - timedelta(days=1)
        hi = datetime.fromtimestamp(end, zone).replace(tzinfo=None) + timedelta(days=1)
        if getattr(rule, "_count", None) is None:
            # Bounds the expansion even for rules that rarely occur, without extending the
            # rule's own UNTIL: the earlier of the two wins.
            rule = rule.replace(until=_clamped_until(getattr(rule, "_until", None), hi, zone))
        for occurrence in rule.between(lo, hi, inc=True):
            begin = _ts(occurrence.replace(tzinfo=zone))
            spans.append((begin, begin + window.duration))
    return [(max(s, start), min(e, end)) for s, e in spans if e > start and s < end]


def maintenance_by_link(
    windows: Sequence[MaintenanceWindow],
    group: str | None,
    links: Sequence[str],
    start: float,
    end: float,
    default_zone: ZoneInfo,
) -> dict[str | None, list[Span]]:
    """Merged maintenance time in ``[start, end)`` of link ``group`` (key None) and of each of its ``links``.

    A window applies to a link it lists, to every link of a group it lists,
    and, with neither listed, to everything (see MaintenanceWindow). Each
    window is expanded once, however many links it covers.
    """
    keys: tuple[str | None, ...] = (None, *links)
    expanded = [(window, window_spans(window, start, end, default_zone))
                for window in windows if any(window.applies_to(group, key) for key in keys)]
    return {key: merge(span for window, spans in expanded if window.applies_to(group, key) for span in spans)
            for key in keys}


def maintenance_spans(
    windows: Sequence[MaintenanceWindow],
    group: str | None,
    start: float,
    end: float,
    default_zone: ZoneInfo,
) -> list[Span]:
    """Merged maintenance time in ``[start, end)`` that applies to link ``group`` as a whole.

    Global windows apply to every group; with ``group`` None only global
    windows count. Windows that list links apply only to those links
    (``maintenance_by_link``).
    """
    return maintenance_by_link(windows, group, (), start, end, default_zone)[None]


def shift(period: Period, zone: ZoneInfo, months: int) -> Period:
    """The calendar month ``months`` after (or before) ``period``."""
    local = datetime.fromtimestamp(period.start, zone)
    index = local.year * 12 + local.month - 1 + months
    return month(index // 12, index % 12 + 1, zone)
