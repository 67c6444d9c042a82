"""Properties of the interval arithmetic: classes add up to the period, months and maintenance split exactly.

The hand-worked cases live in test_sli.py, test_periods.py and test_kpi.py;
here hypothesis draws timelines (up, down, unknown, gaps), maintenance and
periods, and each result is checked against a second-by-second count (on
whole seconds, where that count is exact) or against the same range taken
whole (months).
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from agent import periods, sli
from agent.config import MaintenanceWindow, parse_config
from agent.kpi import KpiEngine
from agent.kpi_types import SegmentSums
from collectors.snmp.series import link_up

SH = ZoneInfo("Asia/Shanghai")
VALUES = {"up": 1.0, "down": 0.0, "unknown": None}
LINKS = ("a", "b", "c")
BASE = 1_800_000_000  # whole seconds from here: 2027-01-15


@st.composite
def timelines(draw, lo: int = 0, hi: int = 1000) -> list[sli.Segment]:
    """Non-overlapping segments on whole seconds in [lo, hi], some stretches left as gaps."""
    cuts = sorted(set(draw(st.lists(st.integers(lo, hi), min_size=2, max_size=12))))
    kinds = draw(st.lists(st.sampled_from([*VALUES, "gap"]), min_size=len(cuts) - 1, max_size=len(cuts) - 1))
    return [(a, b, VALUES[k]) for (a, b), k in zip(zip(cuts, cuts[1:]), kinds) if k != "gap"]


spans = st.lists(st.tuples(st.integers(-100, 1100), st.integers(0, 300)).map(lambda t: (t[0], t[0] + t[1])),
                 max_size=5)


def by_second(segments: list[sli.Segment], start: int, end: int, masks: list[sli.Span]) -> sli.Totals:
    """The classes counted one second at a time: the oracle for whole-second inputs."""
    good = bad = unknown = maintenance = 0
    for t in range(start, end):
        if any(a <= t < b for a, b in masks):
            maintenance += 1
            continue
        value = next((v for a, b, v in segments if a <= t < b), None)
        if value is None:
            unknown += 1
        elif sli.is_up(value):
            good += 1
        else:
            bad += 1
    return sli.Totals(good, bad, unknown, maintenance)


@given(timelines(), st.integers(0, 1000), st.integers(0, 1000), spans)
def test_classes_are_exactly_the_seconds_of_each_kind(segments, a, b, masks):
    start, end = min(a, b), max(a, b)
    totals = sli.classify(segments, start, end, sli.merge(masks), sli.is_up)
    assert totals == by_second(segments, start, end, masks)
    assert totals.good + totals.bad + totals.unknown + totals.maintenance == end - start


@st.composite
def months_of_data(draw):
    """A range of up to 100 days from 2024 to 2027, a timeline over it, and maintenance windows."""
    start = draw(st.floats(datetime(2024, 1, 1, tzinfo=SH).timestamp(), datetime(2027, 12, 1, tzinfo=SH).timestamp()))
    end = start + draw(st.floats(0, 100 * 86400.0))
    fractions = sorted(draw(st.lists(st.floats(0, 1), min_size=2, max_size=20)))
    cuts = [start + f * (end - start) for f in fractions]
    kinds = draw(st.lists(st.sampled_from([*VALUES, "gap"]), min_size=len(cuts) - 1, max_size=len(cuts) - 1))
    segments = [(a, b, VALUES[k]) for (a, b), k in zip(zip(cuts, cuts[1:]), kinds) if k != "gap" and b > a]
    hour, minutes = draw(st.integers(0, 23)), draw(st.integers(10, 600))
    freq = draw(st.sampled_from(["DAILY", "WEEKLY;BYDAY=SU", "MONTHLY;BYDAY=1SU"]))
    one_off = datetime.fromtimestamp(start + draw(st.floats(0, 1)) * (end - start), SH).replace(microsecond=0)
    windows = [
        MaintenanceWindow(name="recurring", rrule=f"FREQ={freq}", dtstart=datetime(2023, 12, 31, hour),
                          duration=minutes * 60.0),
        MaintenanceWindow(name="one-off", start=one_off, end=one_off.replace(year=one_off.year + 1, day=1)
                          if one_off.month == 12 else one_off.replace(month=one_off.month + 1, day=1)),
    ]
    return start, end, segments, windows


def classify_range(segments, start, end, windows):
    return sli.classify(segments, start, end, periods.maintenance_spans(windows, (), start, end, SH), sli.is_up)


@settings(max_examples=60, deadline=None)
@given(months_of_data())
def test_months_split_a_range_exactly_with_maintenance(data):
    start, end, segments, windows = data
    whole = classify_range(segments, start, end, windows)
    parts = sli.Totals()
    period = periods.month_containing(start, SH)
    for _ in range(6):  # 100 days touch at most 5 calendar months
        if period.start >= end:
            break
        parts = parts + classify_range(segments, max(start, period.start), min(end, period.end), windows)
        period = periods.shift(period, SH, 1)
    assert period.start >= end
    for name in ("good", "bad", "unknown", "maintenance"):
        assert abs(getattr(parts, name) - getattr(whole, name)) < 1e-3, name
    assert abs(whole.good + whole.bad + whole.unknown + whole.maintenance - (end - start)) < 1e-3


class Timelines(SegmentSums):
    """A LedgerReader over fixed segments."""

    def __init__(self, by_series: dict[str, list[sli.Segment]]):
        self._by_series = by_series

    def segments(self, names, start, end):
        return {n: sli.clip(self._by_series.get(n, []), start, end) for n in names}


def _utc(offset: int) -> str:
    return datetime.fromtimestamp(BASE + offset, timezone.utc).isoformat()


scopes = st.one_of(
    st.just({}),  # global
    st.just({"link_groups": ["g"]}),
    st.lists(st.sampled_from(LINKS), min_size=1, max_size=3, unique=True).map(lambda links: {"links": links}),
)
windows_ = st.lists(st.tuples(scopes, st.integers(0, 900), st.integers(1, 200)), max_size=4)


@settings(max_examples=80, deadline=None)
@given(st.lists(timelines(), min_size=3, max_size=3), windows_, st.integers(1, 1000))
def test_per_link_maintenance_in_summed_link_time(lines, windows, until):
    """Availability's classes are each link's own seconds, with only the windows that apply to that link."""
    config = parse_config({
        "snmp": {"devices": [{"name": "r", "address": "127.0.0.1", "community": "c"}]},
        "link_groups": [{"name": "g", "links": [{"name": n, "device": "r", "if_name": n} for n in LINKS]}],
        "kpis": [{"id": "egress_link_availability", "link_group": "g"}],
        "maintenance": [{"name": f"w{i}", "start": _utc(s), "end": _utc(s + d), **scope}
                        for i, (scope, s, d) in enumerate(windows)],
    }, "property.yaml")
    reader = Timelines({link_up(n): [(BASE + a, BASE + b, v) for a, b, v in line] for n, line in zip(LINKS, lines)})
    (result,) = KpiEngine(config, reader).evaluate_period(periods.Period("p", BASE, BASE + 1000), BASE + until)
    expected = sli.Totals()
    for link, line in zip(LINKS, lines):
        masks = [(s, s + d) for scope, s, d in windows
                 if not scope or "link_groups" in scope or link in scope.get("links", ())]
        expected = expected + by_second(line, 0, until, masks)
    assert result.totals == expected
    assert result.totals.good + result.totals.bad + result.totals.unknown + result.totals.maintenance == 3 * until


def _sum_by_instant(series, start, end):
    """The definition, instant by instant over every boundary: the reference the sweep is checked against."""
    points = sorted({start, end} | {p for segs in series for s, e, _ in sli.clip(segs, start, end) for p in (s, e)})
    out = []
    for a, b in zip(points, points[1:]):
        values = []
        for segs in series:
            covering = [v for s, e, v in segs if s <= a < e]
            values.append(covering[0] if covering else None)
        total = None if any(v is None for v in values) else sum(values)
        if out and out[-1][1] == a and out[-1][2] == total:
            out[-1] = (out[-1][0], b, total)
        else:
            out.append((a, b, total))
    return out


_segments = st.lists(st.tuples(st.integers(0, 50), st.integers(1, 20), st.one_of(st.none(), st.integers(0, 10**10))),
                     max_size=6).map(lambda parts: _chain(parts))


def _chain(parts):
    """Non-overlapping segments from (gap, length, value) triples."""
    out, at = [], 0
    for gap, length, value in parts:
        at += gap
        out.append((float(at), float(at + length), None if value is None else float(value)))
        at += length
    return out


@given(st.lists(_segments, min_size=1, max_size=5), st.integers(0, 40), st.integers(1, 200))
def test_sum_series_equals_the_instant_by_instant_sum(series, start, length):
    assert sli.sum_series(series, float(start), float(start + length)) == _sum_by_instant(series, float(start),
                                                                                            float(start + length))
