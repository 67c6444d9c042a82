"""The ledger's record of feed completeness (collectors/sms/coverage.py): covered spans and the run.

``sms_covered`` holds, per gateway, the disjoint spans of feed time known read
without a gap; ``sms_run`` the run the cursor is on. Both are written by
:func:`save` inside the SMS store's transaction of the page (or reset) they come
from, together with that page's records and the cursor: a page that is not
committed claims nothing. A span grows with each page, so a gateway has one row
per gap, not per page.
"""

from __future__ import annotations

import sqlite3
from typing import Iterable

from collectors.sms.coverage import Run, Span, Step

SCHEMA = """
CREATE TABLE IF NOT EXISTS sms_covered (
    gateway TEXT NOT NULL,
    start INTEGER NOT NULL,   -- feed time, ms: every record that entered the feed in [start, end) was read
    "end" INTEGER NOT NULL,
    PRIMARY KEY (gateway, start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sms_run (
    gateway TEXT PRIMARY KEY,
    complete INTEGER,         -- feed time, ms, read without a gap up to here (NULL: not read yet)
    reset INTEGER,            -- agent clock, ms: a reset the re-read has not placed yet
    reset_kind TEXT           -- gone (HTTP 410) or epoch (another feed)
);
"""


def load_run(db: sqlite3.Connection, gateway: str) -> Run:
    row = db.execute("SELECT complete, reset, reset_kind FROM sms_run WHERE gateway=?", (gateway,)).fetchone()
    return Run(*row) if row else Run()


def save(db: sqlite3.Connection, gateway: str, step: Step) -> None:
    """Write ``step`` (the caller's transaction): the run, and its span merged into the covered ones."""
    run = step.run
    db.execute(
        "INSERT INTO sms_run VALUES (?, ?, ?, ?) ON CONFLICT (gateway) DO UPDATE SET complete=excluded.complete, "
        "reset=excluded.reset, reset_kind=excluded.reset_kind",
        (gateway, run.complete_ms, run.reset_ms, run.reset_kind),
    )
    if step.span is not None:
        add_span(db, gateway, step.span)


def add_span(db: sqlite3.Connection, gateway: str, span: Span) -> None:
    """Merge ``span`` with the covered spans it overlaps or touches."""
    start, end = span
    touching = db.execute(
        'SELECT start, "end" FROM sms_covered WHERE gateway=? AND start <= ? AND "end" >= ?', (gateway, end, start)
    ).fetchall()
    for s, e in touching:
        start, end = min(start, s), max(end, e)
    db.execute('DELETE FROM sms_covered WHERE gateway=? AND start <= ? AND "end" >= ?', (gateway, span[1], span[0]))
    db.execute("INSERT INTO sms_covered VALUES (?, ?, ?)", (gateway, start, end))


def covered(db: sqlite3.Connection, gateways: Iterable[str], start: float, end: float) -> dict[str, list[tuple[float, float]]]:
    """Each gateway's covered spans overlapping ``[start, end)`` (Unix seconds), clipped to it, oldest first."""
    names = list(gateways)
    found: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    if not names or end <= start or db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='sms_covered'").fetchone() is None:
        return found
    marks = ",".join("?" * len(names))
    for gateway, s, e in db.execute(
        f'SELECT gateway, start, "end" FROM sms_covered WHERE gateway IN ({marks}) AND start < ? AND "end" > ? '
        "ORDER BY gateway, start",
        (*names, end * 1000, start * 1000),
    ):
        found[gateway].append((max(s / 1000, start), min(e / 1000, end)))
    return found
