"""The embedded SLA ledger: SQLite (WAL) keeping every series as time segments.

An observation of a series at time ``t`` is taken to hold for ``validity``
seconds (about one poll interval plus slack). Consecutive observations of the
same value extend one segment, so a month of a stable link is one row; a
change closes the segment at ``t``. If no observation arrives within the
validity the segment simply ends, and the gap is unknown time: the ledger
never invents data for the time the agent was not running.

Writes are transactional (one transaction per batch); WAL with
synchronous=NORMAL never corrupts the file on a crash, at worst it loses the
last batches, which then read as unknown.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence, TypeVar

from agent.sli import Segment

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS segments (
    series_id INTEGER NOT NULL REFERENCES series(id),
    start REAL NOT NULL,
    "end" REAL NOT NULL,
    value REAL,
    PRIMARY KEY (series_id, start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated REAL NOT NULL);
"""


T = TypeVar("T")


class LedgerError(Exception):
    """The ledger file cannot be opened or written."""


@dataclass(slots=True)
class _Open:
    """The newest segment of a series, mirrored in memory to avoid a read per write."""

    start: float
    end: float
    value: float | None


class Ledger:
    """Thread-safe access to one ledger file; call from a worker thread in async code."""

    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise LedgerError(f"{path}: written by a newer sla-agent (schema {row[0]})")
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(f"{path}: cannot open ledger: {exc}") from None
        self._lock = threading.Lock()
        self._ids: dict[str, int] = {}
        self._open: dict[int, _Open] = {}
        self._load()

    def _load(self) -> None:
        self._ids = {name: sid for sid, name in self._db.execute("SELECT id, name FROM series")}
        self._open = {
            sid: _Open(start, end, value)
            for sid, start, end, value in self._db.execute(
                'SELECT series_id, start, "end", value FROM segments s '
                "WHERE start = (SELECT MAX(start) FROM segments WHERE series_id = s.series_id)"
            )
        }

    def _series_id(self, name: str) -> int:
        sid = self._ids.get(name)
        if sid is None:
            cur = self._db.execute("INSERT INTO series (name) VALUES (?)", (name,))
            sid = int(cur.lastrowid)  # type: ignore[arg-type]
            self._ids[name] = sid
        return sid

    def record(self, entries: Iterable[tuple[str, float | None, float, float]]) -> None:
        """Record ``(series, value, at, validity)`` observations in one transaction.

        Each value was observed at ``at`` and holds for ``validity`` seconds
        unless a newer observation of the series says otherwise.
        """
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for name, value, at, validity in entries:
                    self._record_one(self._series_id(name), value, at, validity)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self._load()  # the in-memory mirror may be ahead of the file now
                raise LedgerError(f"{self.path}: write failed: {exc}") from None

    def _record_one(self, sid: int, value: float | None, at: float, validity: float) -> None:
        current = self._open.get(sid)
        until = at + validity
        if current is not None and at < current.start:
            return  # an observation older than the newest segment: the clock went back; drop it
        if current is not None and at <= current.end:
            if current.value == value:
                if until > current.end:
                    self._db.execute(
                        'UPDATE segments SET "end"=? WHERE series_id=? AND start=?', (until, sid, current.start)
                    )
                    current.end = until
                return
            if at == current.start:
                # Two different values at one instant: the later observation wins.
                self._db.execute(
                    'UPDATE segments SET value=?, "end"=? WHERE series_id=? AND start=?',
                    (value, until, sid, current.start),
                )
                current.value, current.end = value, until
                return
            self._db.execute('UPDATE segments SET "end"=? WHERE series_id=? AND start=?', (at, sid, current.start))
        self._db.execute("INSERT INTO segments VALUES (?, ?, ?, ?)", (sid, at, until, value))
        self._open[sid] = _Open(at, until, value)

    def segments(self, names: Sequence[str], start: float, end: float) -> dict[str, list[Segment]]:
        """Segments of each series overlapping ``[start, end)``, clipped to it, oldest first."""
        result: dict[str, list[Segment]] = {}
        with self._lock:
            for name in names:
                sid = self._ids.get(name)
                rows = (
                    self._db.execute(
                        'SELECT start, "end", value FROM segments '
                        'WHERE series_id=? AND start < ? AND "end" > ? ORDER BY start',
                        (sid, end, start),
                    ).fetchall()
                    if sid is not None
                    else []
                )
                result[name] = [(max(s, start), min(e, end), v) for s, e, v in rows]
        return result

    def truncate_open(self, at: float) -> None:
        """On a clean stop, end every open segment at ``at`` instead of its validity."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            for sid, current in self._open.items():
                if current.start <= at < current.end:
                    self._db.execute('UPDATE segments SET "end"=? WHERE series_id=? AND start=?', (at, sid, current.start))
                    current.end = at
            self._db.execute("COMMIT")

    def ensure_schema(self, sql: str) -> None:
        """Create a component's own tables (idempotent ``CREATE ... IF NOT EXISTS`` statements)."""
        with self._lock:
            try:
                self._db.executescript(sql)
            except sqlite3.Error as exc:
                raise LedgerError(f"{self.path}: cannot create tables: {exc}") from None

    def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one transaction: all of it is written, or none (LedgerError)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                result = work(self._db)
                self._db.execute("COMMIT")
                return result
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise LedgerError(f"{self.path}: write failed: {exc}") from None

    def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run read-only ``work`` against the ledger."""
        with self._lock:
            try:
                return work(self._db)
            except sqlite3.Error as exc:
                raise LedgerError(f"{self.path}: read failed: {exc}") from None

    def get_cursor(self, name: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM cursors WHERE name=?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_cursor(self, name: str, value: str, at: float) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO cursors VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET value=excluded.value, "
                "updated=excluded.updated",
                (name, value, at),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
