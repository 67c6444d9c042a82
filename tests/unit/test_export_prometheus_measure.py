"""Hand-worked cases for the store-based export's counter arithmetic (agent/export/prometheus_measure.py)."""

import math

import pytest

from agent.export import prometheus_measure as pm
from agent.export.prometheus_measure import Step
from agent.sli import Totals


def link(t: float, up: float = 0.0, down: float = 0.0, unknown: float = 0.0, maintenance: float = 0.0):
    return (t, {"up": up, "down": down, "unknown": unknown, "maintenance": maintenance})


def approx_steps(steps):
    return [(pytest.approx(s.start), pytest.approx(s.end), {k: pytest.approx(v) for k, v in s.delta.items() if v})
            for s in steps]


# --- plain counters (SMS) ----------------------------------------------------------------------


def test_counter_growth_with_a_reset_counts_the_new_value_from_zero():
    samples = [(0, {"c": 10}), (15, {"c": 14}), (30, {"c": 3}), (45, {"c": 5})]
    steps = pm.counter_steps(samples, from_zero=False)
    assert [(s.start, s.end, s.delta["c"]) for s in steps] == [(0, 15, 4), (15, 30, 3), (30, 45, 2)]
    assert pm.total(steps) == {"c": 9}


def test_a_new_series_counts_its_first_value_only_with_from_zero():
    samples = [(100, {"c": 7}), (115, {"c": 9})]
    assert pm.total(pm.counter_steps(samples, from_zero=True)) == {"c": 9}
    assert pm.total(pm.counter_steps(samples, from_zero=False)) == {"c": 2}
    # The value first seen at 100 counts in a window that holds 100, not in one that starts there.
    steps = pm.counter_steps(samples, from_zero=True)
    assert pm.total(pm.clip(steps, 99, 200)) == {"c": 9}
    assert pm.total(pm.clip(steps, 100, 200)) == {"c": 2}


def test_one_counter_going_back_resets_the_whole_group():
    # The ledger was lost: delivered went back, failed did not (5 -> 7), yet 7 are new.
    samples = [(0, {"delivered": 100, "failed": 5}), (15, {"delivered": 2, "failed": 7})]
    assert pm.total(pm.counter_steps(samples, from_zero=False)) == {"delivered": 2, "failed": 7}


def test_missed_scrapes_lose_nothing():
    every = [(t, {"c": t * 2}) for t in range(0, 61, 15)]
    sparse = [every[0], every[4]]  # three scrapes missed
    assert pm.total(pm.counter_steps(every, from_zero=False)) == pm.total(pm.counter_steps(sparse, from_zero=False))


def test_joint_samples_merge_series_by_timestamp():
    joined = pm.joint_samples([("a", [(0, 1), (15, 2)]), ("b", [(15, 5), (30, 6)])])
    assert joined == [(0, {"a": 1}), (15, {"a": 2, "b": 5}), (30, {"b": 6})]
    # "b" appears at 15: its value there counts from 0 within the group
    assert pm.total(pm.counter_steps(joined, from_zero=False)) == {"a": 1, "b": 6}


# --- link-state counters -----------------------------------------------------------------------


def test_first_sample_is_a_step_from_the_instant_measuring_began():
    # First scraped at 1000 with 30 s measured: measuring began at 970.
    steps = pm.link_steps([link(1000, up=25, down=5), link(1015, up=40, down=5)])
    assert approx_steps(steps) == [(970, 1000, {"up": 25, "down": 5}), (1000, 1015, {"up": 15})]


def test_a_restart_leaves_the_gap_unknown_and_counts_the_new_run_from_zero():
    samples = [link(0, up=100), link(15, up=115), link(30, up=4), link(45, up=19)]  # restarted at 26
    steps = pm.link_steps(samples)
    assert approx_steps(steps) == [(-100, 0, {"up": 100}), (0, 15, {"up": 15}), (26, 30, {"up": 4}), (30, 45, {"up": 15})]
    totals = pm.link_totals(pm.clip(steps, 0, 45), 0, 45)
    assert totals == Totals(good=pytest.approx(34), bad=0, unknown=pytest.approx(11), maintenance=0)


