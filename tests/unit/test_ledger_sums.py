"""The ledger's SQL sums equal the Python path over the same segments.

agent/ledger_sums.py adds up a group's up/down seconds and its summed capacity
in SQLite; agent.kpi_types.SegmentSums does it segment by segment through
agent.sli. Hypothesis writes timelines into a real ledger file and the two must
agree: exactly for the sum's segments, to rounding for the seconds.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import sli
from agent.kpi_types import SegmentSums
from agent.ledger import Ledger

SERIES = ("a", "b", "c", "d")


class PythonPath(SegmentSums):
    """The same ledger read segment by segment."""

    def __init__(self, ledger: Ledger):
        self._ledger = ledger

    def segments(self, names, start, end):
        return self._ledger.segments(names, start, end)


@st.composite
def observations(draw, values=st.sampled_from([1.0, 0.0, None, 0.5, 0.2])):
    """(series, value, at, validity) in time order per series, on whole and half seconds."""
    entries = []
    for name in draw(st.lists(st.sampled_from(SERIES), unique=True, max_size=4)):
        at = draw(st.integers(0, 50)) / 2
        for _ in range(draw(st.integers(1, 6))):
            entries.append((name, draw(values), at, draw(st.integers(1, 60)) / 2))
            at += draw(st.integers(1, 80)) / 2
    return entries


def _ledger(tmp_path_factory, entries) -> Ledger:
    ledger = Ledger(tmp_path_factory.mktemp("sums") / "ledger.db")
    for entry in entries:  # one record per observation, as polls arrive
        ledger.record([entry])
    return ledger


WINDOW = st.tuples(st.integers(-20, 200), st.integers(0, 250)).map(lambda t: (t[0] / 2, (t[0] + t[1]) / 2))
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(observations(), WINDOW, st.lists(st.sampled_from((*SERIES, "never-written")), unique=True))
def test_state_seconds_equal_the_python_path(tmp_path_factory, entries, window, names):
    ledger = _ledger(tmp_path_factory, entries)
    try:
        fast = ledger.state_seconds(names, *window)
        slow = PythonPath(ledger).state_seconds(names, *window)
        assert fast == pytest.approx(slow, abs=1e-9)
    finally:
        ledger.close()


WHOLE = st.sampled_from([1e9, 2.5e9, 0.0, None, 10.0])
FRACTIONS = st.sampled_from([0.1, 0.2, 1 / 3, 1.0, None])  # not whole: the exact Python sum takes over


@SETTINGS
@given(st.one_of(observations(WHOLE), observations(FRACTIONS)), WINDOW,
       st.lists(st.sampled_from((*SERIES, "never-written")), unique=True))
def test_summed_capacity_equals_the_python_sweep_exactly(tmp_path_factory, entries, window, names):
    ledger = _ledger(tmp_path_factory, entries)
    try:
        assert ledger.summed(names, *window) == PythonPath(ledger).summed(names, *window)
    finally:
        ledger.close()


@SETTINGS
@given(observations(), WINDOW, st.lists(st.sampled_from((*SERIES, "never-written")), unique=True),
       st.sampled_from([{"below": 0.5}, {"at_least": 0.5}, {"below": 0.2}]))
def test_having_equals_the_python_path(tmp_path_factory, entries, window, names, bound):
    ledger = _ledger(tmp_path_factory, entries)
    try:
        assert ledger.having(names, *window, **bound) == PythonPath(ledger).having(names, *window, **bound)
    finally:
        ledger.close()


def test_having_by_hand(tmp_path):
    """a down 60-80; b up throughout; c unknown; f a fault series at 1 during 30-40."""
    ledger = Ledger(tmp_path / "ledger.db")
    ledger.record([("a", 1.0, 0.0, 60.0), ("b", 1.0, 0.0, 100.0), ("c", None, 0.0, 100.0), ("f", 0.0, 0.0, 30.0)])
    ledger.record([("a", 0.0, 60.0, 20.0), ("f", 1.0, 30.0, 10.0)])
    assert ledger.having(["a", "b", "c", "never"], 0.0, 100.0, below=0.5) == {"a"}
    assert ledger.having(["a", "b", "c"], 0.0, 60.0, below=0.5) == set()  # a's outage starts at 60
    assert ledger.having(["f", "b"], 0.0, 100.0, at_least=0.5) == {"f", "b"}  # b's 1.0 is >= 0.5 too
    assert ledger.having(["f"], 40.0, 100.0, at_least=0.5) == set()
    ledger.close()


def test_hand_worked_group(tmp_path):
    """Two links over [0, 100): a up 0-60 then down 60-80 then unknown; b up 10-100."""
    ledger = Ledger(tmp_path / "ledger.db")
    ledger.record([("a", 1.0, 0.0, 60.0), ("b", 1.0, 10.0, 90.0)])
    ledger.record([("a", 0.0, 60.0, 20.0)])
    assert ledger.state_seconds(["a", "b", "c"], 0.0, 100.0) == (150.0, 20.0)
    # Capacities 10 and 1e12: the sum is known only while both are.
    ledger.record([("cap-a", 10.0, 0.0, 50.0), ("cap-b", 1e12, 20.0, 80.0)])
    assert ledger.summed(["cap-a", "cap-b"], 0.0, 100.0) == [(0.0, 20.0, None), (20.0, 50.0, 1e12 + 10), (50.0, 100.0, None)]
    assert ledger.summed([], 0.0, 100.0) == []
    ledger.close()


def test_values_too_large_for_sqlite_integers_take_the_python_path(tmp_path):
    ledger = Ledger(tmp_path / "ledger.db")
    huge = float(2**70)
    ledger.record([("x", huge, 0.0, 10.0), ("y", huge, 0.0, 10.0)])
    assert ledger.summed(["x", "y"], 0.0, 10.0) == [(0.0, 10.0, 2 * huge)]
    assert not math.isnan(ledger.summed(["x"], 0.0, 10.0)[0][2])
    ledger.close()
