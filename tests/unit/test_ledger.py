"""The ledger's segment semantics, persistence across reopen, and crash safety."""

import sqlite3

import pytest

from agent.ledger import Ledger, LedgerError

S = "link:a:up"


@pytest.fixture
def path(tmp_path):
    return tmp_path / "ledger.sqlite"


def segs(ledger, start=0, end=10_000, name=S):
    return ledger.segments([name], start, end)[name]


def test_same_value_extends_one_segment(path):
    ledger = Ledger(path)
    for t in (100, 130, 160):
        ledger.record([(S, 1.0, t, 60)])
    assert segs(ledger) == [(100, 220, 1.0)]


def test_change_closes_segment_at_the_observation(path):
    ledger = Ledger(path)
    ledger.record([(S, 1.0, 100, 60)])
    ledger.record([(S, 0.0, 130, 60)])
    ledger.record([(S, None, 160, 60)])
    ledger.record([(S, 1.0, 190, 60)])
    assert segs(ledger) == [(100, 130, 1.0), (130, 160, 0.0), (160, 190, None), (190, 250, 1.0)]


def test_values_a_float_cannot_hold_are_compared_as_given(path):
    # The newest segment is mirrored in float columns; an integer beyond 2**53 is
    # kept as given there, or 2**53 + 1 and 2**53 would read as one value. (The
    # file's REAL column rounds it: after a reopen they would.)
    big = 2**53 + 1
    ledger = Ledger(path)
    ledger.record([("n", big, 100, 60)])
    ledger.record([("n", big, 130, 60)])
    ledger.record([("n", big - 1, 160, 60)])
    ledger.record([("n", big - 1, 190, 60)])
    assert [(s, e) for s, e, _ in segs(ledger, name="n")] == [(100, 160), (160, 250)]
    nan = float("nan")
    ledger.record([("m", nan, 100, 60)])
    ledger.record([("m", nan, 130, 60)])  # NaN equals nothing, itself included: a new segment, as before
    assert [(s, e) for s, e, _ in segs(ledger, name="m")] == [(100, 130), (130, 190)]


def test_many_series_keep_their_own_newest_segment(path):
    # Series ids index the mirror's columns, which grow as series are added.
    ledger = Ledger(path)
    names = [f"link:l{i}:up" for i in range(3_000)]
    ledger.record([(n, float(i % 2), 100, 60) for i, n in enumerate(names)])
    ledger.record([(n, float(i % 2) if i % 3 else None, 130, 60) for i, n in enumerate(names)])
    got = ledger.segments(names, 0, 1_000)
    for i, n in enumerate(names):
        value = float(i % 2)
        assert got[n] == ([(100, 190, value)] if i % 3 else [(100, 130, value), (130, 190, None)]), n


def test_gap_longer_than_validity_stays_uncovered(path):
    ledger = Ledger(path)
    ledger.record([(S, 1.0, 100, 60)])
    ledger.record([(S, 1.0, 500, 60)])  # agent was stopped 160..500
    assert segs(ledger) == [(100, 160, 1.0), (500, 560, 1.0)]


def test_queries_clip_to_the_window(path):
    ledger = Ledger(path)
    ledger.record([(S, 1.0, 100, 60)])
    ledger.record([(S, 0.0, 130, 60)])
    assert segs(ledger, 110, 140) == [(110, 130, 1.0), (130, 140, 0.0)]
    assert ledger.segments(["unknown-series"], 0, 10) == {"unknown-series": []}


def test_older_observation_is_dropped(path):
    ledger = Ledger(path)
    ledger.record([(S, 1.0, 100, 60)])
    ledger.record([(S, 0.0, 90, 60)])  # the wall clock stepped back
    assert segs(ledger) == [(100, 160, 1.0)]


def test_two_values_at_one_instant_keep_the_later(path):
    ledger = Ledger(path)
    ledger.record([(S, 1.0, 100, 60), (S, 0.0, 100, 60)])
    assert segs(ledger) == [(100, 160, 0.0)]


def test_reopen_continues_the_open_segment(path):
    ledger = Ledger(path)
    ledger.record([(S, 0.0, 100, 60), ("other", 5.0, 100, 60)])
    ledger.close()
    reopened = Ledger(path)
    # A plain reopen (export, tools: no begin_run) cuts nothing; the next observation extends.
    reopened.record([(S, 0.0, 150, 60)])
    assert segs(reopened) == [(100, 210, 0.0)]
    assert segs(reopened, name="other") == [(100, 160, 5.0)]


