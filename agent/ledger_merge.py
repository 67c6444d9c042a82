"""Several shards' ledgers read as one, for a report of the whole fleet.

Each shard writes its own targets' series, so their ledgers hold disjoint
series and the union of their segments is the fleet's. A series found in more
than one ledger (a target that moved when shards were added) keeps each
ledger's segments, in time order. Records that are not series (the SMS
store's per-gateway counts and covered spans) are read from every ledger and
added up by their reader (collectors/sms/kpi.py).
"""

from __future__ import annotations

import sqlite3
from typing import Callable, Sequence, TypeVar

from agent.kpi_types import SegmentSums
from agent.ledger import Ledger
from agent.sli import Segment

T = TypeVar("T")


class MergedLedger(SegmentSums):
    def __init__(self, ledgers: Sequence[Ledger]):
        self._ledgers = list(ledgers)

    def segments(self, names: Sequence[str], start: float, end: float) -> dict[str, list[Segment]]:
        merged: dict[str, list[Segment]] = {name: [] for name in names}
        for ledger in self._ledgers:
            known = [name for name in names if ledger.knows(name)]
            for name, found in ledger.segments(known, start, end).items():
                merged[name].extend(found)
        for name, found in merged.items():
            found.sort(key=lambda segment: segment[0])
        return merged

    def having(self, names: Sequence[str], start: float, end: float, *, below: float | None = None,
               at_least: float | None = None) -> set[str]:
        return {name for ledger in self._ledgers
                for name in ledger.having([n for n in names if ledger.knows(n)], start, end, below=below,
                                          at_least=at_least)}

    def read_each(self, work: Callable[[sqlite3.Connection], T]) -> list[T]:
        """``work`` on each ledger: records (the SMS store) that the reader adds up itself."""
        return [ledger.read(work) for ledger in self._ledgers]

    def close(self) -> None:
        for ledger in self._ledgers:
            ledger.close()
