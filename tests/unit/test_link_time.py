"""One link's seconds per state (collectors/snmp/link_time.py): hand-worked cases, and the ledger's own segments as the oracle."""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from agent import sli
from agent.ledger import Ledger
from collectors.snmp.link_time import DOWN, NO_MAINTENANCE, UNKNOWN, UP, Calendar, LinkClock, split, state_of

T0 = 1_790_000_000.0
V = 60.0  # validity: two 30 s poll intervals


def windows(*spans: tuple[float, float]) -> Calendar:
    """A calendar of fixed spans (offsets from T0)."""
    absolute = [(T0 + s, T0 + e) for s, e in spans]
    return Calendar(lambda start, end: [(max(s, start), min(e, end)) for s, e in absolute if e > start and s < end],
                    T0)


def test_split_gives_the_state_until_its_validity_then_unknown_and_maintenance_over_both():
    # [0, 100): up until 70, unknown after; maintenance 60-80 takes 10 s of each.
    assert split(0, 100, UP, 70, [(60, 80)]) == (60.0, 0.0, 20.0, 20.0)
    assert split(0, 100, DOWN, math.inf, []) == (0.0, 100.0, 0.0, 0.0)
    assert split(50, 50, UP, 70, []) == (0.0, 0.0, 0.0, 0.0)


def test_up_down_failed_poll_stale_and_windows_inside_stretches():
    """Polls every 30 s from T0+10; the values, the windows and each state's seconds worked out by hand.

    up at 10 and 40, down at 70, a failed poll at 100, up at 130, then no poll: stale from 190.
    Windows 90-110 (across the down -> unknown change) and 160-175 (inside the up stretch).
    """
    clock = LinkClock(T0, windows((90, 110), (160, 175)))
    for at, value in ((10, 1.0), (40, 1.0), (70, 0.0), (100, None), (130, 1.0)):
        assert clock.observe(state_of(value), T0 + at, V, floor=-math.inf)
    # T0+165, inside the second window: up 10-70 and 130-160, down 70-90, unknown 0-10 and 110-130.
    assert clock.seconds(T0 + 165) == (90.0, 20.0, 30.0, 25.0)
    # T0+250: up also 175-190, unknown also 190-250 (stale), maintenance 20 + 15.
    assert clock.seconds(T0 + 250) == (105.0, 20.0, 90.0, 35.0)
    assert sum(clock.seconds(T0 + 250)) == 250


def test_the_first_observation_ends_the_unknown_since_the_start():
    clock = LinkClock(T0, NO_MAINTENANCE)
    assert clock.seconds(T0 + 5) == (0.0, 0.0, 5.0, 0.0)
    clock.observe(UP, T0 + 5, V, floor=-math.inf)
    assert clock.seconds(T0 + 20) == (15.0, 0.0, 5.0, 0.0)


def test_a_change_seen_after_a_scrape_counted_past_it_starts_at_that_scrape():
    """The poll starts at 70 and lands at 72; a scrape at 71 already counted 70-71 as up: it stays so."""
    clock = LinkClock(T0, NO_MAINTENANCE)
    clock.observe(UP, T0 + 10, V, floor=-math.inf)
    clock.observe(UP, T0 + 40, V, floor=-math.inf)
    shown = clock.seconds(T0 + 71)
    assert shown == (61.0, 0.0, 10.0, 0.0)
    clock.observe(DOWN, T0 + 70, V, floor=T0 + 71)
    assert clock.seconds(T0 + 71) == shown
    assert clock.seconds(T0 + 100) == (61.0, 29.0, 10.0, 0.0)


def test_a_confirming_poll_keeps_the_closed_part_so_its_text_stays_cached():
    clock = LinkClock(T0, NO_MAINTENANCE)
    clock.observe(UP, T0 + 10, V, floor=-math.inf)
    closed = clock.view[0]
    clock.observe(UP, T0 + 40, V, floor=T0 + 39)
    assert clock.view == (closed, T0 + 100)  # validity moved, nothing else
    clock.observe(DOWN, T0 + 70, V, floor=T0 + 69)
    assert clock.view[0] is not closed


def test_a_poll_after_the_validity_ran_out_leaves_the_gap_unknown():
    clock = LinkClock(T0, NO_MAINTENANCE)
    clock.observe(UP, T0, V, floor=-math.inf)
    clock.observe(UP, T0 + 100, V, floor=-math.inf)  # 60-100 no valid observation
    assert clock.seconds(T0 + 130) == (90.0, 0.0, 40.0, 0.0)


