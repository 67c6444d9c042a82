"""Process-wide memory settings for a long-running agent."""

from __future__ import annotations

import ctypes
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
