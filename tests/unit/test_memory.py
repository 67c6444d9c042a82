"""Process-wide memory settings (agent/memory.py)."""

from __future__ import annotations

import gc

from agent import memory


def test_settle_gc_freezes_what_exists_and_raises_the_thresholds():
    before = gc.get_threshold()
    try:
        memory.settle_gc()
        assert gc.get_threshold() == memory.GC_THRESHOLDS
        assert gc.get_freeze_count() > 0  # the objects alive now are out of every collection
        assert gc.isenabled()  # cycles made later are still collected
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
