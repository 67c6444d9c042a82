"""agent.periods (export side): quarters, half-years, years, to-date windows and pro-rating."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent import periods
from agent.periods import month

SH = ZoneInfo("Asia/Shanghai")
DAY = 86400


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


def test_quarter_half_and_year_bounds_in_shanghai():
    assert periods.quarter(2026, 3, SH) == periods.Period("2026Q3", ts(2026, 7, 1), ts(2026, 10, 1))
    assert periods.quarter(2026, 4, SH).end == ts(2027, 1, 1)
    assert periods.half(2026, 1, SH) == periods.Period("2026H1", ts(2026, 1, 1), ts(2026, 7, 1))
    assert periods.half(2026, 2, SH).end == ts(2027, 1, 1)
    assert periods.year(2028, SH).end - periods.year(2028, SH).start == 366 * DAY


@pytest.mark.parametrize("kind, text, label", [
    ("month", "2026-02", "2026-02"), ("quarter", "2026q3", "2026Q3"), ("half", "2026H2", "2026H2"), ("year", "2026", "2026"),
])
def test_parse(kind, text, label):
    assert periods.parse(kind, text, SH).label == label


@pytest.mark.parametrize("kind, text, message", [
    ("month", "2026-13", "month 01-12"), ("month", "2026-1", "not a month"), ("quarter", "2026Q5", "not a quarter"),
    ("half", "2026H3", "not a half"), ("year", "26", "not a year"), ("month", "0000-01", "year out of range"),
])
def test_parse_rejects(kind, text, message):
    with pytest.raises(ValueError, match=message):
        periods.parse(kind, text, SH)


def test_parse_any_and_containing():
    assert periods.parse_any("2026H1", SH) == ("half", periods.half(2026, 1, SH))
    assert periods.parse_any("2026", SH)[0] == "year"
    # 2026-03-31 23:30 Shanghai is still Q1 (15:30 UTC).
    assert periods.containing("quarter", ts(2026, 3, 31, 23, 30), SH).label == "2026Q1"
    assert periods.containing("half", ts(2026, 7, 1), SH).label == "2026H2"


def test_last_complete_month_uses_the_configured_zone():
    # 2026-11-30 17:00 UTC is already 1 December in Shanghai: the last complete month is November.
    now = datetime(2026, 11, 30, 17, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    assert periods.last_complete_month(now, SH).label == "2026-11"
    assert periods.last_complete_month(now, ZoneInfo("UTC")).label == "2026-10"
    assert periods.last_complete_month(ts(2027, 1, 15), SH).label == "2026-12"


def test_to_date_window_and_pro_rating_by_days():
    february = month(2026, 2, SH)
    ytd = periods.to_date("year", february, "month", SH)
    assert (ytd.start, ytd.end) == (ts(2026, 1, 1), ts(2026, 3, 1))
    assert periods.fraction_elapsed(ytd, "year", ytd.end, SH) == (59, 365)
    leap = periods.to_date("year", month(2028, 2, SH), "month", SH)
    assert periods.fraction_elapsed(leap, "year", leap.end, SH) == (60, 366)
    # A running month: elapsed to "now".
    assert periods.fraction_elapsed(ytd, "year", ts(2026, 2, 10, 12), SH) == (40.5, 365)
    # Half-year target in an October report: from 1 July.
    h2 = periods.to_date("half", month(2026, 10, SH), "month", SH)
    assert h2.start == ts(2026, 7, 1) and h2.end == ts(2026, 11, 1)
    # A target period not longer than the report's: the report period itself.
    q3 = periods.quarter(2026, 3, SH)
    assert periods.to_date("month", q3, "quarter", SH) is q3