def test_end_run_ends_segments_at_stop_time(path):
    ledger = Ledger(path)
    ledger.record([(S, 1.0, 100, 60)])
    ledger.end_run(120)
    assert segs(ledger) == [(100, 120, 1.0)]
    ledger.record([(S, 1.0, 130, 60)])  # after the stop: a new segment, the gap is unknown
    assert segs(ledger) == [(100, 120, 1.0), (130, 190, 1.0)]


def test_start_after_a_crash_cuts_open_segments_back_to_the_heartbeat(path):
    ledger = Ledger(path)
    assert ledger.begin_run(90) is None  # a new ledger: nothing to cut
    ledger.record([(S, 1.0, 100, 60), ("stale", 5.0, 10, 60)], heartbeat=101)
    ledger.record([(S, 1.0, 130, 60), ("other", 0.0, 125, 60)], heartbeat=131.5)
    assert segs(ledger) == [(100, 190, 1.0)]
    ledger.close()  # killed at about 132: no end_run

    restarted = Ledger(path)
    assert restarted.begin_run(200) == 131.5
    assert segs(restarted) == [(100, 131.5, 1.0)]  # not to 190: nothing after the heartbeat is known
    assert segs(restarted, name="other") == [(125, 131.5, 0.0)]
    assert segs(restarted, name="stale") == [(10, 70, 5.0)]  # ended before the heartbeat: as it was
    restarted.record([(S, 1.0, 205, 60)], heartbeat=205)
    assert segs(restarted) == [(100, 131.5, 1.0), (205, 265, 1.0)]  # 131.5-205 is unknown
    assert restarted.heartbeat() == (205, False)


def test_clean_stop_is_not_cut_again_at_the_next_start(path):
    ledger = Ledger(path)
    ledger.begin_run(90)
    ledger.record([(S, 1.0, 100, 60)], heartbeat=101)
    ledger.end_run(150)
    assert ledger.heartbeat() == (150, True)
    ledger.close()
    restarted = Ledger(path)
    assert restarted.begin_run(300) is None
    assert segs(restarted) == [(100, 150, 1.0)]
    assert restarted.heartbeat() == (300, False)


def test_heartbeat_never_goes_back_and_covers_the_newest_observation(path):
    ledger = Ledger(path)
    ledger.record([(S, 1.0, 100, 60)], heartbeat=131)
    ledger.record([], heartbeat=50)  # the wall clock stepped back by 81 s
    assert ledger.heartbeat() == (131, False)
    ledger.record([(S, 1.0, 140, 60)], heartbeat=135)  # polled at 140, flushed after a step back to 135
    assert ledger.heartbeat() == (140, False)
    ledger.close()
    restarted = Ledger(path)
    assert restarted.begin_run(150) == 140
    assert segs(restarted) == [(100, 140, 1.0)]


def test_segments_started_after_the_heartbeat_are_not_cut(path):
    """An older sla-agent (no heartbeats) ran in between: its segments are not shortened to nothing."""
    ledger = Ledger(path)
    ledger.record([(S, 1.0, 100, 60)], heartbeat=101)
    ledger.close()
    old_agent = Ledger(path)
    old_agent.record([(S, 0.0, 500, 60)])
    old_agent.close()
    restarted = Ledger(path)
    assert restarted.begin_run(600) == 101
    assert segs(restarted) == [(100, 160, 1.0), (500, 560, 0.0)]


def test_wal_mode_and_cursors(path):
    ledger = Ledger(path)
    assert ledger._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ledger.get_cursor("sms") is None
    ledger.set_cursor("sms", "abc", 1.0)
    ledger.set_cursor("sms", "def", 2.0)
    ledger.close()
    assert Ledger(path).get_cursor("sms") == "def"


def test_failed_write_rolls_back_whole_batch(path):
    ledger = Ledger(path)
    ledger.record([(S, 1.0, 100, 60)], heartbeat=100)
    # A second connection holds the write lock: the batch must fail as a whole.
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    ledger._db.execute("PRAGMA busy_timeout=50")
    with pytest.raises(LedgerError, match="write failed"):
        ledger.record([(S, 0.0, 130, 60), ("new", 1.0, 130, 60)], heartbeat=131)
    blocker.execute("ROLLBACK")
    assert segs(ledger) == [(100, 160, 1.0)]
    assert ledger.heartbeat() == (100, False)  # the heartbeat never runs ahead of what was written
    ledger.record([(S, 0.0, 130, 60)])  # the in-memory mirror was reloaded, writes go on
    assert segs(ledger) == [(100, 130, 1.0), (130, 190, 0.0)]


def test_unopenable_path_is_a_ledger_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LedgerError, match="cannot open ledger"):
        Ledger(blocker / "ledger.sqlite")
