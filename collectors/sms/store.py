"""The SMS collector's ledger tables: per-message dedup state, 15-minute aggregates, cursor.

Why this shape: the platform sends ~170 million messages a year, so messages
are not kept. A message's row lives only while it matters for dedup or is
pending: until ``grace + margin`` after its last change, then it is purged.
Final outcomes are folded into buckets of 15 minutes of *submit* time (UTC;
every whole- or quarter-hour zone's month starts on a bucket edge, so a month
is a whole number of buckets and a late report lands in the submit's month):
counts per outcome, error codes (a bounded label set) and the latency
histogram of collectors/sms/latency.py.

Everything one batch changes - message rows, aggregates, lifetime totals, the
feed cursor and the feed time the feed is known complete over
(collectors/sms/coverage_table.py) - is written in ONE ledger transaction, so a
crash or restart never loses a batch nor counts it twice, and never claims
coverage for a page that was not committed.

Times are the gateway's, in integer Unix milliseconds. The *feed time* is how
far the feed has been read: the newest record time while catching up, the
agent's clock when the request was sent once caught up (a page's complete
point, collectors/sms/coverage.py). Expiry (pending past ``grace`` becomes expired,
code ``no_report``) and purging follow the feed time, not the wall clock, so
reading a backlog after a long outage does not expire messages whose reports
are still further down the feed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Iterable, Protocol, Sequence, TypeVar

from collectors.sms import coverage, coverage_table, latency
from collectors.sms.records import DELIVERED, EXPIRED, OUTCOMES, PENDING, Record

BUCKET_MS = 900_000  # 15 minutes
NO_REPORT, UNSPECIFIED, OTHER = "no_report", "unspecified", "other"
RESERVED_CODES = frozenset({NO_REPORT, UNSPECIFIED, OTHER})
STALE, DUPLICATE, UNMATCHED = "stale", "duplicate", "unmatched"
_IN_CHUNK = 500  # ids per SELECT ... IN (...), well below SQLite's variable limit

SCHEMA = """
CREATE TABLE IF NOT EXISTS sms_messages (
    gateway TEXT NOT NULL,
    id TEXT NOT NULL,
    submitted INTEGER,        -- gateway submit time, ms; NULL for a report whose submit is not yet known
    state INTEGER NOT NULL,   -- 0 pending, 1 delivered, 2 failed, 3 expired; -outcome: report waiting for its submit
    updated INTEGER NOT NULL, -- time of the last change, ms (purge horizon)
    reported INTEGER,         -- waiting reports only
    code TEXT,                -- waiting reports only
    PRIMARY KEY (gateway, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sms_messages_pending ON sms_messages (gateway, submitted) WHERE state = 0;
CREATE INDEX IF NOT EXISTS sms_messages_updated ON sms_messages (gateway, updated);
CREATE TABLE IF NOT EXISTS sms_buckets (
    gateway TEXT NOT NULL,
    bucket INTEGER NOT NULL,  -- start of the 15-minute submit-time bucket, Unix seconds
    submitted INTEGER NOT NULL DEFAULT 0,
    delivered INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    expired INTEGER NOT NULL DEFAULT 0,
    latency_ms INTEGER NOT NULL DEFAULT 0,  -- sum over delivered messages
    PRIMARY KEY (gateway, bucket)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sms_latency (
    gateway TEXT NOT NULL, bucket INTEGER NOT NULL, bin INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (gateway, bucket, bin)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sms_errors (
    gateway TEXT NOT NULL, bucket INTEGER NOT NULL, code TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (gateway, bucket, code)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sms_totals (
    gateway TEXT NOT NULL, key TEXT NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (gateway, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sms_feed (
    gateway TEXT PRIMARY KEY,
    cursor TEXT,
    epoch TEXT,
    feed_time INTEGER,        -- ms
    watermark INTEGER NOT NULL DEFAULT 0,  -- messages submitted before this were possibly purged: skip as stale
    updated REAL NOT NULL     -- agent clock, s
);
"""


T = TypeVar("T")


class LedgerLike(Protocol):
    """The part of agent.ledger.Ledger the store uses."""

    def ensure_schema(self, sql: str) -> None: ...

    def write(self, work: Callable[[sqlite3.Connection], T]) -> T: ...

    def read(self, work: Callable[[sqlite3.Connection], T]) -> T: ...


def bucket_of(submitted_ms: int) -> int:
    """Start (Unix seconds) of the 15-minute bucket of a submit time."""
    return submitted_ms // BUCKET_MS * (BUCKET_MS // 1000)


@dataclass(frozen=True, slots=True)
class Policy:
    """Per-gateway retention and label bounds (from the gateway's config)."""

    grace_ms: int
    margin_ms: int
    max_codes: int


@dataclass(frozen=True, slots=True)
class Feed:
    """Where the pull feed of one gateway stands."""

    cursor: str | None = None
    epoch: str | None = None
    feed_time_ms: int | None = None
    watermark_ms: int = 0


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Lifetime totals of one gateway, for counters that survive restarts."""

    totals: dict[str, float]
    pending: int
    waiting_reports: int


KEEP: object = object()  # ingest(): leave the stored cursor as it is


@dataclass(slots=True)
class _Delta:
    """What one batch adds, accumulated in memory and written with a few statements."""

    labelled: set[str]
    max_codes: int
    buckets: dict[int, list[int]] = field(default_factory=dict)  # bucket -> submitted, d, f, e, latency_ms
    bins: Counter[tuple[int, int]] = field(default_factory=Counter)
    errors: Counter[tuple[int, str]] = field(default_factory=Counter)
    totals: Counter[str] = field(default_factory=Counter)
    pending: int = 0
    waiting: int = 0

    def _row(self, submitted_ms: int) -> tuple[int, list[int]]:
        bucket = bucket_of(submitted_ms)
        row = self.buckets.get(bucket)
        if row is None:
            row = self.buckets[bucket] = [0, 0, 0, 0, 0]
        return bucket, row

    def submit(self, submitted_ms: int) -> None:
        self._row(submitted_ms)[1][0] += 1
        self.totals["submitted"] += 1

    def final(self, outcome: int, submitted_ms: int, reported_ms: int | None, code: str | None) -> None:
        bucket, row = self._row(submitted_ms)
        row[outcome] += 1
        self.totals[OUTCOMES[outcome]] += 1
        if outcome == DELIVERED:
            assert reported_ms is not None
            lat = reported_ms - submitted_ms
            j = latency.bin_of(lat)
            row[4] += lat
            self.bins[(bucket, j)] += 1
            self.totals["latency_ms"] += lat
            self.totals[f"le:{latency.le_index(j)}"] += 1
        else:
            label = self.label(code or UNSPECIFIED)
            self.errors[(bucket, label)] += 1
            self.totals["code:" + label] += 1

    def label(self, code: str) -> str:
        """Sticky, bounded label set: the first ``max_codes`` codes seen keep their name, later ones are "other".

        A code is labelled the first time it is seen, so no count ever moves
        between labels and every counter stays monotonic.
        """
        if code in self.labelled or code in RESERVED_CODES:
            return code
        if len(self.labelled) < self.max_codes:
            self.labelled.add(code)
            return code
        return OTHER


@dataclass(frozen=True, slots=True)
class IngestResult:
    accepted: int  # records that changed a message's state
    skipped: Counter[str]
    expired: int  # pending messages turned expired (no report within grace)
    purged: int
    gap: coverage.Span | None = None  # feed time this batch leaves uncovered for good (a reset, a later since)


class _Gateway:
    """In-memory mirror of one gateway's feed row and totals; replaced only after a commit."""

    def __init__(self, feed: Feed, run: coverage.Run, totals: dict[str, float], pending: int, waiting: int):
        self.feed = feed
        self.run = run
        self.totals = totals
        self.pending = pending
        self.waiting = waiting
        self.labelled = {k[5:] for k in totals if k.startswith("code:")} - RESERVED_CODES


class SmsStore:
    """Thread-safe ingest into the ledger; call from a worker thread in async code."""

    def __init__(self, ledger: LedgerLike, policies: dict[str, Policy]):
        ledger.ensure_schema(SCHEMA)
        ledger.ensure_schema(coverage_table.SCHEMA)
        self._ledger = ledger
        self._policies = dict(policies)
        self._ingest_lock = threading.Lock()  # one batch at a time (pull and webhook)
        self._view_lock = threading.Lock()  # short: guards the mirrors read by snapshot()
        self._gateways: dict[str, _Gateway] = {}
        for name in policies:
            self._gateways[name] = ledger.read(partial(_load, gateway=name))

    def feed(self, gateway: str) -> Feed:
        with self._view_lock:
            return self._gateways[gateway].feed

    def run(self, gateway: str) -> coverage.Run:
        """How far the feed is known read without a gap (collectors/sms/coverage.py)."""
        with self._view_lock:
            return self._gateways[gateway].run

    def snapshot(self, gateway: str) -> Snapshot:
        with self._view_lock:
            state = self._gateways[gateway]
            return Snapshot(dict(state.totals), state.pending, state.waiting)

    def ingest(
        self,
        gateway: str,
        records: Sequence[Record],
        now: float,
        *,
        skipped: Counter[str] | None = None,
        cursor: str | None | object = KEEP,
        epoch: str | None | object = KEEP,
        feed_time_ms: int | None = None,
        progress: coverage.Read | coverage.Reset | None = None,
    ) -> IngestResult:
        """Apply ``records`` (and move the cursor) in one transaction.

        ``feed_time_ms`` (pull feed only) advances the feed time, which drives
        expiry and purging; ``skipped`` carries records the parser refused so
        their counts are persisted with the batch; ``progress`` (pull feed only)
        is what the page says about the feed's completeness, or the cursor reset
        (counted) that breaks it.
        """
        policy = self._policies[gateway]
        with self._ingest_lock:
            state = self._gateways[gateway]
            delta = _Delta(set(state.labelled), policy.max_codes)
            if skipped:
                for reason, n in skipped.items():
                    delta.totals["skipped:" + reason] += n
            if isinstance(progress, coverage.Reset):
                delta.totals["cursor_resets"] += 1
            old = state.feed
            # A batch that says nothing about the feed (pushed reports) leaves the run as it is.
            step = coverage.apply(state.run, progress, old.feed_time_ms) if progress is not None else None
            feed_time = max(old.feed_time_ms or 0, feed_time_ms or 0) or None
            new_feed = Feed(
                old.cursor if cursor is KEEP else cursor,  # type: ignore[arg-type]
                old.epoch if epoch is KEEP else epoch,  # type: ignore[arg-type]
                feed_time,
                old.watermark_ms,
            )

            def work(db: sqlite3.Connection) -> tuple[IngestResult, Feed]:
                accepted = _apply(db, gateway, records, delta, old.watermark_ms)
                expired = purged = 0
                watermark = old.watermark_ms
                if feed_time is not None:
                    expired = _expire(db, gateway, feed_time - policy.grace_ms, feed_time, delta)
                    horizon = feed_time - policy.grace_ms - policy.margin_ms
                    if horizon > watermark:
                        purged = _purge(db, gateway, horizon, delta)
                        watermark = horizon
                feed = Feed(new_feed.cursor, new_feed.epoch, new_feed.feed_time_ms, watermark)
                _write(db, gateway, delta, feed, now)
                if step is not None:
                    coverage_table.save(db, gateway, step)
                counted = Counter({k[8:]: int(v) for k, v in delta.totals.items() if k.startswith("skipped:")})
                return IngestResult(accepted, counted, expired, purged, step.gap if step else None), feed

            result, feed = self._ledger.write(work)
            with self._view_lock:
                for key, value in delta.totals.items():
                    state.totals[key] = state.totals.get(key, 0) + value
                state.pending += delta.pending
                state.waiting += delta.waiting
                state.labelled = delta.labelled
                state.feed = feed
                if step is not None:
                    state.run = step.run
        return result


def _load(db: sqlite3.Connection, gateway: str) -> _Gateway:
    row = db.execute("SELECT cursor, epoch, feed_time, watermark FROM sms_feed WHERE gateway=?", (gateway,)).fetchone()
    feed = Feed(row[0], row[1], row[2], row[3]) if row else Feed()
    totals = {k: v for k, v in db.execute("SELECT key, value FROM sms_totals WHERE gateway=?", (gateway,))}
    pending = db.execute("SELECT COUNT(*) FROM sms_messages WHERE gateway=? AND state=0", (gateway,)).fetchone()[0]
    waiting = db.execute("SELECT COUNT(*) FROM sms_messages WHERE gateway=? AND state<0", (gateway,)).fetchone()[0]
    return _Gateway(feed, coverage_table.load_run(db, gateway), totals, pending, waiting)


def _existing(db: sqlite3.Connection, gateway: str, ids: list[str]) -> dict[str, tuple[int, int | None, int | None, str | None]]:
    found: dict[str, tuple[int, int | None, int | None, str | None]] = {}
    for i in range(0, len(ids), _IN_CHUNK):
        chunk = ids[i:i + _IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        for mid, state, submitted, reported, code in db.execute(
            f"SELECT id, state, submitted, reported, code FROM sms_messages WHERE gateway=? AND id IN ({marks})",
            (gateway, *chunk),
        ):
            found[mid] = (state, submitted, reported, code)
    return found


# A message row as written: submitted, state, updated, reported, code.
_Row = tuple[int | None, int, int, int | None, str | None]


def _apply(db: sqlite3.Connection, gateway: str, records: Sequence[Record], delta: _Delta, watermark: int) -> int:
    """Dedup ``records`` against the message rows and fold new outcomes into ``delta``."""
    known = _existing(db, gateway, list({r.id for r in records}))
    changed: dict[str, _Row] = {}
    skipped = delta.totals
    accepted = 0
    for r in records:
        # A message row is purged only once unchanged since before the watermark, and a row
        # never changes before its submit: a message submitted before the watermark may have
        # been counted and forgotten, whenever its record was reported. Its submit time (or,
        # when the record lacks one, its report time, which is later) decides.
        if (r.submitted_ms if r.submitted_ms is not None else r.event_ms) < watermark:
            skipped["skipped:" + STALE] += 1  # counting it could count the message twice
            continue
        row = known.get(r.id)
        new: _Row
        if row is None:
            if r.submitted_ms is None:
                # A report for a message not seen yet and without its submit time:
                # keep it waiting for the submit record (out-of-order feed).
                new = (None, -r.outcome, r.event_ms, r.reported_ms, r.code)
                delta.waiting += 1
            elif r.outcome == PENDING:
                delta.submit(r.submitted_ms)
                delta.pending += 1
                new = (r.submitted_ms, PENDING, r.submitted_ms, None, None)
            else:
                delta.submit(r.submitted_ms)
                delta.final(r.outcome, r.submitted_ms, r.reported_ms, r.code)
                new = (r.submitted_ms, r.outcome, r.event_ms, None, None)
        else:
            state, submitted, reported, code = row
            if state == PENDING and r.outcome != PENDING:
                assert submitted is not None
                if r.reported_ms is not None and r.reported_ms < submitted:
                    skipped["skipped:bad_timestamp"] += 1
                    continue
                delta.final(r.outcome, submitted, r.reported_ms, r.code)
                delta.pending -= 1
                new = (submitted, r.outcome, r.event_ms, None, None)
            elif state < 0 and r.submitted_ms is not None:
                # The submit of a waiting report: the report (seen first) decides the outcome.
                outcome = -state
                if reported is not None and reported < r.submitted_ms:
                    skipped["skipped:bad_timestamp"] += 1
                    continue
                delta.submit(r.submitted_ms)
                delta.final(outcome, r.submitted_ms, reported, code)
                delta.waiting -= 1
                new = (r.submitted_ms, outcome, max(r.event_ms, reported or 0), None, None)
            else:
                skipped["skipped:" + DUPLICATE] += 1  # same state again, or a pending after the final
                continue
        known[r.id] = (new[1], new[0], new[3], new[4])
        changed[r.id] = new
        accepted += 1
    if changed:
        db.executemany(
            "INSERT OR REPLACE INTO sms_messages (gateway, id, submitted, state, updated, reported, code) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(gateway, mid, *values) for mid, values in changed.items()],
        )
    return accepted


def _expire(db: sqlite3.Connection, gateway: str, cutoff_ms: int, feed_time_ms: int, delta: _Delta) -> int:
    """Pending messages submitted before ``cutoff_ms`` become expired (code no_report)."""
    rows = db.execute(
        "SELECT submitted FROM sms_messages WHERE gateway=? AND state=0 AND submitted < ?", (gateway, cutoff_ms)
    ).fetchall()
    for (submitted,) in rows:
        delta.final(EXPIRED, submitted, None, NO_REPORT)
    if rows:
        db.execute(
            "UPDATE sms_messages SET state=?, updated=? WHERE gateway=? AND state=0 AND submitted < ?",
            (EXPIRED, feed_time_ms, gateway, cutoff_ms),
        )
        delta.pending -= len(rows)
    return len(rows)


def _purge(db: sqlite3.Connection, gateway: str, horizon_ms: int, delta: _Delta) -> int:
    """Forget settled messages (and reports that never met their submit) unchanged since ``horizon_ms``."""
    unmatched = db.execute(
        "SELECT COUNT(*) FROM sms_messages WHERE gateway=? AND updated < ? AND state < 0", (gateway, horizon_ms)
    ).fetchone()[0]
    if unmatched:
        delta.totals["skipped:" + UNMATCHED] += unmatched
        delta.waiting -= unmatched
    cur = db.execute("DELETE FROM sms_messages WHERE gateway=? AND updated < ? AND state != 0", (gateway, horizon_ms))
    return cur.rowcount


def _write(db: sqlite3.Connection, gateway: str, delta: _Delta, feed: Feed, now: float) -> None:
    if delta.buckets:
        db.executemany(
            "INSERT INTO sms_buckets VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (gateway, bucket) DO UPDATE SET "
            "submitted=submitted+excluded.submitted, delivered=delivered+excluded.delivered, "
            "failed=failed+excluded.failed, expired=expired+excluded.expired, latency_ms=latency_ms+excluded.latency_ms",
            [(gateway, bucket, *row) for bucket, row in delta.buckets.items()],
        )
    if delta.bins:
        db.executemany(
            "INSERT INTO sms_latency VALUES (?, ?, ?, ?) ON CONFLICT (gateway, bucket, bin) "
            "DO UPDATE SET count=count+excluded.count",
            [(gateway, bucket, j, n) for (bucket, j), n in delta.bins.items()],
        )
    if delta.errors:
        db.executemany(
            "INSERT INTO sms_errors VALUES (?, ?, ?, ?) ON CONFLICT (gateway, bucket, code) "
            "DO UPDATE SET count=count+excluded.count",
            [(gateway, bucket, code, n) for (bucket, code), n in delta.errors.items()],
        )
    if delta.totals:
        db.executemany(
            "INSERT INTO sms_totals VALUES (?, ?, ?) ON CONFLICT (gateway, key) DO UPDATE SET value=value+excluded.value",
            [(gateway, key, value) for key, value in delta.totals.items()],
        )
    db.execute(
        "INSERT INTO sms_feed VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (gateway) DO UPDATE SET cursor=excluded.cursor, "
        "epoch=excluded.epoch, feed_time=excluded.feed_time, watermark=excluded.watermark, updated=excluded.updated",
        (gateway, feed.cursor, feed.epoch, feed.feed_time_ms, feed.watermark_ms, now),
    )


# -- reads for the KPI engine ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    """Messages submitted in a period, by outcome, with their latency bins."""

    submitted: int = 0
    delivered: int = 0
    failed: int = 0
    expired: int = 0
    pending: int = 0
    latency_ms: int = 0
    bins: dict[int, int] = field(default_factory=dict)


def _has_tables(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='sms_buckets'").fetchone() is not None


def summary(db: sqlite3.Connection, gateways: Iterable[str], start: float, end: float, with_bins: bool = True) -> Summary:
    """Totals of the messages *submitted* in ``[start, end)`` (Unix seconds), whenever their report came."""
    names = list(gateways)
    if not names or end <= start or not _has_tables(db):
        return Summary()
    marks = ",".join("?" * len(names))
    # A bucket belongs to the period when it starts in it: period edges fall on bucket edges.
    low, high = int(-(-start // 900) * 900), end
    row = db.execute(
        f"SELECT COALESCE(SUM(submitted),0), COALESCE(SUM(delivered),0), COALESCE(SUM(failed),0), "
        f"COALESCE(SUM(expired),0), COALESCE(SUM(latency_ms),0) FROM sms_buckets "
        f"WHERE gateway IN ({marks}) AND bucket >= ? AND bucket < ?",
        (*names, low, high),
    ).fetchone()
    pending = db.execute(
        f"SELECT COUNT(*) FROM sms_messages WHERE gateway IN ({marks}) AND state=0 AND submitted >= ? AND submitted < ?",
        (*names, low * 1000, high * 1000),
    ).fetchone()[0]
    bins: dict[int, int] = {}
    if with_bins:
        bins = {j: n for j, n in db.execute(
            f"SELECT bin, SUM(count) FROM sms_latency WHERE gateway IN ({marks}) AND bucket >= ? AND bucket < ? "
            "GROUP BY bin", (*names, low, high))}
    return Summary(int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(pending), int(row[4]), bins)
