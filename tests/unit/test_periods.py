"""agent.periods: calendar months in a time zone and maintenance windows as UTC spans.

Every expected instant is written by hand in UTC, with the local time it
comes from in a comment. Asia/Shanghai is UTC+8 all year (no DST); Europe/Berlin
is CET (UTC+1) and, from the last Sunday of March 01:00 UTC to the last Sunday of
October 01:00 UTC, CEST (UTC+2). In 2026 those Sundays are 29 March and 25 October.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent.config import MaintenanceWindow
from agent.periods import (
    Period,
    maintenance_spans,
    month,
    month_containing,
    shift,
    window_spans,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")
DAY = 86400.0
HOUR = 3600.0


def utc(text: str) -> float:
    """Unix seconds of a UTC wall-clock time written as ``YYYY-MM-DDTHH:MM[:SS]``."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def span(start: str, end: str) -> tuple[float, float]:
    return (utc(start), utc(end))


def window(**fields: Any) -> MaintenanceWindow:
    return MaintenanceWindow.model_validate({"name": "w", **fields})


# --- months --------------------------------------------------------------------------------------


def test_month_in_shanghai() -> None:
    # 2026-11-01 00:00 +08:00 = 2026-10-31 16:00Z; 2026-12-01 00:00 +08:00 = 2026-11-30 16:00Z.
    assert month(2026, 11, SHANGHAI) == Period("2026-11", utc("2026-10-31T16:00"), utc("2026-11-30T16:00"))
    assert month(2026, 11, SHANGHAI).end - month(2026, 11, SHANGHAI).start == 30 * DAY


def test_month_in_utc_is_the_plain_calendar_month() -> None:
    assert month(2026, 11, UTC) == Period("2026-11", utc("2026-11-01T00:00"), utc("2026-12-01T00:00"))


def test_december_to_january() -> None:
    december = month(2026, 12, SHANGHAI)
    # 2026-12-01 00:00 +08 = 2026-11-30 16:00Z; 2027-01-01 00:00 +08 = 2026-12-31 16:00Z.
    assert december == Period("2026-12", utc("2026-11-30T16:00"), utc("2026-12-31T16:00"))
    january = shift(december, SHANGHAI, 1)
    # 2027-02-01 00:00 +08 = 2027-01-31 16:00Z.
    assert january == Period("2027-01", utc("2026-12-31T16:00"), utc("2027-01-31T16:00"))
    assert january.start == december.end
    assert shift(january, SHANGHAI, -1) == december


@pytest.mark.parametrize(
    ("year", "days"),
    [(2028, 29), (2027, 28), (2000, 29), (2100, 28)],  # 2000: divisible by 400; 2100: by 100 only
)
def test_february_length(year: int, days: int) -> None:
    february = month(year, 2, SHANGHAI)
    assert february.label == f"{year}-02"
    assert february.end - february.start == days * DAY


def test_leap_february_2028() -> None:
    # 2028-02-01 00:00 +08 = 2028-01-31 16:00Z; 2028-03-01 00:00 +08 = 2028-02-29 16:00Z.
    assert month(2028, 2, SHANGHAI) == Period("2028-02", utc("2028-01-31T16:00"), utc("2028-02-29T16:00"))


def test_month_containing_at_the_boundary() -> None:
    boundary = utc("2026-10-31T16:00")  # 2026-11-01 00:00:00 in Shanghai
    assert month_containing(boundary, SHANGHAI).label == "2026-11"
    assert month_containing(boundary, SHANGHAI).start == boundary
    before = month_containing(boundary - 1, SHANGHAI)  # 2026-10-31 23:59:59 in Shanghai
    # 2026-10-01 00:00 +08 = 2026-09-30 16:00Z.
    assert before == Period("2026-10", utc("2026-09-30T16:00"), boundary)
    # The last second of November in Shanghai is 2026-11-30 15:59:59Z.
    assert month_containing(utc("2026-11-30T15:59:59"), SHANGHAI).label == "2026-11"
    assert month_containing(utc("2026-11-30T16:00"), SHANGHAI).label == "2026-12"


