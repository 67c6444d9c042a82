"""Feed completeness (collectors/sms/coverage.py and its ledger table), with hand-worked numbers.

Times are small integers of milliseconds so the arithmetic reads at a glance:
a run complete up to C = 10_000, resets seen at 50_000, a margin of 2_000.
"""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent import sli
from agent.ledger import Ledger, LedgerError
from collectors.sms import coverage_table
from collectors.sms.coverage import EPOCH, GONE, Read, Reset, Run, Step, advance, after_reset, apply, read_of
from collectors.sms.records import PENDING, Record
from collectors.sms.store import Policy, SmsStore

C, RESET, MARGIN = 10_000, 50_000, 2_000
SINCE = C - MARGIN  # a re-read asks from margin before where the feed stood
RUN = Run(C)


# -- what a page says -------------------------------------------------------------


def test_a_caught_up_page_is_complete_up_to_when_it_was_asked():
    assert read_of(70_000, None, [61_000, 60_000], caught_up=True) == Read(70_000, None, 61_000, 70_000)


def test_a_page_with_more_to_come_is_complete_up_to_its_newest_record():
    # The feed is in order of entry and nothing enters before its own time: all before 65 s is read.
    assert read_of(70_000, None, [64_000, 65_000, 63_000], caught_up=False).complete_ms == 65_000
    # A gateway clock ahead of the agent's claims no more than the agent's own time.
    assert read_of(70_000, None, [71_000], caught_up=False).complete_ms == 70_000
    # More to come and no usable record: the page shows nothing.
    assert read_of(70_000, None, [], caught_up=False).complete_ms is None


# -- runs and gaps ------------------------------------------------------------------


def test_first_read_covers_from_backfill_before_now_as_far_back_as_the_feed_still_holds():
    # Started at 3_600_000 with backfill 1 h: since = 0. The feed's first record is at 5 ms:
    # covered from just after it (others of that millisecond may be gone) to the request.
    assert advance(Run(), read_of(3_600_000, 0, [5, 9], caught_up=True)) == Step(Run(3_600_000), (6, 3_600_000))
    # A gateway that keeps less than the backfill: its oldest record, at 30 min, is where coverage starts.
    assert advance(Run(), read_of(3_600_000, 0, [1_800_000], caught_up=True)).span == (1_800_001, 3_600_000)
    # Nothing in the feed at all: nothing before the first request is vouched for.
    assert advance(Run(), read_of(3_600_000, 0, [], caught_up=True)) == Step(Run(3_600_000))


def test_the_cursor_goes_on_from_where_the_run_stood_however_long_the_agent_was_away():
    # Complete to 10 s; the agent away until 90 s; the cursor catches up over 80 s of feed time.
    backlog = advance(RUN, read_of(90_000, None, [20_000, 40_000], caught_up=False))
    assert backlog == Step(Run(40_000), (C, 40_000), None)
    caught_up = advance(backlog.run, read_of(90_000, None, [80_000], caught_up=True))
    assert caught_up == Step(Run(90_000), (40_000, 90_000), None)


def test_a_410_whose_re_read_overlaps_the_run_is_no_gap():
    reset = after_reset(RUN, Reset(GONE, RESET))
    assert reset == Step(Run(C, RESET, GONE))  # the run ends where it stood; no span, no gap yet
    # The feed still has records from 8.5 s, before C: nothing after C was dropped.
    step = advance(reset.run, read_of(RESET, SINCE, [8_500, 12_000], caught_up=True))
    assert step == Step(Run(RESET), (8_501, RESET), None)


def test_a_410_after_records_were_dropped_leaves_a_gap_up_to_the_oldest_record_kept():
    # Retention dropped what entered before 30 s: the re-read from 8 s starts at 30 s. Gap [10 s, 30.001 s).
    reset = after_reset(RUN, Reset(GONE, RESET)).run
    step = advance(reset, read_of(RESET + 200, SINCE, [30_000, 31_000], caught_up=False))
    assert step == Step(Run(31_000), (30_001, 31_000), (C, 30_001))
    assert step.gap is not None and step.gap[1] - step.gap[0] == 20_001


def test_a_410_gap_runs_at_most_to_the_reset():
    reset = after_reset(RUN, Reset(GONE, RESET)).run
    # The oldest record kept entered after the reset: the feed held nothing from before it.
    assert advance(reset, read_of(RESET + 200, SINCE, [55_000], caught_up=True)).gap == (C, RESET)
    # An empty re-read: nothing shows how far back the feed reaches.
    assert advance(reset, read_of(RESET + 200, SINCE, [], caught_up=True)) == Step(
        Run(RESET + 200), (RESET, RESET + 200), (C, RESET))


def test_another_feed_epoch_is_a_gap_to_the_reset_whatever_it_holds():
    reset = after_reset(RUN, Reset(EPOCH, RESET)).run
    step = advance(reset, read_of(RESET + 200, SINCE, [8_500], caught_up=True))
    assert step == Step(Run(RESET + 200), (RESET, RESET + 200), (C, RESET))
    # A 410 whose re-read comes from a new epoch is the same: a rebuilt feed, not retention.
    gone = after_reset(RUN, Reset(GONE, RESET)).run
    assert advance(gone, read_of(RESET + 200, SINCE, [8_500], True, new_epoch=True)).gap == (C, RESET)
    # A read by time that meets a new epoch without any reset: the gap runs to that request.
    assert advance(RUN, read_of(RESET, SINCE, [8_500], True, new_epoch=True)).gap == (C, RESET)


