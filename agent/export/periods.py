"""Report periods: calendar months, quarters, half-years and years in the center's zone (pure).

agent.periods knows months; the 绩效 table also sets targets per quarter,
half-year and year, and a monthly report compares a yearly total
year-to-date against a pro-rated target. Periods here are the same
``agent.periods.Period`` (labelled ``[start, end)`` Unix seconds), labelled
``2026-11``, ``2026Q3``, ``2026H1`` and ``2026``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from agent.periods import Period, month, month_containing, shift

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


def _months(year: int, first: int, count: int, zone: ZoneInfo, label: str) -> Period:
    start = datetime(year, first, 1, tzinfo=zone)
    index = year * 12 + first - 1 + count
    end = datetime(index // 12, index % 12 + 1, 1, tzinfo=zone)
    return Period(label, start.timestamp(), end.timestamp())


def quarter(year: int, number: int, zone: ZoneInfo) -> Period:
    return _months(year, 3 * (number - 1) + 1, 3, zone, f"{year:04d}Q{number}")


def half(year: int, number: int, zone: ZoneInfo) -> Period:
    return _months(year, 6 * (number - 1) + 1, 6, zone, f"{year:04d}H{number}")


def year(year_: int, zone: ZoneInfo) -> Period:
    return _months(year_, 1, 12, zone, f"{year_:04d}")


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


def last_complete_month(now: float, zone: ZoneInfo) -> Period:
    """The calendar month before the one containing ``now``: the default report."""
    return shift(month_containing(now, zone), zone, -1)


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
