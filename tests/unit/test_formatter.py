"""agent/formatter.py: targets' /metrics lines formatted after their polls, identical to a scrape's own."""

from __future__ import annotations

import logging
import threading

import pytest

from agent.formatter import TargetFormatter
from agent.scheduler import PollOutcome
from agent.state import AgentState
from collectors.base import PollResult, Sample


def outcome(target: str, at: float, value: float, name: str = "sla_snmp_device_uptime_seconds") -> PollOutcome:
    samples = (Sample(name, (("target", target),), value),)
    return PollOutcome("snmp", target, at, 0.01, 60.0, PollResult(samples=samples), None, ())


def polled(state: AgentState, polls: int = 3, targets: int = 20) -> None:
    for poll in range(polls):
        for t in range(targets):
            state.apply(outcome(f"rt-{t}", 1000.0 + 30 * poll, 86400.0 + 30 * poll + t))


@pytest.fixture
def formatter():
    formatter = TargetFormatter()
    formatter.start()
    yield formatter
    formatter.stop()


def test_polled_targets_are_formatted_before_any_scrape(formatter: TargetFormatter) -> None:
    state = AgentState(formatter=formatter)
    polled(state)
    assert formatter.drain(10.0)
    assert all(target._text is not None for target in state.target_list())
    assert all(target.samples == () for target in state.target_list())  # released once formatted


def test_a_scrape_serves_the_same_bytes_with_or_without_the_formatter(formatter: TargetFormatter) -> None:
    formatted, plain = AgentState(formatter=formatter), AgentState()
    polled(formatted)
    polled(plain)
    assert formatter.drain(10.0)
    assert formatted.render() == plain.render()
    assert b'sla_snmp_device_uptime_seconds{target="rt-19"} 86479.0\n' in formatted.render()


def test_without_a_started_thread_nothing_is_queued_and_scrapes_format() -> None:
    formatter = TargetFormatter()  # never started: submit is a no-op
    state = AgentState(formatter=formatter)
    polled(state, polls=1, targets=2)
    assert formatter.drain(1.0)
    assert all(target._text is None for target in state.target_list())
    assert b'target="rt-1"' in state.render()


def test_a_target_that_cannot_be_formatted_is_logged_on_one_line_and_the_rest_go_on(
        formatter: TargetFormatter, caplog: pytest.LogCaptureFixture) -> None:
    state = AgentState(formatter=formatter)
    with caplog.at_level(logging.ERROR, logger="agent.formatter"):
        state.apply(outcome("bad", 1000.0, 1.0, name="not_a_declared_metric"))
        state.apply(outcome("good", 1000.0, 1.0))
        assert formatter.drain(10.0)
    assert state.targets[("snmp", "good")]._text is not None
    [record] = caplog.records
    assert record.getMessage().startswith("could not format the /metrics lines of snmp bad: KeyError(")
    assert "\n" not in record.getMessage() and record.exc_info is None


def test_stop_ends_the_thread_without_working_through_the_queue() -> None:
    formatter = TargetFormatter()
    formatter.start()
    state = AgentState(formatter=formatter)
    polled(state, polls=5, targets=500)
    formatter.stop(timeout=5.0)
    assert not any(thread.name == "metrics-format" and thread.is_alive() for thread in threading.enumerate())
