"""The latency histogram: exact edges where the KPI and Prometheus need them, bounded percentile error."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.sms import latency


def nearest_rank(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered) - 1e-9)) - 1] / 1000.0


@pytest.mark.parametrize("k", range(-5, 7))
def test_every_prometheus_bound_is_an_exact_bin_edge(k):
    edge_ms = 10_000 * 2**k
    j = latency.bin_of(int(edge_ms)) if edge_ms == int(edge_ms) else None
    if j is not None:
        assert j == 32 * k  # the edge itself is in the bin it closes
        assert latency.bin_of(int(edge_ms) + 1) == 32 * k + 1
    assert latency.upper_edge_ms(32 * k) == edge_ms
    assert latency.LE_BOUNDS[k + 5] == edge_ms / 1000


def test_ten_seconds_is_counted_exactly():
    assert latency.bin_of(10_000) == 0 and latency.bin_of(10_001) == 1 and latency.bin_of(9_999) == 0
    assert latency.share_within({0: 2, 1: 1}, 10.0) == pytest.approx(2 / 3)
    assert latency.le_index(0) == 5 and latency.le_index(1) == 6
    assert latency.le_index(latency.MAX_BIN) == len(latency.LE_BOUNDS)  # +Inf


def test_extremes_are_clamped():
    assert latency.bin_of(0) == latency.MIN_BIN == latency.bin_of(1)
    assert latency.bin_of(10**12) == latency.MAX_BIN
    assert latency.percentile({}, 0.5) is None and latency.share_within({}, 10) is None


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=2, max_value=10**9))
def test_a_latency_lies_in_its_bin(ms):
    j = latency.bin_of(ms)
    assert latency.upper_edge_ms(j - 1) < ms <= latency.upper_edge_ms(j) * (1 + 1e-12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=2, max_value=10**8), min_size=1, max_size=300),
       st.sampled_from([0.5, 0.9, 0.95, 0.99, 1.0]))
def test_percentiles_are_within_the_stated_accuracy(values, q):
    bins: dict[int, int] = {}
    for ms in values:
        bins[latency.bin_of(ms)] = bins.get(latency.bin_of(ms), 0) + 1
    estimate = latency.percentile(bins, q)
    assert estimate == pytest.approx(nearest_rank(values, q), rel=latency.PERCENTILE_ACCURACY)


def test_cumulative():
    assert latency.cumulative([1, 0, 2]) == [1, 1, 3]