def test_a_restart_hidden_by_missed_scrapes_is_seen_from_the_total():
    # Last sample of run 1 at 100 (it had run 5 s); scrapes missed; run 2 began at 150 and has run
    # 50 s by 200: every counter is higher than before, but the total grew 45 s in 100 s.
    samples = [link(100, up=3, down=2), link(200, up=45, down=5)]
    steps = pm.link_steps(samples)
    assert approx_steps(steps)[1] == (150, 200, {"up": 45, "down": 5})
    # A clock that ran on as it should is one run, however many scrapes were missed.
    assert approx_steps(pm.link_steps([link(100, up=95, down=5), link(200, up=195, down=5)]))[1] == (100, 200, {"up": 100})


def test_a_scrape_missing_one_state_is_skipped():
    partial = (15, {"up": 15, "down": 0, "unknown": 0})  # maintenance's series missing
    steps = pm.link_steps([link(0), partial, link(30, up=30)])
    assert approx_steps(steps) == [(0, 0, {}), (0, 30, {"up": 30})]


# --- window edges ------------------------------------------------------------------------------


def test_edges_are_interpolated_exactly_while_the_state_holds():
    steps = pm.link_steps([link(100, up=100), link(115, up=115), link(130, up=130)])
    assert pm.total(pm.clip(steps, 110, 125)) == {"up": pytest.approx(15), "down": 0, "unknown": 0, "maintenance": 0}


def test_a_state_change_inside_an_edge_step_errs_by_less_than_the_step():
    # Down at 120. True split of [110, 125): 10 s up, 5 s down.
    steps = pm.link_steps([link(100, up=100), link(115, up=115), link(130, up=120, down=10)])
    got = pm.total(pm.clip(steps, 110, 125))
    assert got["up"] == pytest.approx(5 + 5 * 10 / 15)  # 8.33
    assert got["down"] == pytest.approx(10 * 10 / 15)  # 6.67
    assert abs(got["up"] - 10) < 15 and abs(got["down"] - 5) < 15


def test_a_series_that_starts_mid_month_counts_from_its_start():
    month = (0.0, 31 * 86400.0)
    begun = 10 * 86400.0  # the agent was first started on the 11th
    samples = [link(begun + 5, up=5)] + [link(begun + 5 + 15 * i, up=5 + 15 * i) for i in range(1, 5)]
    totals = pm.link_totals(pm.clip(pm.link_steps(samples), *month), *month)
    assert totals.good == pytest.approx(65)
    assert totals.unknown == pytest.approx(month[1] - 65)  # before the agent ran: unknown, as in the ledger


# --- totals over links -------------------------------------------------------------------------


def test_maintenance_is_neither_good_nor_bad_nor_unknown():
    steps = pm.link_steps([link(0), link(60, up=30, down=10, maintenance=20)])
    assert pm.link_totals(pm.clip(steps, 0, 100), 0, 100) == Totals(good=30, bad=10, unknown=40, maintenance=20)


def test_a_configured_window_no_agent_ran_through_is_maintenance_as_in_the_ledger():
    # The agent ran 0-60 s, in a window 20-30 s (its counters: 10 s maintenance); a second window,
    # 80-90 s, came while no agent ran. The ledger excludes both windows: 20 s of maintenance,
    # 50 s known, and the 30 s left (60-80, 90-100) unknown.
    steps = pm.link_steps([link(0), link(60, up=40, down=10, maintenance=10)])
    assert pm.link_totals(pm.clip(steps, 0, 100), 0, 100, maintenance=20) == Totals(
        good=40, bad=10, unknown=30, maintenance=20)
    # The counters' own maintenance stands if it is more (the agent ran with a window since removed).
    assert pm.link_totals(pm.clip(steps, 0, 100), 0, 100, maintenance=5) == Totals(
        good=40, bad=10, unknown=40, maintenance=10)
    # Never more than the time the link was not up or down.
    assert pm.link_totals(pm.clip(steps, 0, 100), 0, 100, maintenance=70) == Totals(
        good=40, bad=10, unknown=0, maintenance=50)


