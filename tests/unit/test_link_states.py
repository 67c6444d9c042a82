"""sla_link_state_seconds_total (collectors/snmp/link_states.py): window scoping, reloads, the text, and the KPI engine's figures."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from agent.app import Agent
from agent.config import parse_config
from agent.exposition import make_registry
from collectors.snmp.link_states import LinkId, LinkStates
from agent.scheduler import PollOutcome
from agent.state import AgentState
from collectors.base import Observation
from tests.fakes import FakeClock, FakeLinkCollector

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 10, 9, 0, tzinfo=SH).timestamp()
GBIT = 1e9 / 8
V = 60.0  # validity of a 30 s poll


def at(offset: float) -> str:
    """T0 + offset as the config writes a window's start or end."""
    return datetime.fromtimestamp(T0 + offset, SH).isoformat()


def window(name: str, start: float, end: float, **scope: list[str]) -> dict:
    return {"name": name, "start": at(start), "end": at(end), **scope}


def config(tmp_path, windows=(), kpis=True):
    return parse_config(
        {
            "agent": {"data_dir": str(tmp_path / "data"), "kpi_interval": "1s"},
            "snmp": {"devices": [{"name": "r1", "address": "127.0.0.1", "community": "c"}]},
            "link_groups": [
                {"name": "egress", "links": [{"name": "ct", "device": "r1", "if_name": "a"},
                                             {"name": "cu", "device": "r1", "if_name": "b"}]},
                {"name": "mobile", "links": [{"name": "m1", "device": "r1", "if_name": "c"}]},
            ],
            "kpis": [{"id": "egress_link_availability", "link_group": "egress"}] if kpis else [],
            "maintenance": list(windows),
        },
        "test.yaml",
    )


def poll(states: LinkStates, when: float, **values: float | None) -> None:
    observations = tuple(Observation(f"link:{link}:up", value) for link, value in values.items())
    states.observe(PollOutcome("snmp", "r1", when, 0.01, V, None, None, observations))


def test_a_window_covers_its_links_its_groups_links_or_every_link(tmp_path):
    windows = [
        window("ct only", 60, 90, links=["ct"]),
        window("egress", 120, 130, link_groups=["egress"]),
        window("everything", 180, 185),
        window("mobile", 10, 50, link_groups=["mobile"]),
    ]
    clock = FakeClock(T0)
    states = LinkStates.from_config(config(tmp_path, windows), clock)
    for t in range(0, 240, 30):
        poll(states, T0 + t, ct=1.0, cu=1.0, m1=1.0)
    clock.now = T0 + 240
    seconds = states.seconds()
    assert seconds["ct"] == (240 - 45, 0, 0, 30 + 10 + 5)
    assert seconds["cu"] == (240 - 15, 0, 0, 10 + 5)
    assert seconds["m1"] == (240 - 45, 0, 0, 40 + 5)


