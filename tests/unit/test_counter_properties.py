"""Properties of the counter arithmetic: a simulated device polled through wraps, clears, reboots and glitches.

Hypothesis draws a run of polls. Between two polls the device carries
traffic at a steady rate, and sometimes an operator clears a counter, the
device reboots, a counter jumps absurdly, or sysUpTime passes 2**32. The
verdicts of collectors/snmp/counters.py are checked against what really
happened: every rate is the traffic divided by the agent's elapsed time and
never negative, no rate spans a clear, glitch or reboot, a wrap is not a
reboot, and a reboot is one (not a per-link discontinuity).
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st
from pytest import approx

from collectors.snmp.counters import (
    TICKS_PER_SECOND,
    UPTIME_SLACK_RATIO,
    UPTIME_SLACK_SECONDS,
    UPTIME_WRAP,
    LinkBaseline,
    Reading,
    UptimeChange,
    counters_rising,
    link_rates,
    max_plausible_rate,
    uptime_change,
)

CAPACITY = 10e9 / 8  # a 10 Gbit/s interface, in bytes/s
MAX_RATE = max_plausible_rate(CAPACITY)
START_COUNTER = 10**15  # far above what a rebooted device counts again in a poll or two
JITTER = 2.0  # seconds the device's uptime may disagree with the agent's clock per poll


@dataclass(frozen=True)
class Step:
    elapsed: float  # agent seconds since the previous poll
    rx_rate: float  # bytes/s carried since then
    tx_rate: float
    event: str  # "traffic", "clear", "glitch" or "reboot"
    jitter: float  # uptime disagreement, seconds (never so much that uptime runs back)
    since_boot: float  # for a reboot: seconds before this poll that the device came back


def _slack(elapsed: float) -> float:
    """How far uptime may lag the agent's clock and still be no reboot (counters.py's rule)."""
    return max(UPTIME_SLACK_SECONDS, UPTIME_SLACK_RATIO * elapsed)


@st.composite
def steps(draw) -> Step:
    elapsed = draw(st.floats(1.0, 900.0))
    event = draw(st.sampled_from(["traffic"] * 5 + ["clear", "glitch"] + (["reboot"] if elapsed - _slack(elapsed) >= 2 * JITTER + 2 else [])))
    return Step(elapsed, draw(st.floats(0, CAPACITY)), draw(st.floats(0, CAPACITY)), event,
                draw(st.floats(-min(JITTER, elapsed / 2), JITTER)), draw(st.floats(0, elapsed - _slack(elapsed) - 2 * JITTER - 1))
                if event == "reboot" else 0.0)


@given(st.integers(0, UPTIME_WRAP - 1), st.lists(steps(), min_size=1, max_size=30))
def test_rates_follow_the_traffic_through_wraps_clears_and_reboots(first_uptime, run):
    at, uptime = 1000.0, first_uptime
    rx = tx = START_COUNTER
    prev_up: Reading | None = Reading(at, uptime)
    baseline: LinkBaseline | None = LinkBaseline(7, at, rx, tx)
    for step in run:
        at += step.elapsed
        carried_rx, carried_tx = round(step.rx_rate * step.elapsed), round(step.tx_rate * step.elapsed)
        event = step.event
        if event == "clear" and carried_rx // 2 >= rx:
            event = "traffic"  # a counter cleared below nothing it had counted: no reading can tell
        if event == "reboot":  # counters restart near zero and count what came since
            uptime = round(step.since_boot * TICKS_PER_SECOND) % UPTIME_WRAP
            rx, tx = carried_rx, carried_tx
        else:
            uptime = (uptime + round((step.elapsed + step.jitter) * TICKS_PER_SECOND)) % UPTIME_WRAP
            rx, tx = rx + carried_rx, tx + carried_tx
            if event == "clear":
                rx = carried_rx // 2  # cleared during the interval
            elif event == "glitch":
                tx += round(3 * MAX_RATE * step.elapsed)  # faster than the line can carry
        wrapped = prev_up is not None and uptime < prev_up.value and event != "reboot"
        current = LinkBaseline(7, at, rx, tx)
        assert baseline is not None and prev_up is not None
        change = uptime_change(prev_up, Reading(at, uptime),
                               counters_rising([(baseline.rx or 0, rx), (baseline.tx or 0, tx)]))
        rates = link_rates(baseline, current, MAX_RATE, rebooted=change is UptimeChange.REBOOT)

        for rate in (rates.rx, rates.tx):
            assert rate is None or rate >= 0
        if event == "reboot":
            assert change is UptimeChange.REBOOT
            assert (rates.rx, rates.tx, rates.discontinuity) == (None, None, False)
        elif event == "traffic":
            assert change is (UptimeChange.WRAPPED if wrapped else UptimeChange.CONTINUOUS)
            assert (rates.rx, rates.tx) == (approx(carried_rx / step.elapsed), approx(carried_tx / step.elapsed))
            assert not rates.discontinuity
        elif change is not UptimeChange.REBOOT:  # a clear in the interval of a wrap reads as a reboot: no rate either
            assert rates.discontinuity
            if event == "clear":
                assert rates.rx is None and rates.tx == approx(carried_tx / step.elapsed)
            else:
                assert rates.tx is None and rates.rx == approx(carried_rx / step.elapsed)
        else:
            assert wrapped and event == "clear" and rates.rx is None and rates.tx is None
        prev_up, baseline = Reading(at, uptime), rates.baseline
