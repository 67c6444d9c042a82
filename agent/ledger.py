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

A crash must not credit the time after it: an open segment reaches up to
``validity`` past its last observation, beyond the moment the agent died. So
every batch also moves a *heartbeat* (the latest time a write committed, so
the agent was certainly alive then) and a clean stop leaves a mark. The next
start that finds no mark cuts every open segment back to the heartbeat
(``begin_run``); a clean stop cuts them at the stop time (``end_run``).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from array import array
from pathlib import Path
from typing import Callable, Iterable, Sequence, TypeVar

from agent import ledger_sums, sli
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
-- One row: the newest time a write of the running agent committed, and whether
-- its run ended cleanly (1) or is running / died (0).
CREATE TABLE IF NOT EXISTS liveness (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    heartbeat REAL NOT NULL,
    clean INTEGER NOT NULL
);
"""
# How long a write waits for another connection's lock before it fails (and is retried).
BUSY_TIMEOUT_MS = 5000


T = TypeVar("T")


_IN_CHUNK = 500  # series ids per SELECT ... IN (...), well below SQLite's variable limit


class LedgerError(Exception):
    """The ledger file cannot be opened or written."""


class _Newest:
    """The newest segment of every series, mirrored in memory to avoid a read per write.

    Columns indexed by series id (SQLite rowids, dense from 1): 25 bytes a
    series, where an object with three floats cost about 150 (120,000 series
    for 60,000 links). A value a float cannot hold exactly (NaN, an integer
    beyond 2**53) is kept as given, so comparisons stay what they were.
    """

    _EMPTY, _FLOAT, _NULL, _AS_GIVEN = 0, 1, 2, 3  # what ``kind`` says of a series' value

    def __init__(self) -> None:
        self.start = array("d")
        self.end = array("d")
        self._value = array("d")
        self._kind = bytearray()
        self._as_given: dict[int, object] = {}

    def get(self, sid: int) -> tuple[float, float, float | None] | None:
        """(start, end, value) of series ``sid``'s newest segment, or None if it has none."""
        kind = self._kind[sid] if sid < len(self._kind) else self._EMPTY
        if kind == self._EMPTY:
            return None
        value = self._value[sid] if kind == self._FLOAT else None if kind == self._NULL else self._as_given[sid]
        return self.start[sid], self.end[sid], value  # type: ignore[return-value]

    def set(self, sid: int, start: float, end: float, value: float | None) -> None:
        if sid >= len(self._kind):
            grow = max(sid + 1, 2 * len(self._kind)) - len(self._kind)
            for column in (self.start, self.end, self._value):
                column.frombytes(bytes(8 * grow))
            self._kind.extend(bytes(grow))
        self.start[sid], self.end[sid] = start, end
        self._as_given.pop(sid, None)
        if value is None:
            self._kind[sid] = self._NULL
            return
        try:
            exact = float(value) == value
        except (TypeError, ValueError, OverflowError):
            exact = False
        if exact:
            self._kind[sid], self._value[sid] = self._FLOAT, float(value)
        else:
            self._kind[sid], self._as_given[sid] = self._AS_GIVEN, value

    def has(self, sid: int | None) -> bool:
        return sid is not None and sid < len(self._kind) and self._kind[sid] != self._EMPTY

    def ids(self) -> list[int]:
        """Every series id with a segment."""
        return [sid for sid, kind in enumerate(self._kind) if kind != self._EMPTY]


