"""The SMS store: dedup, aggregation by submit time, expiry, purging, one transaction per batch."""

import sqlite3
from collections import Counter
from datetime import datetime, timezone

import pytest

from agent.ledger import Ledger, LedgerError
from collectors.sms.records import DELIVERED, EXPIRED, FAILED, PENDING, Record
from collectors.sms.store import Policy, SmsStore, bucket_of, summary

HOUR = 3_600_000
T0 = int(datetime(2026, 11, 2, tzinfo=timezone.utc).timestamp() * 1000)
POLICY = Policy(grace_ms=72 * HOUR, margin_ms=HOUR, max_codes=3)


def sub(mid, at):
    return Record(mid, PENDING, at, None, None)


def done(mid, at, after_ms, outcome=DELIVERED, code=None, with_submit=True):
    return Record(mid, outcome, at if with_submit else None, at + after_ms, code)


@pytest.fixture
def ledger(tmp_path):
    opened = Ledger(tmp_path / "l.sqlite")
    yield opened
    opened.close()


@pytest.fixture
def store(ledger):
    return SmsStore(ledger, {"gw": POLICY})


def rows(ledger) -> int:
    return ledger.read(lambda db: db.execute("SELECT COUNT(*) FROM sms_messages").fetchone()[0])


def test_each_message_counts_once_whatever_the_order(store, ledger):
    batch = [done("a", T0, 1500), sub("a", T0), sub("b", T0 + 1), sub("b", T0 + 1), done("b", T0 + 1, 20_000),
             done("b", T0 + 1, 20_000), done("c", T0 + 2, 5000, FAILED, "UNDELIV")]
    result = store.ingest("gw", batch, T0 / 1000)
    assert result.accepted == 4 and result.skipped == Counter(duplicate=3)
    again = store.ingest("gw", batch, T0 / 1000)
    assert again.accepted == 0 and again.skipped == Counter(duplicate=7)
    snap = store.snapshot("gw")
    assert {k: snap.totals[k] for k in ("submitted", "delivered", "failed")} == {
        "submitted": 3, "delivered": 2, "failed": 1}
    assert snap.pending == 0
    s = ledger.read(lambda db: summary(db, ["gw"], T0 / 1000, T0 / 1000 + 900))
    assert (s.submitted, s.delivered, s.failed, s.latency_ms) == (3, 2, 1, 21_500)


def test_outcomes_go_to_the_bucket_of_the_submit(store, ledger):
    edge = T0 + 16 * HOUR  # 00:00 Nov 3 in Shanghai: a month-style boundary on a bucket edge
    store.ingest("gw", [sub("late", edge - 1), done("late", edge - 1, 30 * HOUR),
                        sub("next", edge), done("next", edge, 1000)], edge / 1000 + 31 * 3600)
    assert bucket_of(edge - 1) == edge // 1000 - 900 and bucket_of(edge) == edge // 1000
    before = ledger.read(lambda db: summary(db, ["gw"], 0, edge / 1000))
    after = ledger.read(lambda db: summary(db, ["gw"], edge / 1000, edge / 1000 + 86400))
    assert (before.submitted, before.delivered, after.submitted, after.delivered) == (1, 1, 1, 1)


def test_error_codes_are_bounded_sticky_labels(store):
    codes = ["A", "B", "C", "D", "A", None]
    store.ingest("gw", [done(f"m{i}", T0 + i, 10, FAILED, c) for i, c in enumerate(codes)], T0 / 1000)
    totals = store.snapshot("gw").totals
    assert {k: v for k, v in totals.items() if k.startswith("code:")} == {
        "code:A": 2, "code:B": 1, "code:C": 1, "code:other": 1, "code:unspecified": 1}


def test_pending_past_the_grace_expires_by_feed_time_not_wall_time(store, ledger):
    store.ingest("gw", [sub("p", T0)], T0 / 1000, feed_time_ms=T0)
    # Reading a backlog: the feed is at T0 + 71 h although the wall clock says much later.
    result = store.ingest("gw", [], T0 / 1000 + 10 * 86400, feed_time_ms=T0 + 71 * HOUR)
    assert result.expired == 0 and store.snapshot("gw").pending == 1
    result = store.ingest("gw", [], T0 / 1000 + 10 * 86400, feed_time_ms=T0 + 72 * HOUR + 1)
    assert result.expired == 1
    snap = store.snapshot("gw")
    assert (snap.pending, snap.totals["expired"], snap.totals["code:no_report"]) == (0, 1, 1)


def test_settled_messages_are_purged_and_older_replays_are_stale(store, ledger):
    for hour in range(0, 100):  # 100 hours of one message a minute, read as it comes
        start = T0 + hour * HOUR
        batch = [r for m in range(60) for r in (sub(f"{hour}-{m}", start + m * 60_000),
                                                done(f"{hour}-{m}", start + m * 60_000, 2000))]
        store.ingest("gw", batch, (start + HOUR) / 1000, feed_time_ms=start + HOUR)
    # Kept: what changed within grace + margin (73 h) of the feed time, not all 6000 messages.
    assert 73 * 60 <= rows(ledger) <= 74 * 60
    replay = store.ingest("gw", [sub("0-5", T0 + 5 * 60_000), done("0-5", T0 + 5 * 60_000, 2000)],
                          (T0 + 100 * HOUR) / 1000)
    assert replay.skipped == Counter(stale=2) and store.snapshot("gw").totals["submitted"] == 6000


