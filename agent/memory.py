"""Process-wide memory settings for a long-running agent."""

from __future__ import annotations

import ctypes
import gc
import ctypes.util
import logging

log = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # glibc's mallopt() parameter
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas (as MALLOC_ARENA_MAX would); False where it does not apply.

    Why: /metrics is formatted on its own thread and the lines it allocates are
    freed by the event loop's thread when a target's next poll lands. With an
    arena per thread, glibc keeps the freed memory in the render thread's arena
    and RSS grows: 606 MB against 472 MB with one arena for the 60,000-link
    benchmark fleet (bench/README.md). Call it before any thread starts.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False


# gen0 allocations between young collections (CPython's default is 700), and the
# counts of younger collections before the older generations are scanned (10, 10).
GC_THRESHOLDS = (20_000, 20, 20)


def settle_gc() -> None:
    """Keep the cyclic garbage collector off the long-lived state, once it is built.

    Why: the agent's heap is mostly state that lives as long as the process
    (the config, request layouts, series names, the ledger's mirror), and the
    samples of each poll live one poll interval, long enough to reach the
    oldest generation. With CPython's defaults the collector rescanned all of it:
    at 500 devices x 24 links it took about 13 % of the agent's CPU, mostly in
    full collections (bench/run, docs/performance.md). Freezing what exists after
    start-up takes it out of every collection; larger thresholds let a poll's
    short-lived objects die before they are promoted. Reference cycles are still
    collected.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