class Ledger:
    """Thread-safe access to one ledger file; call from a worker thread in async code."""

    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise LedgerError(f"{path}: written by a newer sla-agent (schema {row[0]})")
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(f"{path}: cannot open ledger: {exc}") from None
        self._lock = threading.Lock()
        # Segment ends to write at the end of the batch being recorded: (series id, start) -> end.
        self._extensions: dict[tuple[int, float], float] = {}
        self._ids: dict[str, int] = {}
        self._newest = _Newest()
        self._stale = False  # a failed write may have left the mirror ahead of the file
        self._load()

    def _load(self) -> None:
        self._ids = {name: sid for sid, name in self._db.execute("SELECT id, name FROM series")}
        self._newest = _Newest()
        for sid, start, end, value in self._db.execute(
            'SELECT series_id, start, "end", value FROM segments s '
            "WHERE start = (SELECT MAX(start) FROM segments WHERE series_id = s.series_id)"
        ):
            self._newest.set(sid, start, end, value)

    def _series_id(self, name: str) -> int:
        sid = self._ids.get(name)
        if sid is None:
            cur = self._db.execute("INSERT INTO series (name) VALUES (?)", (name,))
            sid = int(cur.lastrowid)  # type: ignore[arg-type]
            self._ids[name] = sid
        return sid

    def _transact(self, work: Callable[[], T]) -> T:
        """Run ``work`` in one write transaction (the caller holds the lock): all of it, or LedgerError."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            if self._stale:
                self._load()
                self._stale = False
            result = work()
            self._db.execute("COMMIT")
            return result
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # a failed ROLLBACK still leaves the file consistent
                    self._db.execute("ROLLBACK")
            self._stale = True
            raise LedgerError(f"{self.path}: write failed: {exc}") from None

    def record(self, entries: Iterable[tuple[str, float | None, float, float]], heartbeat: float | None = None) -> int:
        """Record ``(series, value, at, validity)`` observations in one transaction.

        Each value was observed at ``at`` and holds for ``validity`` seconds
        unless a newer observation of the series says otherwise. With
        ``heartbeat`` (the writer's clock now) the same transaction moves the
        heartbeat, so it never runs ahead of what was written. Returns how many
        observations were dropped as older than their series' newest segment
        (the wall clock went back).
        """

        def work() -> int:
            latest, dropped = heartbeat, 0
            self._extensions = {}
            for name, value, at, validity in entries:
                dropped += not self._record_one(self._series_id(name), value, at, validity)
                latest = None if latest is None else max(latest, at)  # a clock step back between poll and flush
            if self._extensions:
                self._db.executemany('UPDATE segments SET "end"=? WHERE series_id=? AND start=?',
                                     [(end, sid, start) for (sid, start), end in self._extensions.items()])
                self._extensions = {}
            if latest is not None:
                self._beat(latest, clean=False)
            return dropped

        with self._lock:
            return self._transact(work)

    def _beat(self, at: float, clean: bool) -> None:
        # max(): a wall clock that stepped back must not move the heartbeat back
        # (a cut to it would then drop time that was observed).
        self._db.execute(
            "INSERT INTO liveness VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "heartbeat = max(heartbeat, excluded.heartbeat), clean = excluded.clean",
            (at, int(clean)),
        )

    def _record_one(self, sid: int, value: float | None, at: float, validity: float) -> bool:
        """Apply one observation; False if it was dropped."""
        current = self._newest.get(sid)
        until = at + validity
        if current is None:
            self._db.execute("INSERT INTO segments VALUES (?, ?, ?, ?)", (sid, at, until, value))
            self._newest.set(sid, at, until, value)
            return True
        start, end, current_value = current
        if at < start:
            # Older than the newest segment: the clock went back. Dropped, never
            # written over what was recorded: that time reads as recorded or unknown.
            return False
        if at <= end:
            if current_value == value:
                if until > end:
                    # The common case, a segment growing: one UPDATE per segment per batch, written at its end.
                    self._extensions[(sid, start)] = until
                    self._newest.end[sid] = until
                return True
            self._extensions.pop((sid, start), None)  # superseded: the statement below sets "end"
            if at == start:
                # Two different values at one instant: the later observation wins.
                self._db.execute(
                    'UPDATE segments SET value=?, "end"=? WHERE series_id=? AND start=?', (value, until, sid, start)
                )
                self._newest.set(sid, start, until, value)
                return True
            self._db.execute('UPDATE segments SET "end"=? WHERE series_id=? AND start=?', (at, sid, start))
        self._db.execute("INSERT INTO segments VALUES (?, ?, ?, ?)", (sid, at, until, value))
        self._newest.set(sid, at, until, value)
        return True

    def knows(self, name: str) -> bool:
        """Whether series ``name`` was ever written to this ledger."""
        return name in self._ids

    def segments(self, names: Sequence[str], start: float, end: float) -> dict[str, list[Segment]]:
        """Segments of each series overlapping ``[start, end)``, clipped to it, oldest first."""
        result: dict[str, list[Segment]] = {name: [] for name in names}
        by_id = {self._ids[name]: name for name in names if name in self._ids}
        ids = list(by_id)
        with self._lock:
            # One query per _IN_CHUNK series, not one per series: a KPI over a group of
            # 30,000 links reads them all every kpi_interval.
            for at in range(0, len(ids), _IN_CHUNK):
                chunk = ids[at : at + _IN_CHUNK]
                rows = self._db.execute(
                    f'SELECT series_id, start, "end", value FROM segments WHERE series_id IN '
                    f'({",".join("?" * len(chunk))}) AND start < ? AND "end" > ? ORDER BY series_id, start',
                    (*chunk, end, start),
                ).fetchall()
                for sid, s, e, v in rows:
                    result[by_id[sid]].append((max(s, start), min(e, end), v))
        return result

    def having(self, names: Sequence[str], start: float, end: float, *, below: float | None = None,
               at_least: float | None = None) -> set[str]:
        """Those of ``names`` with a segment overlapping ``[start, end)`` whose value is < ``below``
        (or >= ``at_least``): the few series of a fleet that were ever down, found without reading the rest."""
        condition, bound = ("value < ?", below) if below is not None else ("value >= ?", at_least)
        by_id = {self._ids[name]: name for name in names if name in self._ids}
        ids = list(by_id)
        found: set[str] = set()
        with self._lock:
            for at in range(0, len(ids), _IN_CHUNK):
                chunk = ids[at : at + _IN_CHUNK]
                rows = self._db.execute(
                    f'SELECT DISTINCT series_id FROM segments WHERE series_id IN ({",".join("?" * len(chunk))}) '
                    f'AND start < ? AND "end" > ? AND {condition}', (*chunk, end, start, bound),
                ).fetchall()
                found.update(by_id[sid] for (sid,) in rows)
        return found

    def state_seconds(self, names: Sequence[str], start: float, end: float) -> tuple[float, float]:
        """Known up and down seconds (sli.is_up) in ``[start, end)``, summed over ``names``; no maintenance."""
        ids = [self._ids[name] for name in names if name in self._ids]
        return self.read(lambda db: ledger_sums.state_seconds(db, ids, start, end, sli.UP_THRESHOLD))

    def summed(self, names: Sequence[str], start: float, end: float) -> list[Segment]:
        """The instant-by-instant sum of ``names`` over ``[start, end)``, as sli.sum_series gives it."""
        if not names or end <= start:
            return []
        ids = [self._ids[name] for name in names if name in self._ids]
        events = self.read(lambda db: ledger_sums.sum_events(db, ids, start, end))
        if events is None:  # values that are not whole numbers: Python's exact sum
            return sli.sum_named(self.segments(names, start, end), names, start, end)
        return sli.sweep(events, len(names), start, end)

    def _cut_open(self, at: float, names: Iterable[str] | None = None) -> None:
        """End every open segment (or those of series ``names``) that started by ``at`` and runs past it at ``at``."""
        newest = self._newest
        sids = newest.ids() if names is None else [sid for sid in map(self._ids.get, names) if newest.has(sid)]
        for sid in sids:
            start, end = newest.start[sid], newest.end[sid]
            if start <= at < end:
                self._db.execute('UPDATE segments SET "end"=? WHERE series_id=? AND start=?', (at, sid, start))
                newest.end[sid] = at

    def begin_run(self, now: float) -> float | None:
        """Start a run of the agent; after one that did not stop cleanly, cut open segments to its heartbeat.

        Returns the heartbeat cut to, or None when the last run stopped cleanly
        (or the ledger is new). Segments that started after that heartbeat
        were written by a writer that keeps none (an older sla-agent) and are
        left alone.
        """

        def work() -> float | None:
            row = self._db.execute("SELECT heartbeat, clean FROM liveness WHERE id = 1").fetchone()
            cut = float(row[0]) if row is not None and not row[1] else None
            if cut is not None:
                self._cut_open(cut)
            self._beat(now, clean=False)
            return cut

        with self._lock:
            return self._transact(work)

    def end_run(self, at: float) -> None:
        """On a clean stop, end every open segment at ``at`` instead of its validity, and say so."""

        def work() -> None:
            self._cut_open(at)
            self._beat(at, clean=True)

        with self._lock:
            self._transact(work)

    def end_series(self, names: Iterable[str], at: float) -> None:
        """End the open segments of series ``names`` at ``at``, as a clean stop does (targets a reload removed)."""
        with self._lock:
            self._transact(lambda: self._cut_open(at, names))

    def heartbeat(self) -> tuple[float, bool] | None:
        """The last heartbeat and whether that run stopped cleanly (None before any run)."""
        with self._lock:
            row = self._db.execute("SELECT heartbeat, clean FROM liveness WHERE id = 1").fetchone()
        return None if row is None else (float(row[0]), bool(row[1]))

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
            return self._transact(lambda: work(self._db))

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
