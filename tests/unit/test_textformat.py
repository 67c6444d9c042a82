"""/metrics text (agent/textformat.py) says exactly what prometheus_client says over the same state."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import generate_latest
from prometheus_client.utils import floatToGoString
from prometheus_client.parser import text_string_to_metric_families

from agent.exposition import make_registry
from collectors.snmp.link_states import LinkId, LinkStates
from agent.metrics import METRICS
from agent.scheduler import KindStats, PollOutcome
from agent.state import AgentState
from agent.textformat import float_text, go_float
from collectors.base import Observation, PollResult, Sample
from tests.fakes import FakeClock

LINK = ("link", "group", "device")


def link_sample(name: str, link: str, value: float) -> Sample:
    return Sample(name, tuple(zip(LINK, (link, "g", "rt-1"))), value)


def busy_state() -> AgentState:
    state = AgentState()
    awkward = 'quote " back\\slash\nnewline 至电信'
    clock = FakeClock(990.0)
    state.live = (LinkStates([LinkId(awkward, "g", "rt-1"), LinkId("b", "g", "rt-1")], clock=clock),)
    samples = (
        link_sample("sla_link_up", awkward, 1.0),
        link_sample("sla_link_receive_bytes_total", "b", 2.0**63),
        link_sample("sla_link_transmit_bytes_total", "b", 2**63 + 1),  # type: ignore[arg-type] # an int, as read
        link_sample("sla_link_capacity_bytes_per_second", "b", 1.25e9),
        Sample("sla_sms_send_latency_seconds_bucket", (("gateway", "gw"), ("le", "+Inf")), 4.0),
        Sample("sla_sms_send_latency_seconds_bucket", (("gateway", "gw"), ("le", "10.0")), 3.0),
        Sample("sla_sms_send_latency_seconds_sum", (("gateway", "gw"),), 12.5),
        Sample("sla_sms_send_latency_seconds_count", (("gateway", "gw"),), 4.0),
    )
    observations = (Observation(f"link:{awkward}:up", 1.0), Observation("link:b:up", 0.0))
    state.apply(PollOutcome("snmp", "rt-1", 1000.0, 0.02, 60.0, PollResult(samples=samples, discontinuities=2),
                            None, observations))
    clock.now = 1012.345678
    state.apply(PollOutcome("snmp", "dead", 1000.0, 2.0, 60.0, None, "no response", ()))
    state.shared["snmp"] = (Sample("sla_snmp_rejected_responses_total", (("reason", "malformed"),), 3.0),)
    stats = KindStats(skipped_ticks=5)
    stats.late(0.25, 1.0)
    state.scheduling = {"snmp": stats}
    state.kpi_evaluated_at = 1234.5
    return state


def parsed(text: str) -> tuple[dict[str, tuple[str, str]], set[tuple[str, tuple[tuple[str, str], ...], float]]]:
    families, samples = {}, set()
    for family in text_string_to_metric_families(text):
        families[family.name] = (family.type, family.documentation)
        for s in family.samples:
            samples.add((s.name, tuple(sorted(s.labels.items())), float(s.value)))  # ints: exact in our text
    return families, samples


def test_the_text_parses_to_the_same_families_and_samples_as_prometheus_client():
    state = busy_state()
    ours, theirs = state.render().decode(), generate_latest(make_registry(state)).decode()
    assert parsed(ours) == parsed(theirs)
    assert 'link="quote \\" back\\\\slash\\nnewline 至电信"' in ours
    assert 'sla_link_transmit_bytes_total{link="b",group="g",device="rt-1"} 9223372036854775809\n' in ours


def test_each_family_has_one_header_and_all_its_lines_together():
    text = busy_state().render().decode()
    seen: list[str] = []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            seen.append(line.split()[2])
    assert len(seen) == len(set(seen))
    assert set(seen) <= set(METRICS)


def test_a_poll_is_formatted_once_however_many_scrapes_show_it():
    state = busy_state()
    state.render()
    status = state.targets[("snmp", "rt-1")]
    assert b'sla_target_polls_total{collector="snmp",target="rt-1"} 1.0\n' in status.text["sla_target_polls_total"]
    status.text["sla_target_up"] = b"sla_target_up{marker} 7\n"  # type: ignore[index]
    assert b"sla_target_up{marker} 7" in state.render()  # the lines kept, not formatted again


@given(st.floats() | st.integers(0, 2**64).map(float) | st.sampled_from([0.0, -0.0, 1e6, 999999.0, 1e22, 2.0**63]))
def test_floats_are_spelled_as_prometheus_client_spells_them(value):
    assert go_float(value) == floatToGoString(value)


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, -0.0, 1.0, 1.25e9]),
                max_size=40))
def test_remembered_float_texts_are_the_same_as_prometheus_client_spells_them(values):
    # Each value twice, in both orders: the second read comes from the cache (0.0 and -0.0 are equal keys).
    for value in [*values, *reversed(values)]:
        assert float_text(value) == floatToGoString(value)
    assert float_text(0.0) == "0.0" and float_text(-0.0) == "-0.0" and float_text(0.0) == "0.0"


def test_only_whole_values_are_remembered_so_rates_and_uptimes_do_not_pile_up():
    from agent import textformat

    textformat._FLOAT_TEXT.clear()
    for i in range(10_000):  # a rate or an uptime: new at nearly every poll
        float_text(1234.5 + i / 7)
    assert len(textformat._FLOAT_TEXT) == 0
    for capacity in (1.25e9, 125e6, 1.0, 1.25e9):
        float_text(capacity)
    assert set(textformat._FLOAT_TEXT) == {1.25e9, 125e6, 1.0}
    for i in range(3 * textformat._FLOAT_TEXT_LIMIT):  # bounded even when whole values never repeat
        float_text(float(i + 1))
    assert len(textformat._FLOAT_TEXT) <= textformat._FLOAT_TEXT_LIMIT


def test_the_batches_a_scrape_is_written_in_join_to_the_whole_text_and_stay_near_their_size():
    state = busy_state()
    clock = FakeClock(1012.0)
    state.live = (LinkStates([LinkId(f"l{i}", "g", f"rt-{i % 7}") for i in range(3000)], clock=clock),)
    whole = state.render()
    for size in (1, 4096, 64 * 1024, len(whole) + 1):
        batches = list(state.render_batches(size))
        assert b"".join(batches) == whole
        assert all(batch for batch in batches)
        # A batch passes its size by at most one piece (the longest here: a header or a target's family).
        assert all(len(batch) < size + 4096 for batch in batches[:-1])
    assert len(list(state.render_batches(64 * 1024))) > 3
