"""Counter arithmetic with hand-worked numbers (collectors/snmp/counters.py)."""

from __future__ import annotations

import itertools

import pytest

from collectors.snmp.counters import (
    MAX_RATE_UNKNOWN_CAPACITY,
    UPTIME_WRAP,
    LinkBaseline,
    RateStatus,
    Reading,
    UptimeChange,
    counter_rate,
    counters_rising,
    link_rates,
    max_plausible_rate,
    uptime_change,
)

GBIT = 1e9 / 8  # bytes/s


class TestUptime:
    def test_first_reading(self) -> None:
        assert uptime_change(None, Reading(5.0, 123)) is UptimeChange.FIRST

    def test_normal_advance(self) -> None:
        # 30 s on the agent's clock, 3,000 ticks (30 s) on the device.
        assert uptime_change(Reading(100.0, 10_000), Reading(130.0, 13_000)) is UptimeChange.CONTINUOUS

    def test_advance_within_slack(self) -> None:
        # 30 s elapsed but the device counted 25 s: latency/retries, within the 10 s slack.
        assert uptime_change(Reading(0.0, 10_000), Reading(30.0, 12_500)) is UptimeChange.CONTINUOUS

    def test_reboot_uptime_went_back(self) -> None:
        # 10,000 s of uptime, 30 s later only 5 s: the device restarted.
        assert uptime_change(Reading(0.0, 1_000_000), Reading(30.0, 500)) is UptimeChange.REBOOT

    def test_reboot_between_distant_polls(self) -> None:
        # Last seen at 1,000 s uptime; an hour later uptime is 2,000 s: it only
        # advanced 1,000 s in 3,600 s, so it restarted in between.
        assert uptime_change(Reading(0.0, 100_000), Reading(3600.0, 200_000)) is UptimeChange.REBOOT

    def test_wrap_is_not_a_reboot(self) -> None:
        # 10 s before the 2**32 wrap, then 30 s later 20 s after it:
        # wrapped difference (1,000 + 2,000 ticks) = 30 s = elapsed.
        prev = Reading(0.0, UPTIME_WRAP - 1_000)
        cur = Reading(30.0, 2_000)
        assert uptime_change(prev, cur, counters_rising=True) is UptimeChange.WRAPPED

    def test_wrap_with_counters_falling_is_a_reboot(self) -> None:
        prev = Reading(0.0, UPTIME_WRAP - 1_000)
        cur = Reading(30.0, 2_000)
        assert uptime_change(prev, cur, counters_rising=False) is UptimeChange.REBOOT

    def test_wrap_elapsed_mismatch_is_a_reboot(self) -> None:
        # Near the wrap, but 300 s elapsed while the wrapped difference is 30 s.
        prev = Reading(0.0, UPTIME_WRAP - 1_000)
        cur = Reading(300.0, 2_000)
        assert uptime_change(prev, cur, counters_rising=True) is UptimeChange.REBOOT

    def test_uptime_back_far_from_wrap_is_a_reboot(self) -> None:
        # 1,000,000 s uptime is nowhere near 2**32 ticks (~42.9 million s).
        assert uptime_change(Reading(0.0, 100_000_000), Reading(30.0, 2_000), True) is UptimeChange.REBOOT