async def test_summed_over_a_group_the_counters_are_the_availability_kpi(tmp_path):
    """The agent's own KPI figures and the counters over the same time, worked out by hand.

    Polls every 30 s: ct up, down at 30, every poll failing at 60, both up from 90.
    Windows: ct alone 40-70, the group 100-110, and the other group's link 0-150 (not this KPI's).

    ct: up 0-30, 90-100, 110-150 (80); down 30-40 (10); unknown 70-90 (20); maintenance 40-70, 100-110 (40).
    cu: up 0-60, 90-100, 110-150 (110); unknown 60-90 (30); maintenance 100-110 (10).
    """
    windows = [window("ct", 40, 70, links=["ct"]), window("egress", 100, 110, link_groups=["egress"]),
               window("m1", 0, 150, links=["m1"])]
    clock = FakeClock(T0)
    fake = FakeLinkCollector(links={"ct": 10 * GBIT, "cu": 10 * GBIT, "m1": GBIT})
    agent = Agent(config(tmp_path, windows), [fake], clock)
    for t, ct_up, failing in ((0, True, False), (30, False, False), (60, False, True), (90, True, False),
                              (120, True, False)):
        clock.now = T0 + t
        fake.states["ct"], fake.failing = ct_up, failing
        await agent.scheduler.poll_once(fake, fake.target)
        await agent.flush()
    clock.now = T0 + 150
    await agent.evaluate()
    totals = next(r for r in agent.state.kpis if r.definition.id == "egress_link_availability").totals
    assert totals is not None
    seconds = agent.state.live[0].seconds()
    assert seconds["ct"] == (80, 10, 20, 40)
    assert seconds["cu"] == (110, 0, 30, 10)
    up, down, _, maintenance = (sum(s) for s in zip(seconds["ct"], seconds["cu"]))
    assert (up, down, maintenance) == (totals.good, totals.bad, totals.maintenance) == (190, 10, 50)

    registry = make_registry(agent.state)
    labels = {"link": "ct", "group": "egress", "device": "r1"}
    assert registry.get_sample_value("sla_link_state_seconds_total", {**labels, "state": "down"}) == 10
    assert registry.get_sample_value("sla_link_state_seconds_total", {**labels, "state": "maintenance"}) == 40
    agent.ledger.close()


def test_a_reload_measures_new_links_from_then_and_keeps_the_others(tmp_path):
    """a kept, b moved to another device (new labels: a new series, its ledger segment goes on), c added."""
    clock = FakeClock(T0)
    states = LinkStates([LinkId("a", "g", "r1"), LinkId("b", "g", "r1"), LinkId("gone", "g", "r1")], clock=clock)
    poll(states, T0 + 10, a=1.0, b=1.0, gone=0.0)  # valid until T0+70
    clock.now = T0 + 50
    states.configure([LinkId("a", "g", "r1"), LinkId("b", "g", "r2"), LinkId("c", "g", "r2")], (), SH)
    clock.now = T0 + 80
    seconds = states.seconds()
    assert set(seconds) == {"a", "b", "c"}
    assert seconds["a"] == (60, 0, 20, 0)  # unknown 0-10 and 70-80
    assert seconds["b"] == (20, 0, 10, 0)  # from the reload: up until 70, then stale
    assert seconds["c"] == (0, 0, 30, 0)
    registry_devices = {dict(labels)["device"] for _, labels, _ in states.series() if dict(labels)["link"] == "b"}
    assert registry_devices == {"r2"}


def test_a_window_added_by_a_reload_counts_from_the_reload(tmp_path):
    clock = FakeClock(T0)
    states = LinkStates.from_config(config(tmp_path), clock)
    poll(states, T0, ct=1.0, cu=1.0, m1=1.0)
    clock.now = T0 + 50
    states.reconfigure(config(tmp_path, [window("w", 40, 60, links=["ct"])]))
    poll(states, T0 + 50, ct=1.0, cu=1.0, m1=1.0)
    clock.now = T0 + 70
    seconds = states.seconds()
    assert seconds["ct"] == (60, 0, 0, 10)  # 40-50 was counted up before the window existed
    assert seconds["cu"] == (70, 0, 0, 0)


def test_the_wall_clock_going_back_never_takes_a_second_off():
    clock = FakeClock(T0)
    states = LinkStates([LinkId("a", "g", "r1")], clock=clock)
    poll(states, T0, a=1.0)
    clock.now = T0 + 40
    before = states.seconds()["a"]
    clock.now = T0 + 10  # stepped back 30 s
    poll(states, T0 + 10, a=0.0)  # counted from what was shown (T0+40) on
    assert states.seconds()["a"] == before == (40, 0, 0, 0)
    clock.now = T0 + 45
    assert states.seconds()["a"] == (40, 5, 0, 0)


def text_values(text: str) -> dict[tuple[str, str], float]:
    return {(s.labels["link"], s.labels["state"]): s.value
            for family in text_string_to_metric_families(text) if family.name == "sla_link_state_seconds"
            for s in family.samples}


