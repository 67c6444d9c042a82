"""Calendar periods and maintenance windows as UTC second ranges (pure).

SLA months are calendar months in the center's time zone (Asia/Shanghai by
default): an outage from 23:50 on the 31st to 00:20 on the 1st belongs 10
minutes to one month and 20 to the next. Everything here returns plain
``(start, end)`` Unix-second pairs so the arithmetic in agent.sli stays
unit-free.

The KPI engine works in months; the 绩效 table (agent.export) also sets
targets per quarter, half-year and year, and a monthly report compares a
yearly total year-to-date against a pro-rated target. Every period is a
``Period``, labelled ``2026-11``, ``2026Q3``, ``2026H1`` or ``2026``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Literal, Sequence
from zoneinfo import ZoneInfo

from agent.config import MaintenanceWindow, parse_rrule
from agent.sli import Span, merge


@dataclass(frozen=True, slots=True)
class Period:
    """A labelled calendar period, e.g. ``2026-11``."""

    label: str
    start: float
    end: float


PeriodKind = Literal["month", "quarter", "half", "year"]
KINDS: tuple[PeriodKind, ...] = ("month", "quarter", "half", "year")
MONTHS: dict[PeriodKind, int] = {"month": 1, "quarter": 3, "half": 6, "year": 12}

_PATTERNS: dict[PeriodKind, re.Pattern[str]] = {
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})[Qq]([1-4])$"),
    "half": re.compile(r"^(\d{4})[Hh]([12])$"),
    "year": re.compile(r"^(\d{4})$"),
}
_EXAMPLES: dict[PeriodKind, str] = {"month": "YYYY-MM", "quarter": "YYYYQ1-4", "half": "YYYYH1 or YYYYH2", "year": "YYYY"}


def _ts(value: datetime) -> float:
    return value.timestamp()


def _months(year: int, first: int, count: int, zone: ZoneInfo, label: str) -> Period:
    """The ``count`` calendar months from ``year-first`` in ``zone``."""
    start = datetime(year, first, 1, tzinfo=zone)
    index = year * 12 + first - 1 + count
    end = datetime(index // 12, index % 12 + 1, 1, tzinfo=zone)
    return Period(label, _ts(start), _ts(end))


def month(year: int, month_: int, zone: ZoneInfo) -> Period:
    """The calendar month ``year-month_`` in ``zone``."""
    return _months(year, month_, 1, zone, f"{year:04d}-{month_:02d}")


def quarter(year: int, number: int, zone: ZoneInfo) -> Period:
    return _months(year, 3 * (number - 1) + 1, 3, zone, f"{year:04d}Q{number}")


def half(year: int, number: int, zone: ZoneInfo) -> Period:
    return _months(year, 6 * (number - 1) + 1, 6, zone, f"{year:04d}H{number}")


def year(year_: int, zone: ZoneInfo) -> Period:
    return _months(year_, 1, 12, zone, f"{year_:04d}")


def month_containing(ts: float, zone: ZoneInfo) -> Period:
    """The calendar month in ``zone`` that contains Unix time ``ts``."""
    local = datetime.fromtimestamp(ts, zone)
    return month(local.year, local.month, zone)


def containing(kind: PeriodKind, ts: float, zone: ZoneInfo) -> Period:
    """The period of ``kind`` in ``zone`` that contains Unix time ``ts``."""
    local = datetime.fromtimestamp(ts, zone)
    if kind == "month":
        return month_containing(ts, zone)
    if kind == "quarter":
        return quarter(local.year, (local.month - 1) // 3 + 1, zone)
    if kind == "half":
        return half(local.year, 1 if local.month <= 6 else 2, zone)
    return year(local.year, zone)


def shift(period: Period, zone: ZoneInfo, months: int) -> Period:
    """The calendar month ``months`` after (or before) ``period``."""
    local = datetime.fromtimestamp(period.start, zone)
    index = local.year * 12 + local.month - 1 + months
    return month(index // 12, index % 12 + 1, zone)


def last_complete_month(now: float, zone: ZoneInfo) -> Period:
    """The calendar month before the one containing ``now``: the default report."""
    return shift(month_containing(now, zone), zone, -1)


def parse(kind: PeriodKind, text: str, zone: ZoneInfo) -> Period:
    """``2026-11`` / ``2026Q3`` / ``2026H1`` / ``2026`` as a period of ``kind``; ValueError if malformed."""
    match = _PATTERNS[kind].match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a {kind} (use {_EXAMPLES[kind]})")
    year_ = int(match.group(1))
    if not 1970 <= year_ <= 9998:
        raise ValueError(f"{text!r}: year out of range")
    if kind == "year":
        return year(year_, zone)
    number = int(match.group(2))
    if kind == "month":
        if not 1 <= number <= 12:
            raise ValueError(f"{text!r} is not a month (use {_EXAMPLES['month']}, month 01-12)")
        return month(year_, number, zone)
    return quarter(year_, number, zone) if kind == "quarter" else half(year_, number, zone)


def parse_any(text: str, zone: ZoneInfo) -> tuple[PeriodKind, Period]:
    """A period label of any kind, as written in the manual-values file."""
    for kind in KINDS:
        if _PATTERNS[kind].match(text.strip()):
            return kind, parse(kind, text, zone)
    raise ValueError(f"{text!r} is not a period (use YYYY-MM, YYYYQ1-4, YYYYH1-2 or YYYY)")


def to_date(kind: PeriodKind, period: Period, report_kind: PeriodKind, zone: ZoneInfo) -> Period:
    """The window a target set per ``kind`` is judged on in a report over ``period``.

    A yearly target in a monthly report is judged year-to-date: from the start
    of the year to the end of the month. When the target's period is not
    longer than the report's, the report period itself.
    """
    if MONTHS[kind] <= MONTHS[report_kind]:
        return period
    outer = containing(kind, period.start, zone)
    return Period(f"{outer.label}..{period.label}", outer.start, period.end)


def fraction_elapsed(window: Period, kind: PeriodKind, until: float, zone: ZoneInfo) -> tuple[float, float]:
    """Days of ``window`` elapsed by ``until`` and days in the whole ``kind`` period it starts.

    The pair pro-rates a target: 59 of 365 days for a yearly target at the
    end of February. Days are wall-clock days in ``zone`` (Asia/Shanghai has no
    DST, so they are also 86400 s).
    """
    outer = containing(kind, window.start, zone)
    elapsed = max(0.0, min(until, window.end) - window.start)
    return elapsed / 86400.0, (outer.end - outer.start) / 86400.0


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


def maintenance_spans(
    windows: Sequence[MaintenanceWindow],
    scope: Iterable[tuple[str, str]],
    start: float,
    end: float,
    default_zone: ZoneInfo,
) -> list[Span]:
    """Merged maintenance time in ``[start, end)`` of the windows that apply to ``scope``.

    ``scope``: the (window key, name) pairs of a target (a link's name and its
    group's); global windows apply to every scope, the empty one included.
    """
    pairs = frozenset(scope)
    return merge(span for window in windows if window.applies_to(pairs)
                 for span in window_spans(window, start, end, default_zone))