class TestCounterRate:
    def test_first_sample_has_no_rate(self) -> None:
        assert counter_rate(None, Reading(0.0, 42), GBIT) == counter_rate(None, Reading(9.0, 1), GBIT)
        assert counter_rate(None, Reading(0.0, 42), GBIT).status is RateStatus.FIRST
        assert counter_rate(None, Reading(0.0, 42), GBIT).value is None

    def test_normal_rate(self) -> None:
        # 3,000,000 bytes in 30 s = 100,000 bytes/s.
        rate = counter_rate(Reading(0.0, 1_000_000), Reading(30.0, 4_000_000), GBIT)
        assert rate.status is RateStatus.OK
        assert rate.value == pytest.approx(100_000.0)

    def test_no_traffic_is_zero(self) -> None:
        rate = counter_rate(Reading(0.0, 77), Reading(30.0, 77), GBIT)
        assert (rate.value, rate.status) == (0.0, RateStatus.OK)

    def test_counter_cleared(self) -> None:
        rate = counter_rate(Reading(0.0, 5_000_000), Reading(30.0, 1_200), GBIT)
        assert (rate.value, rate.status) == (None, RateStatus.CLEARED)
        assert rate.status.discontinuity

    def test_absurd_rate(self) -> None:
        # 1 Gbit/s link = 125e6 bytes/s; limit 2x = 250e6. 9e9 bytes in 30 s = 300e6/s.
        limit = max_plausible_rate(GBIT)
        assert limit == pytest.approx(250e6)
        rate = counter_rate(Reading(0.0, 0), Reading(30.0, 9_000_000_000), limit)
        assert (rate.value, rate.status) == (None, RateStatus.ABSURD)
        assert rate.status.discontinuity

    def test_exactly_at_limit_is_kept(self) -> None:
        rate = counter_rate(Reading(0.0, 0), Reading(30.0, 7_500_000_000), 250e6)
        assert rate.value == pytest.approx(250e6)

    def test_unknown_capacity_limit(self) -> None:
        assert max_plausible_rate(None) == MAX_RATE_UNKNOWN_CAPACITY == max_plausible_rate(0.0)
        # 1.6e12 bytes/s x 10 s is fine, one byte more per second is not.
        assert counter_rate(Reading(0.0, 0), Reading(10.0, 16 * 10**12), MAX_RATE_UNKNOWN_CAPACITY).value == 1.6e12
        assert counter_rate(Reading(0.0, 0), Reading(10.0, 16 * 10**12 + 10), MAX_RATE_UNKNOWN_CAPACITY).value is None

    def test_clock_did_not_advance(self) -> None:
        rate = counter_rate(Reading(5.0, 0), Reading(5.0, 100), GBIT)
        assert (rate.value, rate.status) == (None, RateStatus.NO_TIME)
        assert not rate.status.discontinuity

    def test_never_negative(self) -> None:
        values = [0, 1, 999, 2**32 - 1, 2**32, 2**63, 2**64 - 1]
        times = [0.0, 0.5, 30.0]
        for (t0, v0), (t1, v1) in itertools.product(itertools.product(times, values), repeat=2):
            rate = counter_rate(Reading(t0, v0), Reading(t1, v1), MAX_RATE_UNKNOWN_CAPACITY)
            assert rate.value is None or rate.value >= 0


class TestLinkRates:
    def test_normal(self) -> None:
        prev = LinkBaseline(if_index=3, at=0.0, rx=1_000, tx=2_000)
        cur = LinkBaseline(if_index=3, at=10.0, rx=11_000, tx=2_500)
        rates = link_rates(prev, cur, GBIT)
        assert (rates.rx, rates.tx, rates.discontinuity) == (1_000.0, 50.0, False)
        assert rates.baseline == cur

    def test_first_sample(self) -> None:
        cur = LinkBaseline(3, 10.0, 11_000, 2_500)
        assert link_rates(None, cur, GBIT) == link_rates(None, cur, GBIT)
        rates = link_rates(None, cur, GBIT)
        assert (rates.rx, rates.tx, rates.discontinuity, rates.baseline) == (None, None, False, cur)

    def test_reboot_reseeds_without_counting_per_link(self) -> None:
        prev = LinkBaseline(3, 0.0, 9_000_000, 9_000_000)
        cur = LinkBaseline(3, 30.0, 100, 200)
        rates = link_rates(prev, cur, GBIT, rebooted=True)
        assert (rates.rx, rates.tx, rates.discontinuity, rates.baseline) == (None, None, False, cur)

    def test_interface_changed_is_a_discontinuity(self) -> None:
        prev = LinkBaseline(3, 0.0, 1_000, 1_000)
        cur = LinkBaseline(7, 30.0, 5_000, 5_000)
        rates = link_rates(prev, cur, GBIT)
        assert (rates.rx, rates.tx, rates.discontinuity) == (None, None, True)

    def test_one_direction_cleared(self) -> None:
        # Receive counter cleared, transmit went on: 3,000 bytes in 30 s = 100 bytes/s.
        prev = LinkBaseline(3, 0.0, 1_000_000, 1_000)
        cur = LinkBaseline(3, 30.0, 10, 4_000)
        rates = link_rates(prev, cur, GBIT)
        assert (rates.rx, rates.tx, rates.discontinuity) == (None, 100.0, True)

    def test_missing_counter(self) -> None:
        prev = LinkBaseline(3, 0.0, 1_000, None)
        cur = LinkBaseline(3, 10.0, 2_000, 500)
        rates = link_rates(prev, cur, GBIT)
        assert (rates.rx, rates.tx, rates.discontinuity) == (100.0, None, False)


def test_counters_rising() -> None:
    assert counters_rising([])
    assert counters_rising([(1, 1), (1, 2)])
    assert not counters_rising([(1, 2), (5, 4)])