def test_each_scrape_shows_the_time_up_to_itself_from_lines_kept_between_changes(tmp_path):
    clock = FakeClock(T0)
    state = AgentState()
    state.live = (LinkStates.from_config(config(tmp_path, [window("w", 100, 130, links=["cu"])]), clock),)
    poll(state.live[0], T0 + 10, ct=1.0, cu=0.0, m1=None)
    clock.now = T0 + 20.25
    first = text_values(state.render().decode())
    assert first[("ct", "up")] == 10.25 and first[("ct", "unknown")] == 10
    assert first[("cu", "down")] == 10.25 and first[("m1", "unknown")] == 20.25
    kept = state.live[0]._by_name["ct"].view[0].text
    poll(state.live[0], T0 + 40, ct=1.0, cu=0.0, m1=None)  # the same states: the kept lines stay
    clock.now = T0 + 41
    second = text_values(state.render().decode())
    assert second[("ct", "up")] - first[("ct", "up")] == 41 - 20.25
    assert state.live[0]._by_name["ct"].view[0].text is kept
    # Inside cu's window, no poll since it began: the long way, still exact.
    clock.now = T0 + 110
    third = text_values(state.render().decode())
    assert (third[("cu", "down")], third[("cu", "maintenance")]) == (90, 10)
    assert third == {(link, state): value for link, seconds in state.live[0].seconds().items()
                     for state, value in zip(("up", "down", "unknown", "maintenance"), seconds)}


def test_a_scrape_inside_a_poll_is_not_undone_by_the_poll():
    clock = FakeClock(T0)
    states = LinkStates([LinkId("a", "g", "r1")], clock=clock)
    poll(states, T0, a=1.0)
    clock.now = T0 + 30.5
    shown = text_values(b"".join(states.chunks()).decode())
    poll(states, T0 + 30, a=0.0)  # began at T0+30, before that scrape; lands after it
    assert text_values(b"".join(states.chunks()).decode()) == shown
    clock.now = T0 + 31
    assert states.seconds()["a"] == (30.5, 0.5, 0, 0)


def test_no_links_no_family():
    assert LinkStates([]).chunks() == []


@pytest.mark.parametrize("name", ['quote " back\\slash\nnewline 至电信'])
def test_label_values_are_escaped(name):
    states = LinkStates([LinkId(name, "g", "r1")], clock=FakeClock(T0))
    text = b"".join(states.chunks()).decode()
    assert 'link="quote \\" back\\\\slash\\nnewline 至电信"' in text
    assert text_values(text)[(name, "unknown")] == 0


_EVENTS = st.lists(st.tuples(st.integers(0, 45), st.booleans(),
                             st.tuples(*[st.sampled_from([1.0, 0.0, None])] * 3)), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(_EVENTS)
def test_the_text_always_says_what_the_accounts_say_and_never_goes_back(events):
    """Scrapes at random moments (inside windows, after validities ran out, right after changes)."""
    windows = [window("ct", 40, 70, links=["ct"]), window("egress", 100, 110, link_groups=["egress"]),
               window("all", 200, 260)]
    clock = FakeClock(T0)
    states = LinkStates.from_config(config(Path("/nonexistent"), windows), clock)
    last: dict[tuple[str, str], float] = {}
    for step, is_poll, (ct, cu, m1) in events:
        clock.advance(step)
        if is_poll:
            poll(states, clock.now, ct=ct, cu=cu, m1=m1)
            continue
        shown = text_values(b"".join(states.chunks()).decode())
        expected = {(link, state): round(value, 6) for link, seconds in states.seconds().items()
                    for state, value in zip(("up", "down", "unknown", "maintenance"), seconds)}
        assert shown == pytest.approx(expected, abs=2e-6)
        assert all(shown[key] >= value for key, value in last.items())
        for link in ("ct", "cu", "m1"):
            assert sum(shown[(link, s)] for s in ("up", "down", "unknown", "maintenance")) == pytest.approx(
                clock.now - T0, abs=1e-5)
        last = shown