def test_links_on_several_shards_add_up_and_one_link_cannot_claim_more_than_the_window():
    shard0 = pm.link_steps([link(0), link(100, up=90, down=10)])
    shard1 = pm.link_steps([link(0), link(100, up=100)])
    total = pm.link_totals(shard0, 0, 100) + pm.link_totals(shard1, 0, 100)
    assert total == Totals(good=190, bad=10, unknown=0, maintenance=0)
    # The same link's series twice over the same time (scraped twice): cut back to the window.
    assert pm.link_totals(shard1 + shard1, 0, 100) == Totals(good=100, bad=0, unknown=0, maintenance=0)


# --- outages, charts ---------------------------------------------------------------------------


def test_outages_are_runs_of_steps_in_which_down_grew():
    steps = [Step(0, 15, {"up": 15}), Step(15, 30, {"up": 5, "down": 10}), Step(30, 45, {"down": 15}),
             Step(45, 60, {"down": 3, "up": 12}), Step(60, 75, {"up": 15}), Step(75, 90, {"down": 4, "up": 11})]
    assert pm.outages(steps) == [(20, 48, 28), (75, 79, 4)]


def test_maintenance_between_down_steps_splits_the_outage():
    steps = [Step(0, 15, {"down": 15}), Step(15, 30, {"maintenance": 15}), Step(30, 45, {"down": 15})]
    assert pm.outages(steps) == [(0, 15, 15), (30, 45, 15)]


def test_state_spans_lay_out_each_step_and_fill_gaps_with_unknown():
    steps = [Step(10, 20, {"up": 6, "down": 4}), Step(30, 40, {"maintenance": 10})]
    assert pm.state_spans(steps, 0, 50) == [(0, 10, "unknown"), (10, 16, "up"), (16, 20, "down"),
                                            (20, 30, "unknown"), (30, 40, "maintenance"), (40, 50, "unknown")]


# --- gauges, histogram -------------------------------------------------------------------------


def test_gauge_points_hold_one_step_and_equal_neighbours_merge():
    points = [(0, 5.0), (15, 5.0), (30, 7.0), (60, 7.0), (75, math.nan)]
    assert pm.gauge_segments(points, 15, 80) == [(0, 30, 5.0), (30, 45, 7.0), (60, 75, 7.0)]


def test_scrape_interval_is_the_median_gap():
    assert pm.scrape_interval([[0, 15, 30, 45, 120], [7, 22]], 60) == 15
    assert pm.scrape_interval([[5]], 60) == 60


CUMULATIVE = {0.625: 9, 2.5: 21, 10.0: 21, 20.0: 24, math.inf: 24}


def test_histogram_share_within_is_exact_on_an_edge_and_short_off_one():
    assert pm.share_within(CUMULATIVE, 10.0) == pytest.approx(21 / 24)
    assert pm.share_within(CUMULATIVE, 15.0) == pytest.approx(21 / 24)  # 10 s is the edge below 15 s
    assert pm.share_within(CUMULATIVE, 0.1) == 0.0
    assert pm.share_within({math.inf: 0}, 10.0) is None


def test_histogram_percentile_is_its_bucket_upper_edge():
    assert pm.percentile_edge(CUMULATIVE, 0.5) == 2.5  # the 12th of 24
    assert pm.percentile_edge(CUMULATIVE, 0.95) == 20.0  # the 23rd
    assert pm.percentile_edge(CUMULATIVE, 0.3) == 0.625  # the 8th (rank ceil(7.2))
    assert pm.percentile_edge({10.0: 1, math.inf: 4}, 0.95) == 10.0  # beyond every edge: the last one
    assert pm.buckets(CUMULATIVE) == [(0.0, 0.625, 9), (0.625, 2.5, 12), (2.5, 10.0, 0), (10.0, 20.0, 3),
                                      (20.0, math.inf, 0)]
