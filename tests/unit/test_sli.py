"""Hand-worked cases for the pure SLI arithmetic."""

import pytest

from agent import sli
from agent.sli import Totals


def test_merge_joins_overlaps_and_drops_empty():
    assert sli.merge([(5, 7), (0, 2), (1, 3), (3, 3), (9, 8), (6, 10)]) == [(0, 3), (5, 10)]


def test_subtract_masks():
    assert sli.subtract(0, 100, [(10, 20), (50, 60)]) == [(0, 10), (20, 50), (60, 100)]
    assert sli.subtract(0, 100, [(-10, 5), (95, 200)]) == [(5, 95)]
    assert sli.subtract(0, 100, [(-10, 200)]) == []
    assert sli.subtract(30, 40, []) == [(30, 40)]


def test_classify_splits_good_bad_unknown_maintenance():
    # period [0, 1000): up 0-400, down 400-500, unknown 500-600, up 600-900, no data 900-1000.
    segments = [(0, 400, 1.0), (400, 500, 0.0), (500, 600, None), (600, 900, 1.0)]
    # maintenance 450-650 removes 50 s of down, all of the unknown and 50 s of up.
    totals = sli.classify(segments, 0, 1000, [(450, 650)], sli.is_up)
    assert totals == Totals(good=400 + 250, bad=50, unknown=100, maintenance=200)
    assert sli.availability(totals) == pytest.approx(650 / 700)
    assert totals.coverage == pytest.approx(700 / 800)


def test_classify_clips_to_period_and_maintenance_outside_is_ignored():
    segments = [(-50, 50, 0.0), (50, 150, 1.0)]
    totals = sli.classify(segments, 0, 100, [(120, 130), (-20, -10)], sli.is_up)
    assert totals == Totals(good=50, bad=50, unknown=0, maintenance=0)


def test_no_data_is_unknown_not_down():
    totals = sli.classify([], 0, 3600, [], sli.is_up)
    assert totals == Totals(unknown=3600)
    assert sli.availability(totals) is None
    assert totals.coverage == 0.0


def test_totals_add():
    assert Totals(1, 2, 3, 4) + Totals(10, 20, 30, 40) == Totals(11, 22, 33, 44)


def test_sum_series_unknown_when_any_part_unknown():
    a = [(0, 100, 10.0), (100, 200, 0.0)]
    b = [(0, 50, 5.0), (50, 150, None), (150, 200, 5.0)]
    assert sli.sum_series([a, b], 0, 200) == [(0, 50, 15.0), (50, 150, None), (150, 200, 5.0)]


def test_sum_series_uncovered_time_is_unknown_and_equal_neighbours_merge():
    a = [(0, 100, 1.0), (100, 200, 1.0)]
    b = [(0, 150, 2.0)]
    assert sli.sum_series([a, b], 0, 200) == [(0, 150, 3.0), (150, 200, None)]


def test_summarise_gauge_mean_minimum_compliance():
    summed = [(0, 50, 15.0), (50, 150, None), (150, 200, 5.0)]
    summary = sli.summarise_gauge(summed, 0, 200, [], lambda v: v >= 10)
    assert summary.mean == pytest.approx(10.0)
    assert summary.minimum == 5.0
    assert summary.totals == Totals(good=50, bad=50, unknown=100, maintenance=0)
    assert summary.compliance == pytest.approx(0.5)


def test_summarise_gauge_excludes_maintenance_from_mean_and_minimum():
    segments = [(0, 100, 20.0), (100, 110, 0.0), (110, 200, 20.0)]
    summary = sli.summarise_gauge(segments, 0, 200, [(95, 115)], lambda v: v >= 10)
    assert summary.mean == 20.0 and summary.minimum == 20.0
    assert summary.compliance == 1.0
    assert summary.totals.maintenance == 20


def test_summarise_gauge_without_data():
    summary = sli.summarise_gauge([(0, 10, None)], 0, 10, [], lambda v: True)
    assert summary.mean is None and summary.minimum is None and summary.compliance is None