def test_month_containing_depends_on_the_zone() -> None:
    instant = utc("2026-10-31T20:00")  # still October in UTC, already 04:00 on 1 November in Shanghai
    assert month_containing(instant, UTC).label == "2026-10"
    assert month_containing(instant, SHANGHAI).label == "2026-11"


def test_month_containing_fractional_seconds() -> None:
    assert month_containing(utc("2026-10-31T16:00") - 0.001, SHANGHAI).label == "2026-10"


@pytest.mark.parametrize(
    ("months", "label"),
    [(0, "2026-11"), (1, "2026-12"), (2, "2027-01"), (-1, "2026-10"), (-10, "2026-01"), (-11, "2025-12"),
     (14, "2028-01"), (-23, "2024-12")],
)
def test_shift(months: int, label: str) -> None:
    shifted = shift(month(2026, 11, SHANGHAI), SHANGHAI, months)
    year, month_ = map(int, label.split("-"))
    assert shifted == month(year, month_, SHANGHAI)
    assert shifted.label == label


def test_months_in_a_dst_zone() -> None:
    # March 2026 in Berlin: 03-01 00:00 CET (+1) = 02-28 23:00Z; 04-01 00:00 CEST (+2) = 03-31 22:00Z:
    # one hour short of 31 days.
    march = month(2026, 3, BERLIN)
    assert march == Period("2026-03", utc("2026-02-28T23:00"), utc("2026-03-31T22:00"))
    assert march.end - march.start == 31 * DAY - HOUR
    # October 2026: 10-01 00:00 CEST = 09-30 22:00Z; 11-01 00:00 CET = 10-31 23:00Z: one hour more.
    october = month(2026, 10, BERLIN)
    assert october == Period("2026-10", utc("2026-09-30T22:00"), utc("2026-10-31T23:00"))
    assert october.end - october.start == 31 * DAY + HOUR
    assert shift(october, BERLIN, 1).start == october.end


# --- one-off windows -------------------------------------------------------------------------------

NOVEMBER = month(2026, 11, SHANGHAI)  # [2026-10-31T16:00Z, 2026-11-30T16:00Z)


def test_one_off_window_clipped_to_the_period() -> None:
    # 2026-10-31 22:00 +08 = 14:00Z; 2026-11-01 03:00 +08 = 2026-10-31 19:00Z. November starts at 16:00Z.
    w = window(start="2026-10-31T22:00:00", end="2026-11-01T03:00:00")
    assert window_spans(w, NOVEMBER.start, NOVEMBER.end, SHANGHAI) == [span("2026-10-31T16:00", "2026-10-31T19:00")]
    # The same window seen from October: 14:00Z until October ends at 16:00Z.
    october = month(2026, 10, SHANGHAI)
    assert window_spans(w, october.start, october.end, SHANGHAI) == [span("2026-10-31T14:00", "2026-10-31T16:00")]


def test_one_off_window_clipped_at_the_end() -> None:
    # 2026-11-30 22:00 +08 = 14:00Z, until 2026-12-01 06:00 +08 = 2026-11-30 22:00Z; November ends 16:00Z.
    w = window(start="2026-11-30T22:00:00", end="2026-12-01T06:00:00")
    assert window_spans(w, NOVEMBER.start, NOVEMBER.end, SHANGHAI) == [span("2026-11-30T14:00", "2026-11-30T16:00")]


def test_one_off_window_outside_or_touching_the_period() -> None:
    # Ends exactly when November starts (2026-11-01 00:00 +08): no overlap.
    touching = window(start="2026-10-31T22:00:00", end="2026-11-01T00:00:00")
    assert window_spans(touching, NOVEMBER.start, NOVEMBER.end, SHANGHAI) == []
    # Starts exactly when November ends (2026-12-01 00:00 +08).
    after = window(start="2026-12-01T00:00:00", end="2026-12-01T02:00:00")
    assert window_spans(after, NOVEMBER.start, NOVEMBER.end, SHANGHAI) == []
    long_ago = window(start="2025-11-10T00:00:00", end="2025-11-10T02:00:00")
    assert window_spans(long_ago, NOVEMBER.start, NOVEMBER.end, SHANGHAI) == []