def test_a_second_reset_before_the_re_read_keeps_the_first_time_and_epoch_wins():
    first = after_reset(RUN, Reset(GONE, RESET)).run
    assert after_reset(first, Reset(EPOCH, RESET + 5_000)).run == Run(C, RESET, EPOCH)
    assert after_reset(first, Reset(GONE, RESET + 5_000)).run == Run(C, RESET, GONE)


def test_reading_on_by_time_re_reads_the_margin_and_a_later_since_is_a_gap():
    # A gateway that gives no cursor: each poll asks since = feed time - margin.
    assert advance(RUN, read_of(20_000, SINCE, [], caught_up=True)) == Step(Run(20_000), (SINCE, 20_000), None)
    # With since past where the run stood (a margin smaller than the clock's step), the difference is a gap.
    assert advance(RUN, read_of(20_000, 12_000, [], caught_up=True)).gap == (C, 12_000)


def test_a_ledger_from_before_runs_were_kept_claims_only_from_its_stored_feed_time():
    by_cursor = advance(Run(), read_of(90_000, None, [70_000], caught_up=True), resume_ms=60_000)
    assert by_cursor == Step(Run(90_000), (60_000, 90_000), None)
    by_time = advance(Run(), read_of(90_000, 60_000 - MARGIN, [], caught_up=True), resume_ms=60_000)
    assert by_time.span == (60_000, 90_000)


def test_a_page_that_shows_nothing_covers_nothing():
    assert advance(RUN, read_of(90_000, None, [], caught_up=False)) == Step(RUN)
    assert apply(RUN, Reset(GONE, RESET)) == after_reset(RUN, Reset(GONE, RESET))


# -- the ledger table -----------------------------------------------------------------


@pytest.fixture
def ledger(tmp_path):
    opened = Ledger(tmp_path / "l.sqlite")
    opened.ensure_schema(coverage_table.SCHEMA)
    yield opened
    opened.close()


def spans(ledger, gateway="gw") -> list[tuple[int, int]]:
    return ledger.read(lambda db: db.execute(
        'SELECT start, "end" FROM sms_covered WHERE gateway=? ORDER BY start', (gateway,)).fetchall())


def test_spans_merge_when_they_overlap_or_touch(ledger):
    for span in ((0, 10), (20, 30), (40, 50), (10, 20), (45, 60)):
        ledger.write(lambda db: coverage_table.add_span(db, "gw", span))
    ledger.write(lambda db: coverage_table.add_span(db, "other", (0, 100)))
    assert spans(ledger) == [(0, 30), (40, 60)]
    # Read in seconds, clipped to the period: [0.015 s, 0.055 s) meets [15, 30) and [40, 55) ms.
    found = ledger.read(lambda db: coverage_table.covered(db, ["gw"], 0.015, 0.055))
    assert found == {"gw": [(0.015, 0.03), (0.04, 0.055)]}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(1, 20)), max_size=12))
def test_the_table_holds_the_union_of_the_spans_added(tmp_path_factory, added):
    opened = Ledger(tmp_path_factory.mktemp("cov") / "l.sqlite")
    try:
        opened.ensure_schema(coverage_table.SCHEMA)
        for start, length in added:
            opened.write(lambda db: coverage_table.add_span(db, "gw", (start, start + length)))
        assert spans(opened) == sli.merge((s, s + n) for s, n in added)
    finally:
        opened.close()


class FailingCommit:
    """A ledger whose next write does all its statements, then fails before COMMIT (a disk error, a crash)."""

    def __init__(self, ledger: Ledger):
        self._ledger = ledger
        self.fail = False

    def ensure_schema(self, sql):
        self._ledger.ensure_schema(sql)

    def read(self, work):
        return self._ledger.read(work)

    def write(self, work):
        if not self.fail:
            return self._ledger.write(work)

        def then_fail(db):
            work(db)
            raise sqlite3.OperationalError("disk I/O error")

        return self._ledger.write(then_fail)


def test_a_page_whose_transaction_fails_claims_no_coverage(ledger):
    failing = FailingCommit(ledger)
    store = SmsStore(failing, {"gw": Policy(3_600_000, 60_000, 5)})
    first = [Record("a", PENDING, 1_000, None, None), Record("b", PENDING, 3_000, None, None)]
    store.ingest("gw", first, 5.0, progress=read_of(5_000, 0, [1_000, 3_000], caught_up=False))
    assert spans(ledger) == [(1_001, 3_000)] and store.run("gw") == Run(3_000)
    failing.fail = True
    then = [Record("c", PENDING, 4_000, None, None)]
    with pytest.raises(LedgerError):
        store.ingest("gw", then, 9.0, progress=read_of(9_000, None, [4_000], caught_up=True))
    # Neither the table nor the store's view moved; a restart reads the same.
    assert spans(ledger) == [(1_001, 3_000)] and store.run("gw") == Run(3_000)
    assert SmsStore(ledger, {"gw": Policy(3_600_000, 60_000, 5)}).run("gw") == Run(3_000)
    failing.fail = False
    store.ingest("gw", then, 9.0, progress=read_of(9_000, None, [4_000], caught_up=True))
    assert spans(ledger) == [(1_001, 9_000)]
