"""The stored latency bins (collectors/sms/latency.py) as the report's histogram bars."""

from __future__ import annotations

from typing import Mapping

from collectors.sms.latency import BINS_PER_DOUBLING, MIN_BIN, bin_of, upper_edge_ms

# The latency histogram is drawn with this many of the stored bins (32 per doubling) per bar: a
# bar per quarter doubling (19 % wide), or per doubling when the latencies span too much for that.
HISTOGRAM_GROUPS = (BINS_PER_DOUBLING // 4, BINS_PER_DOUBLING)
HISTOGRAM_BARS = 64


def bars(bins: Mapping[int, int], bound: float | None = None) -> list[tuple[float, float, int]]:
    """Stored latency bins as at most HISTOGRAM_BARS consecutive bars ``(lower, upper, count)`` in seconds.

    Bars are whole groups of bins aligned on 10 s x 2**k, so the 10 s bound (and any bound that is
    10 s x 2**k) is a bar edge and the bars left of it hold exactly the latencies within it.
    Empty bars between the fastest and the slowest message are kept: a histogram shows its gaps.
    The range is widened to take in ``bound``, so the bound is always on the axis.
    """
    counted = {j: n for j, n in bins.items() if n > 0}
    if not counted:
        return []
    low, high = min(counted), max(counted)
    if bound is not None and bound > 0:
        edge = bin_of(round(bound * 1000))
        low, high = min(low, edge), max(high, edge + 1)
    for size in HISTOGRAM_GROUPS:
        first, last = -(-low // size), -(-high // size)  # group g holds the bins (g*size - size, g*size]
        if last - first + 1 <= HISTOGRAM_BARS:
            break
    counts = dict.fromkeys(range(first, last + 1), 0)
    for j, n in counted.items():
        counts[-(-j // size)] += n
    lowest = upper_edge_ms(MIN_BIN - 1)
    return [(max(lowest, upper_edge_ms(g * size - size)) / 1000.0, upper_edge_ms(g * size) / 1000.0, n)
            for g, n in counts.items()]