def test_one_off_window_covering_the_whole_period() -> None:
    w = window(start="2026-10-01T00:00:00", end="2027-01-01T00:00:00")
    assert window_spans(w, NOVEMBER.start, NOVEMBER.end, SHANGHAI) == [(NOVEMBER.start, NOVEMBER.end)]


def test_naive_times_use_the_default_zone() -> None:
    w = window(start="2026-11-10T10:00:00", end="2026-11-10T12:00:00")
    # Shanghai: 10:00 +08 = 02:00Z.
    assert window_spans(w, NOVEMBER.start, NOVEMBER.end, SHANGHAI) == [span("2026-11-10T02:00", "2026-11-10T04:00")]
    # Same window, agent configured for UTC.
    assert window_spans(w, NOVEMBER.start, NOVEMBER.end, UTC) == [span("2026-11-10T10:00", "2026-11-10T12:00")]


def test_naive_times_use_the_windows_zone() -> None:
    # Europe/Berlin on 10 November is CET (+1): 10:00 = 09:00Z. The default zone is ignored.
    w = window(start="2026-11-10T10:00:00", end="2026-11-10T12:00:00", timezone="Europe/Berlin")
    assert window_spans(w, NOVEMBER.start, NOVEMBER.end, SHANGHAI) == [span("2026-11-10T09:00", "2026-11-10T11:00")]


def test_aware_times_are_taken_as_written() -> None:
    # +08:00 given explicitly: 10:00+08 = 02:00Z, whatever the window's or the default zone.
    w = window(start="2026-11-10T10:00:00+08:00", end="2026-11-10T12:00:00+08:00", timezone="Europe/Berlin")
    assert window_spans(w, NOVEMBER.start, NOVEMBER.end, UTC) == [span("2026-11-10T02:00", "2026-11-10T04:00")]


# --- recurring windows ------------------------------------------------------------------------------


def test_weekly_rrule_across_a_month() -> None:
    # 2026-01-04 is a Sunday. The Sundays of November 2026 are the 1st, 8th, 15th, 22nd and 29th
    # (1 November is day 305 of the year, 301 = 43 * 7 days after 4 January).
    # 02:00-04:00 +08 on a Sunday = 18:00-20:00Z on the Saturday before.
    w = window(rrule="FREQ=WEEKLY;BYDAY=SU", dtstart="2026-01-04T02:00:00", duration="2h", timezone="Asia/Shanghai")
    assert window_spans(w, NOVEMBER.start, NOVEMBER.end, UTC) == [
        span("2026-10-31T18:00", "2026-10-31T20:00"),  # Sun 1 Nov, 02:00 local: inside November in Shanghai
        span("2026-11-07T18:00", "2026-11-07T20:00"),
        span("2026-11-14T18:00", "2026-11-14T20:00"),
        span("2026-11-21T18:00", "2026-11-21T20:00"),
        span("2026-11-28T18:00", "2026-11-28T20:00"),
    ]


def test_rrule_occurrence_starting_before_the_period() -> None:
    # Last day of each month, 23:00-01:00 +08. 31 Oct 23:00 +08 = 15:00Z, until 17:00Z; November
    # starts at 16:00Z, so one hour of it falls in November. 30 Nov 23:00 +08 = 15:00Z; November
    # ends at 16:00Z, so one hour of that occurrence is November's, the other December's.
    w = window(rrule="FREQ=MONTHLY;BYMONTHDAY=-1", dtstart="2026-01-31T23:00:00", duration="2h")
    assert window_spans(w, NOVEMBER.start, NOVEMBER.end, SHANGHAI) == [
        span("2026-10-31T16:00", "2026-10-31T17:00"),
        span("2026-11-30T15:00", "2026-11-30T16:00"),
    ]


