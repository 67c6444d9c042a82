"""Submit-to-delivery latency histogram: bins, percentiles and Prometheus buckets (pure).

170 million messages a year cannot be kept one by one, so latencies are
counted into logarithmic bins. Bin ``j`` holds latencies in
``(10 s x 2**((j-1)/32), 10 s x 2**(j/32)]``: 32 bins per doubling, each
2.19 % wide. Two properties follow:

* every ``10 s x 2**k`` is a bin edge, exactly (a power of two times 10 000
  ms is exact in binary floating point). The KPI bound of 10 s and the
  Prometheus buckets (0.3125 s ... 640 s, doubling) are therefore counted
  exactly, not estimated;
* a percentile reported as the geometric middle of its bin is within
  2**(1/64) - 1 = 1.09 % of the true nearest-rank value
  (:data:`PERCENTILE_ACCURACY`).

Latencies are integer milliseconds; 0-1 ms share the lowest bin and anything
beyond ~4 months the highest (such a report is far past any grace anyway).
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

BINS_PER_DOUBLING = 32
REFERENCE_MS = 10_000  # 10 s: the KPI bound is the edge between bin 0 and bin 1
MIN_BIN = -425  # upper edge 10 s x 2**(-425/32) ~ 1.0 ms
MAX_BIN = 640  # upper edge 10 s x 2**20 ~ 121 days
PERCENTILE_ACCURACY = 2 ** (1 / (2 * BINS_PER_DOUBLING)) - 1  # 0.0109: relative error bound

# Prometheus buckets (seconds): 10 s x 2**k for k = -5..6, each an exact bin edge.
LE_EXPONENTS = tuple(range(-5, 7))
LE_BOUNDS = tuple(10.0 * 2.0**k for k in LE_EXPONENTS)  # 0.3125, 0.625, ..., 10.0, ..., 640.0


def upper_edge_ms(j: int) -> float:
    """Upper edge of bin ``j`` in milliseconds (exact for multiples of 32)."""
    return REFERENCE_MS * 2.0 ** (j / BINS_PER_DOUBLING)


def bin_of(latency_ms: int) -> int:
    """The bin of a latency in whole milliseconds (negative latencies are the caller's bug)."""
    if latency_ms <= 1:
        return MIN_BIN
    j = math.ceil(BINS_PER_DOUBLING * math.log2(latency_ms / REFERENCE_MS))
    # log2 may land a hair off an edge; settle it against the edges themselves,
    # which are exact where it matters (10 s x 2**k).
    if latency_ms > upper_edge_ms(j):
        j += 1
    elif latency_ms <= upper_edge_ms(j - 1):
        j -= 1
    return max(MIN_BIN, min(MAX_BIN, j))


def bin_middle_seconds(j: int) -> float:
    """The geometric middle of bin ``j`` in seconds: the estimate reported for a percentile."""
    if j <= MIN_BIN:
        return upper_edge_ms(MIN_BIN) / 2000.0
    return upper_edge_ms(j) / 1000.0 * 2.0 ** (-0.5 / BINS_PER_DOUBLING)


def total(bins: Mapping[int, int]) -> int:
    return sum(bins.values())


def percentile(bins: Mapping[int, int], q: float) -> float | None:
    """Nearest-rank ``q`` percentile (0 < q <= 1) in seconds, within PERCENTILE_ACCURACY.

    The nearest-rank value is the smallest latency with at least ``q`` of
    all latencies at or below it; the estimate is the middle of its bin.
    """
    n = total(bins)
    if n <= 0:
        return None
    rank = max(1, math.ceil(q * n - 1e-9))
    seen = 0
    for j in sorted(bins):
        seen += bins[j]
        if seen >= rank:
            return bin_middle_seconds(j)
    return bin_middle_seconds(max(bins))  # unreachable: seen ends at n >= rank


def share_within(bins: Mapping[int, int], seconds: float) -> float | None:
    """Share of latencies at or below ``seconds``: exact when it is 10 s x 2**k.

    For another bound the bins whose upper edge is at or below it count, so
    the share is at most one bin (2.2 %) short.
    """
    n = total(bins)
    if n <= 0:
        return None
    limit = seconds * 1000.0 * (1 + 1e-12)
    return sum(c for j, c in bins.items() if upper_edge_ms(j) <= limit) / n


def le_index(j: int) -> int:
    """Index into LE_BOUNDS of the smallest Prometheus bucket holding bin ``j``; len() for +Inf."""
    for i, k in enumerate(LE_EXPONENTS):
        if j <= k * BINS_PER_DOUBLING:
            return i
    return len(LE_EXPONENTS)


def cumulative(per_le: Iterable[int]) -> list[int]:
    """Running sums of per-bucket counts: the cumulative ``le`` counts Prometheus expects."""
    out: list[int] = []
    running = 0
    for count in per_le:
        running += count
        out.append(running)
    return out
