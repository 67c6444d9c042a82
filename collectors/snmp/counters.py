"""Pure counter arithmetic: rates between two polls and discontinuity detection.

No I/O and no clock: every function takes the readings (value + the
monotonic time the agent read it) and returns a verdict, so each rule is
tested with hand-worked numbers.

A *discontinuity* is any point where the difference between two readings
does not measure traffic: the device rebooted, the counters were cleared,
the link's interface changed, or the difference is physically impossible.
No rate is produced across one; the new reading becomes the baseline.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterable, NamedTuple

TICKS_PER_SECOND = 100  # sysUpTime is TimeTicks, hundredths of a second
UPTIME_WRAP = 2**32  # TimeTicks is 32-bit unsigned: wraps after ~497 days
# With no known capacity, a rate above this is a glitch: 12.8 Tbit/s is more
# than any single interface carries.
MAX_RATE_UNKNOWN_CAPACITY = 1.6e12
# A link cannot carry more than its line rate; allow 2x for counter sampling
# skew (the device updates counters in batches) before calling a rate absurd.
ABSURD_FACTOR = 2.0
# How far the device's uptime may disagree with the agent's clock between two
# polls and still count as "the same elapsed time": request latency, retries
# and device clock drift. Generous, because a wrong "reboot" only costs one
# rate, while a missed reboot could produce a garbage one (which the absurd
# check still catches).
UPTIME_SLACK_SECONDS = 10.0
UPTIME_SLACK_RATIO = 0.05


@dataclass(frozen=True, slots=True)
class Reading:
    """A counter or uptime value and the monotonic time (seconds) it was read."""

    at: float
    value: int


class UptimeChange(enum.Enum):
    """How sysUpTime moved between two polls."""

    FIRST = "first"  # no previous reading
    CONTINUOUS = "continuous"  # advanced as the agent's clock did
    WRAPPED = "wrapped"  # went past 2**32 ticks and restarted at 0: not a reboot
    REBOOT = "reboot"  # the device (or its SNMP agent) restarted: counters restart too


def _slack(elapsed: float) -> float:
    return max(UPTIME_SLACK_SECONDS, UPTIME_SLACK_RATIO * abs(elapsed))


def uptime_change(prev: Reading | None, cur: Reading, counters_rising: bool = True) -> UptimeChange:
    """Classify the move of sysUpTime (in ticks) from ``prev`` to ``cur``.

    Uptime going back is a reboot unless it is the 32-bit wrap: the previous
    value was close enough to 2**32 that the wrapped difference matches the
    time that elapsed on the agent's clock, *and* the interface counters kept
    rising (``counters_rising``; a rebooted device restarts them near zero).
    Uptime going forward by clearly less than the elapsed time is also a
    reboot, one that happened between two polls far apart (e.g. while the
    device was unreachable).
    """
    if prev is None:
        return UptimeChange.FIRST
    elapsed = cur.at - prev.at
    if cur.value >= prev.value:
        advanced = (cur.value - prev.value) / TICKS_PER_SECOND
        if advanced < elapsed - _slack(elapsed):
            return UptimeChange.REBOOT
        return UptimeChange.CONTINUOUS
    wrapped = (cur.value + UPTIME_WRAP - prev.value) / TICKS_PER_SECOND
    if counters_rising and abs(wrapped - elapsed) <= _slack(elapsed):
        return UptimeChange.WRAPPED
    return UptimeChange.REBOOT


def counters_rising(pairs: Iterable[tuple[int, int]]) -> bool:
    """True if no counter in ``(previous, current)`` pairs went back.

    Vacuously true without pairs: with nothing to contradict it, an uptime
    that wrapped exactly on schedule is taken as a wrap.
    """
    return all(cur >= prev for prev, cur in pairs)


def max_plausible_rate(capacity: float | None) -> float:
    """The highest believable rate in bytes/s for an interface of ``capacity`` bytes/s."""
    if capacity is not None and capacity > 0:
        return ABSURD_FACTOR * capacity
    return MAX_RATE_UNKNOWN_CAPACITY


class RateStatus(enum.Enum):
    OK = "ok"
    FIRST = "first"  # no baseline yet
    NO_TIME = "no_time"  # the clock did not advance: nothing to divide by
    CLEARED = "cleared"  # counter went back without a reboot (cleared by an operator)
    ABSURD = "absurd"  # faster than the interface can carry

    @property
    def discontinuity(self) -> bool:
        return self in (RateStatus.CLEARED, RateStatus.ABSURD)


@dataclass(frozen=True, slots=True)
class Rate:
    """A rate in units per second, or None with the reason in ``status``."""

    value: float | None
    status: RateStatus


def counter_rate(prev: Reading | None, cur: Reading, max_rate: float) -> Rate:
    """Rate of a 64-bit counter between two readings.

    Counter64 is not expected to wrap (2**64 bytes take 46 years at
    100 Gbit/s), so a counter going back means it was cleared. Never negative.
    """
    if prev is None:
        return Rate(None, RateStatus.FIRST)
    elapsed = cur.at - prev.at
    if elapsed <= 0:
        return Rate(None, RateStatus.NO_TIME)
    if cur.value < prev.value:
        return Rate(None, RateStatus.CLEARED)
    rate = (cur.value - prev.value) / elapsed
    if rate > max_rate:
        return Rate(None, RateStatus.ABSURD)
    return Rate(rate, RateStatus.OK)


class LinkBaseline(NamedTuple):  # NamedTuples: built for every link on every poll
    """The last readings of one link's HC octet counters."""

    if_index: int
    at: float
    rx: int | None
    tx: int | None


class LinkRates(NamedTuple):
    """Receive/transmit rates (bytes/s) of one link and the baseline for next time."""

    rx: float | None
    tx: float | None
    discontinuity: bool
    baseline: LinkBaseline


def link_rates(
    prev: LinkBaseline | None,
    current: LinkBaseline,
    max_rate: float,
    rebooted: bool = False,
) -> LinkRates:
    """Rates of one link from its previous and current HC octet counters.

    After a device reboot there is no rate and no per-link discontinuity (the
    reboot is counted once for the device). A link whose interface changed
    (different ifIndex) is a discontinuity: the two readings are of different
    counters. Otherwise each direction is judged on its own, and the link
    counts one discontinuity if either direction was cleared or absurd.
    """
    if rebooted or prev is None:
        return LinkRates(None, None, False, current)
    if prev.if_index != current.if_index:
        return LinkRates(None, None, True, current)
    # counter_rate() per direction, without its objects: this runs for every link on every poll.
    elapsed = current.at - prev.at
    rx, rx_broken = _direction(prev.rx, current.rx, elapsed, max_rate)
    tx, tx_broken = _direction(prev.tx, current.tx, elapsed, max_rate)
    return LinkRates(rx, tx, rx_broken or tx_broken, current)


def _direction(before: int | None, now: int | None, elapsed: float, max_rate: float) -> tuple[float | None, bool]:
    """(rate, discontinuity) of one counter: counter_rate()'s verdict as plain values."""
    if now is None or before is None or elapsed <= 0:
        return None, False
    if now < before:
        return None, True  # cleared
    rate = (now - before) / elapsed
    if rate > max_rate:
        return None, True  # absurd
    return rate, False