def test_rrule_occurrence_at_the_period_end_is_excluded() -> None:
    # 1st of each month 00:00-01:00 +08: 1 Nov = 2026-10-31 16:00-17:00Z is in; 1 Dec 00:00 +08 is
    # November's end instant and belongs to December.
    w = window(rrule="FREQ=MONTHLY;BYMONTHDAY=1", dtstart="2026-01-01T00:00:00", duration="1h")
    assert window_spans(w, NOVEMBER.start, NOVEMBER.end, SHANGHAI) == [span("2026-10-31T16:00", "2026-10-31T17:00")]


def test_rrule_before_dtstart_yields_nothing() -> None:
    w = window(rrule="FREQ=WEEKLY;BYDAY=SU", dtstart="2027-01-03T02:00:00", duration="2h")
    assert window_spans(w, NOVEMBER.start, NOVEMBER.end, SHANGHAI) == []


def test_rrule_count_limits_occurrences() -> None:
    # Two Sundays from 1 Nov: 1 Nov and 8 Nov, 02:00 +08 = Saturday 18:00Z.
    w = window(rrule="FREQ=WEEKLY;BYDAY=SU;COUNT=2", dtstart="2026-11-01T02:00:00", duration="2h")
    assert window_spans(w, NOVEMBER.start, NOVEMBER.end, SHANGHAI) == [
        span("2026-10-31T18:00", "2026-10-31T20:00"),
        span("2026-11-07T18:00", "2026-11-07T20:00"),
    ]


# UNTIL: 1-4 January 2026 daily at 02:00 +08 (= 18:00Z the day before). January in Shanghai runs
# from 2025-12-31 16:00Z to 2026-01-31 16:00Z, so all of these fall in January.
JAN_1_TO_4 = [
    span("2025-12-31T18:00", "2025-12-31T19:00"),  # Thu 1 Jan 02:00 +08
    span("2026-01-01T18:00", "2026-01-01T19:00"),  # Fri 2 Jan
    span("2026-01-02T18:00", "2026-01-02T19:00"),  # Sat 3 Jan
    span("2026-01-03T18:00", "2026-01-03T19:00"),  # Sun 4 Jan
]


@pytest.mark.parametrize(
    "rule",
    [
        # Local wall-clock UNTIL: 5 Jan 00:00 local, so 5 Jan 02:00 is after it.
        "FREQ=DAILY;UNTIL=20260105T000000",
        # Date-only UNTIL: the same instant, 5 Jan 00:00 local.
        "FREQ=DAILY;UNTIL=20260105",
        # UTC UNTIL: 2026-01-03 18:00Z = 4 Jan 02:00 +08, which is itself an occurrence and UNTIL is
        # inclusive (RFC 5545). Read as local 3 Jan 18:00 it would stop a day early (3 spans).
        "FREQ=DAILY;UNTIL=20260103T180000Z",
    ],
)
def test_rrule_until_ends_the_window(rule: str) -> None:
    w = window(rrule=rule, dtstart="2026-01-01T02:00:00", duration="1h", timezone="Asia/Shanghai")
    january, february, march = (month(2026, m, SHANGHAI) for m in (1, 2, 3))
    assert window_spans(w, january.start, january.end, SHANGHAI) == JAN_1_TO_4
    assert window_spans(w, february.start, february.end, SHANGHAI) == []
    assert window_spans(w, march.start, march.end, SHANGHAI) == []


def test_rrule_utc_until_one_second_early_drops_the_last_occurrence() -> None:
    # 2026-01-03 17:59:59Z = 4 Jan 01:59:59 +08, one second before the 4 Jan occurrence.
    w = window(rrule="FREQ=DAILY;UNTIL=20260103T175959Z", dtstart="2026-01-01T02:00:00", duration="1h",
               timezone="Asia/Shanghai")
    january = month(2026, 1, SHANGHAI)
    assert window_spans(w, january.start, january.end, SHANGHAI) == JAN_1_TO_4[:3]


@pytest.mark.parametrize("rule", ["FREQ=WEEKLY;BYDAY=SU;UNTIL=20261115T000000",
                                  "FREQ=WEEKLY;BYDAY=SU;UNTIL=20261114T160000Z"])  # both 15 Nov 00:00 +08
