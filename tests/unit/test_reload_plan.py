"""What a reload keeps, stops and starts, from the targets' own definitions."""

from agent.config import parse_config
from agent.reload import plan, restart_only, same_target
from collectors.snmp import SnmpCollector


def config(devices, links=(), listen="127.0.0.1:9877"):
    return parse_config({
        "agent": {"listen": listen},
        "snmp": {"defaults": {"community": "c"}, "devices": list(devices)},
        "link_groups": [{"name": "g", "links": list(links)}] if links else [],
    }, "t.yaml")


R1 = {"name": "r1", "address": "10.0.0.1"}
R2 = {"name": "r2", "address": "10.0.0.2"}
L1 = {"name": "l1", "device": "r1", "if_name": "a"}


def running(collector):
    return {(collector.kind, t.name): (collector, t) for t in collector.targets()}


def test_unchanged_changed_added_and_removed_targets():
    old = SnmpCollector(config([R1, R2, {"name": "r3", "address": "10.0.0.3"}], [L1]))
    new = SnmpCollector(config([R1, {**R2, "interval": "10s"}, {"name": "r4", "address": "10.0.0.4"}], [L1]))
    result = plan(running(old), [new])
    assert result.keep == [("snmp", "r1")]
    assert result.stop == [("snmp", "r2"), ("snmp", "r3")]
    assert sorted(t.name for _, t in result.start) == ["r2", "r4"]
    assert result.removed == [("snmp", "r3")]
    assert all(c is new for c, _ in result.start)


def test_a_removed_link_retires_its_series_and_a_moved_one_does_not():
    l2 = {"name": "l2", "device": "r1", "if_name": "b"}
    old = SnmpCollector(config([R1, R2], [L1, l2]))
    moved = SnmpCollector(config([R1, R2], [L1, {**l2, "device": "r2"}]))
    assert plan(running(old), [moved]).retired_series == set()
    dropped = SnmpCollector(config([R1, R2], [L1]))
    result = plan(running(old), [dropped])
    assert result.retired_series == {"link:l2:up", "link:l2:available_bytes_per_second"}
    assert result.stop == [("snmp", "r1")]  # its links changed


def test_a_changed_secret_is_a_changed_target():
    a = SnmpCollector(config([R1])).targets()[0]
    b = SnmpCollector(parse_config({"snmp": {"defaults": {"community": "other"}, "devices": [R1]}}, "t")).targets()[0]
    assert same_target(a, a) and not same_target(a, b)


def test_listen_and_data_dir_need_a_restart():
    old, new = config([R1]), config([R1], listen="127.0.0.1:9999")
    kept, notes = restart_only(old, new)
    assert kept.agent.listen == "127.0.0.1:9877"
    assert notes == ["agent.listen changed (127.0.0.1:9877 -> 127.0.0.1:9999): takes effect after a restart; "
                     "still using 127.0.0.1:9877"]


def test_shared_samples_are_summed_over_the_collectors_of_a_kind(tmp_path):
    from agent.app import Agent
    from collectors.base import Sample
    from tests.fakes import FakeLinkCollector, FakeTarget

    class Shared(FakeLinkCollector):
        def __init__(self, name: str, rejected: float):
            super().__init__(links={}, target=FakeTarget(name))
            self.rejected = rejected

        def shared_samples(self):
            return (Sample("sla_snmp_rejected_responses_total", (("reason", "community"),), self.rejected),)

    # After a reload that kept one device and added another, two collectors of one kind run side by side.
    agent = Agent(parse_config({"agent": {"data_dir": str(tmp_path)}, "snmp": {"devices": [{**R1, "community": "c"}]}},
                               "t.yaml"),
                  [Shared("old", 2), Shared("new", 3)])
    try:
        assert agent._shared_samples("fake") == (
            Sample("sla_snmp_rejected_responses_total", (("reason", "community"),), 5.0),)
        assert agent._shared_samples("other") is None
    finally:
        agent.ledger.close()
