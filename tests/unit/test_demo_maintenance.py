"""tests/processes.demo_maintenance: the demo's monthly egress window, which the demo tests step around."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.processes import demo_maintenance

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=SH).timestamp()


def test_the_first_sunday_of_a_month_from_two_to_four_in_shanghai():
    # December 2026: the 6th is the first Sunday; the 13th is not a first Sunday.
    assert demo_maintenance(at("2026-12-06T01:00"), at("2026-12-06T05:00")) == 2 * 3600
    assert demo_maintenance(at("2026-12-06T03:30"), at("2026-12-06T03:31")) == 60
    assert demo_maintenance(at("2026-12-06T04:00"), at("2026-12-13T05:00")) == 0
    # January 2027: Sunday the 3rd.
    assert demo_maintenance(at("2027-01-01T00:00"), at("2027-01-31T00:00")) == 2 * 3600