def test_rrule_until_across_months(rule: str) -> None:
    # Sundays 02:00-04:00 +08 from 4 Oct 2026 until 15 Nov 00:00 local: October has 4, 11, 18 and
    # 25 Oct; November only 1 and 8 Nov (15 Nov 02:00 is after UNTIL); December none.
    # 02:00 +08 on a Sunday = 18:00Z on the Saturday before.
    w = window(rrule=rule, dtstart="2026-10-04T02:00:00", duration="2h", timezone="Asia/Shanghai")
    october, december = month(2026, 10, SHANGHAI), month(2026, 12, SHANGHAI)
    assert window_spans(w, october.start, october.end, SHANGHAI) == [
        span("2026-10-03T18:00", "2026-10-03T20:00"),
        span("2026-10-10T18:00", "2026-10-10T20:00"),
        span("2026-10-17T18:00", "2026-10-17T20:00"),
        span("2026-10-24T18:00", "2026-10-24T20:00"),
    ]
    assert window_spans(w, NOVEMBER.start, NOVEMBER.end, SHANGHAI) == [
        span("2026-10-31T18:00", "2026-10-31T20:00"),
        span("2026-11-07T18:00", "2026-11-07T20:00"),
    ]
    assert window_spans(w, december.start, december.end, SHANGHAI) == []


def test_rrule_until_far_beyond_the_period_still_repeats() -> None:
    # UNTIL later than the period does not cut it short: every Sunday of November (1, 8, 15, 22, 29).
    w = window(rrule="FREQ=WEEKLY;BYDAY=SU;UNTIL=20301231T000000", dtstart="2026-01-04T02:00:00", duration="2h",
               timezone="Asia/Shanghai")
    assert len(window_spans(w, NOVEMBER.start, NOVEMBER.end, SHANGHAI)) == 5


def test_rrule_count_across_months() -> None:
    # Five days from Thu 29 Jan 2026, 02:00-03:00 +08 (= 18:00Z the day before): 29, 30, 31 Jan in
    # January; 1 and 2 Feb in February; nothing in March. February in Shanghai starts 2026-01-31 16:00Z.
    w = window(rrule="FREQ=DAILY;COUNT=5", dtstart="2026-01-29T02:00:00", duration="1h", timezone="Asia/Shanghai")
    january, february, march = (month(2026, m, SHANGHAI) for m in (1, 2, 3))
    assert window_spans(w, january.start, january.end, SHANGHAI) == [
        span("2026-01-28T18:00", "2026-01-28T19:00"),
        span("2026-01-29T18:00", "2026-01-29T19:00"),
        span("2026-01-30T18:00", "2026-01-30T19:00"),
    ]
    assert window_spans(w, february.start, february.end, SHANGHAI) == [
        span("2026-01-31T18:00", "2026-01-31T19:00"),
        span("2026-02-01T18:00", "2026-02-01T19:00"),
    ]
    assert window_spans(w, march.start, march.end, SHANGHAI) == []


@pytest.mark.parametrize(
    ("year", "month_", "expected"),
    [
        # 1 Nov 2026 is a Sunday: 02:00 +08 = 2026-10-31 18:00Z.
        (2026, 11, span("2026-10-31T18:00", "2026-10-31T20:00")),
        # 1 Dec 2026 is a Tuesday (30 days after Sunday 1 Nov), so the first Sunday is 6 Dec.
        (2026, 12, span("2026-12-05T18:00", "2026-12-05T20:00")),
        # 1 Jan 2027 is a Friday (31 days after Tuesday 1 Dec); first Sunday 3 Jan.
        (2027, 1, span("2027-01-02T18:00", "2027-01-02T20:00")),
    ],
)
def test_first_sunday_monthly_window(year: int, month_: int, expected: tuple[float, float]) -> None:
    # The carriers' change window of examples/center.yaml.
    w = window(rrule="FREQ=MONTHLY;BYDAY=1SU", dtstart="2026-01-04T02:00:00", duration="2h", timezone="Asia/Shanghai")
    period = month(year, month_, SHANGHAI)
    assert window_spans(w, period.start, period.end, SHANGHAI) == [expected]