def test_wall_clock_back_then_forward():
    """Back: nothing counts again and older observations are dropped (as the ledger drops them). Forward: counted."""
    clock = LinkClock(T0, NO_MAINTENANCE)
    clock.observe(UP, T0, V, floor=-math.inf)
    clock.observe(DOWN, T0 + 30, V, floor=-math.inf)
    assert clock.seconds(T0 + 50) == (30.0, 20.0, 0.0, 0.0)
    # The clock steps back 40 s: a poll at T0+10 is older than the down segment (from T0+30): dropped.
    assert not clock.observe(UP, T0 + 10, V, floor=T0 + 50)
    # A poll at T0+35 is in the segment: it confirms down; shown time (to T0+50) stands.
    assert clock.observe(DOWN, T0 + 35, V, floor=T0 + 50)
    assert clock.seconds(T0 + 50) == (30.0, 20.0, 0.0, 0.0)
    # Forward by an hour: down until the validity (T0+95), unknown after.
    assert clock.seconds(T0 + 3650) == (30.0, 65.0, 3555.0, 0.0)


def test_a_recurring_window_is_expanded_as_time_goes_on():
    """One hour a day for ten days, beyond the calendar's first chunk."""
    days = [(d * 86_400 + 3600, d * 86_400 + 7200) for d in range(10)]
    calendar = windows(*days)
    clock = LinkClock(T0, calendar)
    clock.observe(UNKNOWN, T0, V, floor=-math.inf)
    assert clock.seconds(T0 + 10 * 86_400) == (0.0, 0.0, 10 * 86_400 - 36_000.0, 36_000.0)
    assert calendar.covers(T0 + 9 * 86_400 + 3600) and not calendar.covers(T0 + 9 * 86_400 + 7200)
    assert calendar.last_edge(T0 + 9 * 86_400 + 5000) == T0 + 9 * 86_400 + 3600


# -- the ledger as the oracle ---------------------------------------------------------------------

_POLLS = st.lists(
    st.tuples(st.integers(-20, 90), st.sampled_from([1.0, 0.0, None]), st.booleans()),
    min_size=1, max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(_POLLS, st.lists(st.tuples(st.integers(0, 400), st.integers(1, 120)), max_size=3), st.booleans())
def test_up_down_and_maintenance_are_what_the_ledger_segments_say(polls, spans, steps_back):
    """Random polls (gaps, repeats, changes, the clock going back) into the real Ledger and a LinkClock.

    Scrapes come between polls, at the next poll's instant. The counters never
    go back and always add up to the time since the start. While the clock does
    not go back they are exactly the ledger's segments classified as the KPI
    engine does (sli.classify) with the same maintenance. (When it does, the
    ledger may rewrite its newest segment from the older poll on; the counters
    keep what they counted: they differ by at most the step.)
    """
    ledger = Ledger(Path(":memory:"))
    maintenance = sli.merge((T0 + s, T0 + s + n) for s, n in spans)
    calendar = Calendar(lambda a, b: [(max(s, a), min(e, b)) for s, e in maintenance if e > a and s < b], T0)
    clock = LinkClock(T0, calendar)
    at, shown, last, exact = T0, -math.inf, (0.0, 0.0, 0.0, 0.0), True
    for step, value, scrape in polls:
        step = step if steps_back else abs(step)
        exact = exact and step >= 0
        at = max(T0, at + step)  # a negative step is the wall clock going back
        if scrape and at >= shown:
            seconds = clock.seconds(at)
            assert all(a >= b for a, b in zip(seconds, last)), (seconds, last)
            last, shown = seconds, at
        dropped = ledger.record([("link:x:up", value, at, V)]) == 1
        assert clock.observe(state_of(value), at, V, floor=shown) is not dropped
    end = max(at, shown) + 200
    seconds = clock.seconds(end)
    assert all(a >= b for a, b in zip(seconds, last))
    assert abs(sum(seconds) - (end - T0)) < 1e-6
    if exact:
        segments = ledger.segments(["link:x:up"], T0, end)["link:x:up"]
        expected = sli.classify(segments, T0, end, maintenance, sli.is_up)
        up, down, unknown, maint = seconds
        assert (up, down, maint) == (expected.good, expected.bad, expected.maintenance)
        assert abs(unknown - expected.unknown) < 1e-6
    ledger.close()
