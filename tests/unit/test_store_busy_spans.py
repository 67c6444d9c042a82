"""Which stretches of a range the store-based export asks for (agent/export/prometheus_source.busy_spans)."""

from agent.export.prometheus_source import busy_spans


def test_a_window_with_samples_and_the_one_after_it_are_asked_for():
    # Windows of 100 s ending at 100, 200, ...: samples in (300, 400] only.
    assert busy_spans([400.0], 100.0, 0.0, 1000.0) == [(300.0, 500.0)]


def test_adjacent_busy_windows_merge_and_distant_ones_stay_apart():
    assert busy_spans([200.0, 300.0, 800.0], 100.0, 0.0, 1000.0) == [(100.0, 400.0), (700.0, 900.0)]


def test_spans_are_clipped_to_the_range():
    # The window ending at the range's start holds samples before it: their lookback reaches into it.
    assert busy_spans([0.0, 1100.0], 100.0, 0.0, 1000.0) == [(0.0, 100.0), (1000.0, 1000.0)]
    assert busy_spans([], 100.0, 0.0, 1000.0) == []


def test_unsorted_window_ends_give_the_same_spans():
    assert busy_spans([800.0, 200.0, 300.0], 100.0, 0.0, 1000.0) == busy_spans([200.0, 300.0, 800.0], 100.0, 0.0, 1000.0)