def test_dst_zone_keeps_wall_clock_time_in_spring() -> None:
    # Sundays 03:00-04:00 Berlin time. 03:00 exists exactly once on both change days (on 29 March
    # clocks jump 02:00 -> 03:00; on 25 October they fall back 03:00 -> 02:00, so 02:xx happens
    # twice but 03:00 once), unlike 02:30 which is missing in spring and doubled in autumn.
    # The Sundays of March 2026 are 1, 8, 15, 22, 29 (1 March is day 60; 56 days after 4 January).
    w = window(rrule="FREQ=WEEKLY;BYDAY=SU", dtstart="2026-03-01T03:00:00", duration="1h", timezone="Europe/Berlin")
    march = month(2026, 3, BERLIN)  # [2026-02-28T23:00Z, 2026-03-31T22:00Z)
    assert window_spans(w, march.start, march.end, SHANGHAI) == [
        span("2026-03-01T02:00", "2026-03-01T03:00"),  # 03:00 CET (+1)
        span("2026-03-08T02:00", "2026-03-08T03:00"),
        span("2026-03-15T02:00", "2026-03-15T03:00"),
        span("2026-03-22T02:00", "2026-03-22T03:00"),
        span("2026-03-29T01:00", "2026-03-29T02:00"),  # 03:00 CEST (+2), two hours after the change at 01:00Z
    ]


def test_dst_zone_keeps_wall_clock_time_in_autumn() -> None:
    # October 2026: 1 October is a Thursday (31 days before Sunday 1 November); Sundays 4, 11, 18, 25.
    w = window(rrule="FREQ=WEEKLY;BYDAY=SU", dtstart="2026-03-01T03:00:00", duration="1h", timezone="Europe/Berlin")
    october = month(2026, 10, BERLIN)  # [2026-09-30T22:00Z, 2026-10-31T23:00Z)
    assert window_spans(w, october.start, october.end, UTC) == [
        span("2026-10-04T01:00", "2026-10-04T02:00"),  # 03:00 CEST (+2)
        span("2026-10-11T01:00", "2026-10-11T02:00"),
        span("2026-10-18T01:00", "2026-10-18T02:00"),
        span("2026-10-25T02:00", "2026-10-25T03:00"),  # 03:00 CET (+1), one hour after the change at 01:00Z
    ]


def test_duration_is_elapsed_time_across_a_dst_change() -> None:
    # 29 March 2026, 01:30 CET (+1) = 00:30Z; two elapsed hours end at 02:30Z = 04:30 CEST, not 03:30.
    w = window(rrule="FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", dtstart="2026-03-29T01:30:00", duration="2h",
               timezone="Europe/Berlin")
    march = month(2026, 3, BERLIN)
    assert window_spans(w, march.start, march.end, BERLIN) == [span("2026-03-29T00:30", "2026-03-29T02:30")]


def test_occurrence_before_an_end_inside_the_repeated_hour() -> None:
    # Sunday 25 October 2026, Berlin falls back at 01:00Z (03:00 CEST -> 02:00 CET). The window
    # starts at 02:45 local; zoneinfo takes the first 02:45 (CEST, fold=0) = 00:45Z, until 01:45Z.
    # The period ends at 01:30Z = 02:30 CET, the second 02:30: the window has been running for 45
    # minutes, but 02:45 > 02:30 in wall-clock terms.
    w = window(rrule="FREQ=WEEKLY;BYDAY=SU", dtstart="2026-10-04T02:45:00", duration="1h", timezone="Europe/Berlin")
    assert window_spans(w, utc("2026-10-25T00:00"), utc("2026-10-25T01:30"), BERLIN) == [
        span("2026-10-25T00:45", "2026-10-25T01:30")
    ]