def test_a_batch_is_all_or_nothing(tmp_path):
    class Failing:
        """Runs the batch, then fails before the commit (as a full disk would)."""

        def __init__(self, ledger):
            self.ledger, self.fail = ledger, False

        def ensure_schema(self, sql):
            self.ledger.ensure_schema(sql)

        def read(self, work):
            return self.ledger.read(work)

        def write(self, work):
            def failing(db):
                result = work(db)
                if self.fail:
                    raise sqlite3.OperationalError("database or disk is full")
                return result
            return self.ledger.write(failing)

    ledger = Ledger(tmp_path / "l.sqlite")
    wrapped = Failing(ledger)
    store = SmsStore(wrapped, {"gw": POLICY})
    store.ingest("gw", [sub("a", T0)], T0 / 1000, cursor="c1", feed_time_ms=T0)
    wrapped.fail = True
    with pytest.raises(LedgerError):
        store.ingest("gw", [done("a", T0, 100), sub("b", T0)], T0 / 1000, cursor="c2", feed_time_ms=T0 + 1)
    snap = store.snapshot("gw")
    assert (snap.totals["submitted"], snap.totals.get("delivered", 0), snap.pending) == (1, 0, 1)
    assert store.feed("gw").cursor == "c1"
    reopened = SmsStore(ledger, {"gw": POLICY})  # what the file says
    assert reopened.feed("gw").cursor == "c1" and reopened.snapshot("gw") == snap
    ledger.close()


def test_state_survives_a_restart(ledger):
    store = SmsStore(ledger, {"gw": POLICY})
    store.ingest("gw", [sub("a", T0), done("b", T0, 10, FAILED, "X"), done("w", T0, 10, with_submit=False)],
                 T0 / 1000, cursor="c9", epoch="e1", feed_time_ms=T0)
    again = SmsStore(ledger, {"gw": POLICY})
    assert again.snapshot("gw") == store.snapshot("gw")
    assert again.snapshot("gw").waiting_reports == 1
    assert again.feed("gw") == store.feed("gw")
    assert again.feed("gw").cursor == "c9"
    again.ingest("gw", [done("a", T0, 500)], T0 / 1000)
    assert again.snapshot("gw").totals["delivered"] == 1


def test_summary_without_tables_is_empty(tmp_path):
    ledger = Ledger(tmp_path / "plain.sqlite")
    s = ledger.read(lambda db: summary(db, ["gw"], 0, 10**10))
    assert (s.submitted, s.bins) == (0, {})
    ledger.close()


def test_expired_status_from_the_gateway(store):
    store.ingest("gw", [sub("e", T0), done("e", T0, 48 * HOUR, EXPIRED, "EXPIRED")], T0 / 1000)
    totals = store.snapshot("gw").totals
    assert (totals["expired"], totals["code:EXPIRED"]) == (1, 1)


def test_a_late_report_for_a_purged_message_is_stale_not_a_new_message(ledger):
    """Expired at T0 + 73 h, row purged by T0 + 150 h: its report (T0 + 149 h) must not count it again."""
    store = SmsStore(ledger, {"gw": POLICY})
    store.ingest("gw", [sub("late", T0)], T0 / 1000, feed_time_ms=T0)
    assert store.ingest("gw", [], T0 / 1000, feed_time_ms=T0 + 73 * HOUR).expired == 1
    assert store.ingest("gw", [], T0 / 1000, feed_time_ms=T0 + 150 * HOUR).purged == 1
    assert rows(ledger) == 0
    late = [done("late", T0, 149 * HOUR)]  # reported after the watermark (T0 + 77 h), submitted before it
    result = store.ingest("gw", late, (T0 + 150 * HOUR) / 1000)
    assert result.accepted == 0 and result.skipped == Counter(stale=1)
    # The watermark is in the ledger: after a restart the same report is still stale.
    reopened = SmsStore(ledger, {"gw": POLICY})
    assert reopened.feed("gw").watermark_ms == T0 + 77 * HOUR
    assert reopened.ingest("gw", late, (T0 + 150 * HOUR) / 1000).skipped == Counter(stale=1)
    # A report without its submit time waits; its submit, older than the watermark, is stale too.
    reopened.ingest("gw", [done("late", T0, 149 * HOUR, with_submit=False)], (T0 + 150 * HOUR) / 1000)
    assert reopened.ingest("gw", [sub("late", T0)], (T0 + 150 * HOUR) / 1000).skipped == Counter(stale=1)
    totals = reopened.snapshot("gw").totals
    assert (totals["submitted"], totals.get("delivered", 0), totals["expired"]) == (1, 0, 1)
    assert totals["skipped:stale"] == 3
    s = ledger.read(lambda db: summary(db, ["gw"], T0 / 1000, T0 / 1000 + 900))
    assert (s.submitted, s.delivered, s.expired) == (1, 0, 1)
    # The waiting report is dropped as unmatched once past grace + margin.
    reopened.ingest("gw", [], (T0 + 230 * HOUR) / 1000, feed_time_ms=T0 + 230 * HOUR)
    snap = reopened.snapshot("gw")
    assert (snap.waiting_reports, snap.totals["skipped:unmatched"], rows(ledger)) == (0, 1, 0)
