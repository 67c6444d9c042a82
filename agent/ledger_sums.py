"""Sums over many series computed by SQLite, for the KPI engine's large groups.

The engine's Python path costs about 19 µs per series and evaluation (reading,
clipping and classifying each series' segments); a group of 12,000 links read
twice every kpi_interval made it the agent's largest cost. A series' segments
never overlap, so the seconds a group was up or down, and the changes of its
summed capacity, are aggregates SQLite computes in C. Both functions give
exactly what agent.sli computes from the same segments (tests/unit/test_ledger_sums.py
compares them); the caller keeps the Python path for series with maintenance.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Sequence

from agent.sli import Events

# The segments of the series listed in the JSON array :ids overlapping [:s, :e), known ones only.
# json_each: one parameter for any number of series (SQLite limits bound variables).
_PICKED = """
SELECT MAX(start, :s) AS a, MIN("end", :e) AS b, value AS v FROM segments
WHERE series_id IN (SELECT value FROM json_each(:ids))
  AND start < :e AND "end" > :s AND "end" > start AND value IS NOT NULL
"""

_STATE_SECONDS = f"""
WITH picked AS ({_PICKED})
SELECT TOTAL(CASE WHEN v >= :threshold THEN b - a END), TOTAL(CASE WHEN v < :threshold THEN b - a END) FROM picked
"""

# Integer amounts keep the running sum exact, as agent.sli.sum_series does; a value
# that is not whole (counted in ``fractional``) sends the caller back to Python.
_EVENTS = f"""
WITH picked AS ({_PICKED}),
changes(t, amount, count, fractional) AS (
    SELECT a, CAST(v AS INTEGER), 1, v <> CAST(v AS INTEGER) OR ABS(v) > :largest FROM picked
    UNION ALL
    SELECT b, -CAST(v AS INTEGER), -1, 0 FROM picked
)
SELECT t, SUM(amount), SUM(count), SUM(fractional) FROM changes GROUP BY t
"""

# Whole numbers up to this are exact as doubles; larger ones go to Python's exact sum.
_LARGEST = 2**53


def state_seconds(db: sqlite3.Connection, ids: Sequence[int], start: float, end: float,
                  threshold: float) -> tuple[float, float]:
    """Known seconds in ``[start, end)`` at or above ``threshold`` and below it, summed over ``ids``."""
    if not ids or end <= start:
        return 0.0, 0.0
    good, bad = db.execute(_STATE_SECONDS, {"ids": json.dumps(list(ids)), "s": start, "e": end,
                                            "threshold": threshold}).fetchone()
    return float(good), float(bad)


def sum_events(db: sqlite3.Connection, ids: Sequence[int], start: float, end: float) -> Events | None:
    """The changes of the summed series ``ids`` over ``[start, end)``; None if a value is not a whole number."""
    events: Events = {}
    if not ids or end <= start:
        return events
    try:
        rows = db.execute(_EVENTS, {"ids": json.dumps(list(ids)), "s": start, "e": end,
                                    "largest": _LARGEST}).fetchall()
    except sqlite3.OperationalError as exc:
        if "overflow" in str(exc):  # the sum outgrew 64-bit integers
            return None
        raise
    for at, amount, count, fractional in rows:
        if fractional:
            return None
        events[at] = (int(amount), int(count))
    return events