def test_aware_dtstart_is_converted_to_the_windows_zone() -> None:
    # dtstart 2026-11-01 02:00 +08:00 = 2026-10-31 18:00Z = 19:00 CET on Saturday 31 October in
    # Berlin, so the rule repeats at 19:00 Berlin time each Saturday: 18:00Z in November (CET).
    w = window(rrule="FREQ=WEEKLY", dtstart="2026-11-01T02:00:00+08:00", duration="1h", timezone="Europe/Berlin")
    assert window_spans(w, NOVEMBER.start, NOVEMBER.end, SHANGHAI) == [
        span(f"2026-{day}T18:00", f"2026-{day}T19:00") for day in ("10-31", "11-07", "11-14", "11-21", "11-28")
    ]


# --- which windows apply to a link group ----------------------------------------------------------


def of_group(group: str | None) -> tuple[tuple[str, str], ...]:
    """The scope of a link group as a whole (no link of it): its name under link_groups."""
    return (("link_groups", group),) if group is not None else ()


WINDOWS = [
    # Global: 2026-11-10 01:00-03:00 +08 = 2026-11-09 17:00-19:00Z.
    window(name="global", start="2026-11-10T01:00:00", end="2026-11-10T03:00:00"),
    # Egress only, overlapping the global one: 02:00-05:00 +08 = 18:00-21:00Z.
    window(name="egress", link_groups=["internet_egress"], start="2026-11-10T02:00:00", end="2026-11-10T05:00:00"),
    # Mobile office only: 2026-11-20 00:00-01:00 +08 = 2026-11-19 16:00-17:00Z.
    window(name="mobile", link_groups=["mobile_office"], start="2026-11-20T00:00:00", end="2026-11-20T01:00:00"),
    # Both groups: 2026-11-25 12:00-13:00 +08 = 04:00-05:00Z.
    window(name="both", link_groups=["internet_egress", "mobile_office"], start="2026-11-25T12:00:00",
           end="2026-11-25T13:00:00"),
]


def test_group_windows_merge_with_global_ones() -> None:
    assert maintenance_spans(WINDOWS, of_group("internet_egress"), NOVEMBER.start, NOVEMBER.end, SHANGHAI) == [
        span("2026-11-09T17:00", "2026-11-09T21:00"),  # global 17-19Z and egress 18-21Z merged
        span("2026-11-25T04:00", "2026-11-25T05:00"),
    ]


def test_other_groups_windows_do_not_apply() -> None:
    assert maintenance_spans(WINDOWS, of_group("mobile_office"), NOVEMBER.start, NOVEMBER.end, SHANGHAI) == [
        span("2026-11-09T17:00", "2026-11-09T19:00"),
        span("2026-11-19T16:00", "2026-11-19T17:00"),
        span("2026-11-25T04:00", "2026-11-25T05:00"),
    ]


@pytest.mark.parametrize("group", [None, "access_links"])
def test_only_global_windows_for_no_or_an_unlisted_group(group: str | None) -> None:
    assert maintenance_spans(WINDOWS, of_group(group), NOVEMBER.start, NOVEMBER.end, SHANGHAI) == [
        span("2026-11-09T17:00", "2026-11-09T19:00"),
    ]


def test_maintenance_spans_merges_recurring_and_one_off() -> None:
    windows = [
        # Sundays 02:00-04:00 +08 = Saturdays 18:00-20:00Z.
        window(rrule="FREQ=WEEKLY;BYDAY=SU", dtstart="2026-11-01T02:00:00", duration="2h"),
        # Sunday 8 Nov 03:00-06:00 +08 = Saturday 7 Nov 19:00-22:00Z: extends that Sunday's window.
        window(start="2026-11-08T03:00:00", end="2026-11-08T06:00:00"),
    ]
    spans = maintenance_spans(windows, of_group("internet_egress"), NOVEMBER.start, NOVEMBER.end, SHANGHAI)
    assert spans[:3] == [
        span("2026-10-31T18:00", "2026-10-31T20:00"),
        span("2026-11-07T18:00", "2026-11-07T22:00"),
        span("2026-11-14T18:00", "2026-11-14T20:00"),
    ]
    assert len(spans) == 5


def test_no_windows() -> None:
    assert maintenance_spans([], of_group("internet_egress"), NOVEMBER.start, NOVEMBER.end, SHANGHAI) == []
