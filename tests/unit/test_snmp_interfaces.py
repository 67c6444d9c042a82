"""Interface table, link matching, status mapping, and the collector's re-walk rules (scripted agent)."""

from __future__ import annotations

from typing import Any, Sequence

import pytest

from agent.config import parse_config
from collectors.snmp.config import Link
from collectors.snmp import SnmpCollector, SnmpTarget, oids
from collectors.snmp import collector as collector_module
from collectors.snmp.counters import UPTIME_WRAP
from collectors.snmp.interfaces import (
    Interface,
    InterfaceTable,
    admin_up,
    capacity_bytes,
    decode_text,
    line_rate_bytes,
    match_link,
    oper_state,
    selector,
)
from collectors.snmp.session import Missing, Value


def _table(*rows: tuple[int, str, str, str, int]) -> InterfaceTable:
    return InterfaceTable.from_columns(
        names={i: n for i, n, _, _, _ in rows},
        descrs={i: d for i, _, d, _, _ in rows},
        aliases={i: a for i, _, _, a, _ in rows},
        high_speeds={i: s for i, _, _, _, s in rows},
    )


BEFORE = _table(
    (1, "GE0/0/1", "GigabitEthernet0/0/1", "to-telecom", 1000),
    (2, "GE0/0/10", "GigabitEthernet0/0/10", "to-unicom", 1000),
    (3, "NULL0", "NULL0", "", 0),
)
# The same device after a reboot that renumbered ifIndex.
AFTER = _table(
    (7, "NULL0", "NULL0", "", 0),
    (8, "GE0/0/10", "GigabitEthernet0/0/10", "to-unicom", 1000),
    (9, "GE0/0/1", "GigabitEthernet0/0/1", "to-telecom", 1000),
)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (1, 1.0),  # up
        (2, 0.0),  # down
        (3, None),  # testing
        (4, None),  # unknown
        (5, None),  # dormant
        (6, 0.0),  # notPresent
        (7, 0.0),  # lowerLayerDown
        (0, None),  # out of range
        (99, None),
        (None, None),  # not returned
    ],
)
def test_oper_state(status: int | None, expected: float | None) -> None:
    assert oper_state(status) == expected


def test_admin_up() -> None:
    assert [admin_up(s) for s in (1, 2, 3, None)] == [1.0, 0.0, 0.0, None]


@pytest.mark.parametrize(
    ("field", "value", "index"),
    [
        ("if_name", "GE0/0/1", 1),
        ("if_name", "GE0/0/10", 2),
        ("if_descr", "GigabitEthernet0/0/10", 2),
        ("if_alias", "to-telecom", 1),
    ],
)
def test_match_by_each_selector(field: str, value: str, index: int) -> None:
    link = Link(name="l", device="d", **{field: value})
    assert selector(link) == (field, value)
    found = match_link(BEFORE, link)
    assert found is not None and found.index == index


@pytest.mark.parametrize("value", ["ge0/0/1", "GE0/0/1 ", "GE0/0", "GE0/0/100"])
def test_match_is_exact(value: str) -> None:
    assert match_link(BEFORE, Link(name="l", device="d", if_name=value)) is None


def test_renumbered_ifindex_matched_by_name() -> None:
    link = Link(name="telecom", device="d", if_name="GE0/0/1")
    before, after = match_link(BEFORE, link), match_link(AFTER, link)
    assert before is not None and before.index == 1
    assert after is not None and after.index == 9
    by_alias = match_link(AFTER, Link(name="unicom", device="d", if_alias="to-unicom"))
    assert by_alias is not None and by_alias.index == 8


def test_duplicate_names_pick_lowest_ifindex() -> None:
    table = _table((12, "a", "eth", "", 0), (4, "b", "eth", "", 0))
    found = match_link(table, Link(name="l", device="d", if_descr="eth"))
    assert found is not None and found.index == 4


def test_empty_table_matches_nothing() -> None:
    assert match_link(InterfaceTable.from_columns(), Link(name="l", device="d", if_name="lo")) is None


def test_table_joins_columns() -> None:
    # ifXTable missing on an old device: only ifDescr was walked.
    table = InterfaceTable.from_columns(descrs={2: "eth0"})
    assert table.rows == {2: Interface(2, None, "eth0", None, None)}
    assert match_link(table, Link(name="l", device="d", if_name="eth0")) is None


def test_capacity() -> None:
    ten_g = Interface(1, "x", high_speed=10_000)
    assert capacity_bytes(Link(name="l", device="d", if_name="x"), ten_g) == 1.25e9
    # Contracted capacity (given in bit/s, stored in bytes/s) wins over ifHighSpeed.
    contracted = Link(name="l", device="d", if_name="x", capacity="500Mbit/s")
    assert capacity_bytes(contracted, ten_g) == 62.5e6
    assert capacity_bytes(Link(name="l", device="d", if_name="x"), Interface(1, "x", high_speed=0)) == 0.0
    assert capacity_bytes(Link(name="l", device="d", if_name="x"), Interface(1, "x")) is None
    assert line_rate_bytes(ten_g) == 1.25e9
    assert line_rate_bytes(Interface(1, high_speed=0)) is None


def test_decode_text() -> None:
    assert decode_text(b"GE0/0/1") == "GE0/0/1"
    assert decode_text(b"lo\x00\x00") == "lo"
    assert decode_text("至电信".encode()) == "至电信"
    # A device configured in GBK.
    assert decode_text("至电信".encode("gbk")) == "至电信"


# -- The collector's matching and re-walk rules, against a scripted agent ------
#
# The real agents (snmpd, the lab) are in tests/integration; this fake answers
# GET and column walks from a dict, so each re-walk trigger is tested exactly.

class FakeAgent:
    """Stands in for DeviceSession: answers from ``mib``, counts walks."""

    where = "fake:161"

    def __init__(self) -> None:
        self.mib: dict[oids.Oid, Value] = {}
        self.walks = 0
        self.set_scalars(uptime=100_000, if_number=2)

    def set_scalars(self, uptime: int, if_number: int) -> None:
        self.mib[oids.SYS_UPTIME] = uptime
        self.mib[oids.IF_NUMBER] = if_number  # no ifTableLastChange: noSuchObject

    def set_row(self, index: int, name: str, oper: int = 1, rx: int = 0, tx: int = 0, speed: int = 1000) -> None:
        for column, value in (
            (oids.IF_NAME, name.encode()), (oids.IF_DESCR, name.encode()), (oids.IF_ALIAS, b""),
            (oids.IF_HIGH_SPEED, speed), (oids.IF_OPER_STATUS, oper), (oids.IF_ADMIN_STATUS, 1),
            (oids.IF_HC_IN_OCTETS, rx), (oids.IF_HC_OUT_OCTETS, tx), (oids.IF_IN_ERRORS, 0),
            (oids.IF_OUT_ERRORS, 0), (oids.IF_IN_DISCARDS, 0), (oids.IF_OUT_DISCARDS, 0),
        ):
            self.mib[column.instance(index)] = value

    def drop_row(self, index: int) -> None:
        for oid in [o for o in self.mib if len(o) > 1 and o[-1] == index and o[:-1] != oids.SYS_UPTIME[:-1]]:
            del self.mib[oid]

    async def get(self, wanted: Sequence[oids.Oid]) -> dict[oids.Oid, Value]:
        return dict(zip(wanted, await self.get_values(wanted)))

    async def get_values(self, wanted: Sequence[oids.Oid]) -> list[Value]:
        return [self.mib.get(oid, Missing.NO_SUCH_INSTANCE if oid[-1] != 0 else Missing.NO_SUCH_OBJECT) for oid in wanted]

    async def walk_columns(self, columns: Sequence[oids.Oid], rows_expected: int | None = None) -> dict[oids.Oid, dict[oids.Oid, Value]]:
        self.walks += 1
        return {c: {o[len(c):]: v for o, v in sorted(self.mib.items()) if o[: len(c)] == c and len(o) > len(c)} for c in columns}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeAgent:
    agent = FakeAgent()

    async def create(cls: Any, engines: Any, device: Any) -> FakeAgent:
        return agent

    monkeypatch.setattr(collector_module.DeviceSession, "create", classmethod(create))
    return agent


def fake_collector(*links: dict[str, Any]) -> tuple[SnmpCollector, SnmpTarget, Clock]:
    config = parse_config(
        {
            "snmp": {"devices": [{"name": "r1", "address": "192.0.2.1", "community": "c"}],
                     "link_metrics": ["traffic", "errors", "rates"]},  # rates: the tests read the verdicts
            "link_groups": [{"name": "g", "links": list(links) or [{"name": "wan", "device": "r1", "if_name": "GE1"}]}],
        },
        "fake.yaml",
    )
    clock = Clock()
    collector = SnmpCollector(config, clock=clock)
    return collector, collector.targets()[0], clock


def link_samples(result: Any, link: str = "wan") -> dict[str, float]:
    return {s.name: s.value for s in result.samples if dict(s.labels).get("link") == link}


async def test_collector_renumbered_without_markers_rewalks_in_same_poll(fake: FakeAgent) -> None:
    collector, target, clock = fake_collector()
    fake.set_row(1, "GE1", rx=1_000)
    fake.set_row(2, "GE2")
    await collector.poll(target)
    assert fake.walks == 1
    # ifIndex 1 vanishes and GE1 reappears as 9; ifNumber unchanged, no ifTableLastChange.
    fake.drop_row(1)
    fake.set_row(9, "GE1", rx=5_000)
    clock.now += 30
    result = await collector.poll(target)
    assert fake.walks == 2
    assert {o.series: o.value for o in result.observations}["link:wan:up"] == 1.0
    assert link_samples(result)["sla_link_receive_bytes_total"] == 5_000
    # A different interface's counter: a discontinuity, no rate across it.
    assert result.discontinuities == 1
    assert "sla_link_receive_bytes_per_second" not in link_samples(result)


async def test_collector_walks_only_when_needed(fake: FakeAgent) -> None:
    collector, target, clock = fake_collector()
    fake.set_row(1, "GE1")
    for _ in range(5):
        await collector.poll(target)
        clock.now += 30
        fake.mib[oids.SYS_UPTIME] += 3000
    assert fake.walks == 1
    fake.mib[oids.IF_NUMBER] = 3  # an interface was added
    await collector.poll(target)
    assert fake.walks == 2
    clock.now += collector_module.REWALK_INTERVAL
    fake.mib[oids.SYS_UPTIME] += int(collector_module.REWALK_INTERVAL * 100)
    await collector.poll(target)
    assert fake.walks == 3  # the periodic safety net


async def test_collector_missing_link_rewalk_is_rate_limited(fake: FakeAgent) -> None:
    collector, target, clock = fake_collector({"name": "wan", "device": "r1", "if_name": "GE7"})
    fake.set_row(1, "GE1")
    for _ in range(3):  # 0 s, 20 s, 40 s: within one MISSING_LINK_REWALK
        result = await collector.poll(target)
        assert [o.value for o in result.observations if o.series.startswith("link:")] == [None, None]
        assert link_samples(result) == {}
        clock.now += 20
        fake.mib[oids.SYS_UPTIME] += 2000
    assert fake.walks == 1
    fake.set_row(7, "GE7")  # e.g. the operator fixed the name
    result = await collector.poll(target)  # 60 s after the walk
    assert fake.walks == 2
    assert [o.value for o in result.observations if o.series.startswith("link:")] == [1.0, 125e6]


async def test_collector_uptime_wrap_keeps_rates_and_reboot_drops_them(fake: FakeAgent) -> None:
    collector, target, clock = fake_collector()
    fake.set_scalars(uptime=UPTIME_WRAP - 1_000, if_number=1)
    fake.set_row(1, "GE1", rx=1_000_000, tx=0)
    await collector.poll(target)
    clock.now += 30
    fake.set_scalars(uptime=2_000, if_number=1)  # 10 s before + 20 s after the wrap
    fake.set_row(1, "GE1", rx=4_000_000, tx=30)
    wrapped = await collector.poll(target)
    assert wrapped.discontinuities == 0
    assert link_samples(wrapped)["sla_link_receive_bytes_per_second"] == pytest.approx(100_000.0)
    assert link_samples(wrapped)["sla_link_transmit_bytes_per_second"] == pytest.approx(1.0)
    clock.now += 30
    fake.set_scalars(uptime=1_500, if_number=1)  # 15 s: restarted
    fake.set_row(1, "GE1", rx=900, tx=5)
    rebooted = await collector.poll(target)
    assert rebooted.discontinuities == 1
    assert "sla_link_receive_bytes_per_second" not in link_samples(rebooted)
    assert link_samples(rebooted)["sla_link_receive_bytes_total"] == 900


async def test_collector_reboot_seen_only_as_slow_uptime_rewalks_and_remaps(fake: FakeAgent) -> None:
    # Two links; the device is polled at uptime 100 s, then not again for 300 s (unreachable).
    # Meanwhile it rebooted and came back with GE1 and GE2 swapped between ifIndex 1 and 2. Its
    # uptime is now 200 s: more than before, but 100 s of growth in 300 s is a reboot. Both indices
    # still exist and ifNumber is unchanged (no ifTableLastChange), so only the reboot verdict can
    # make the collector re-walk the names.
    collector, target, clock = fake_collector(
        {"name": "wan", "device": "r1", "if_name": "GE1"}, {"name": "lan", "device": "r1", "if_name": "GE2"}
    )
    fake.set_scalars(uptime=10_000, if_number=2)
    fake.set_row(1, "GE1", rx=7_000_000)
    fake.set_row(2, "GE2", rx=9_000_000)
    await collector.poll(target)
    assert fake.walks == 1
    clock.now += 300
    fake.set_scalars(uptime=20_000, if_number=2)
    fake.set_row(1, "GE2", rx=2_000)
    fake.set_row(2, "GE1", rx=1_000)
    result = await collector.poll(target)
    assert fake.walks == 2
    assert link_samples(result, "wan")["sla_link_receive_bytes_total"] == 1_000  # GE1, now ifIndex 2
    assert link_samples(result, "lan")["sla_link_receive_bytes_total"] == 2_000  # GE2, now ifIndex 1
    # Re-seeded, not a rate across the restart: one discontinuity for the device.
    assert "sla_link_receive_bytes_per_second" not in link_samples(result, "wan")
    assert "sla_link_receive_bytes_per_second" not in link_samples(result, "lan")
    assert result.discontinuities == 1


async def test_collector_steady_uptime_does_not_rewalk(fake: FakeAgent) -> None:
    # The same 300 s gap with uptime growing by 300 s is no reboot and no reason to walk.
    collector, target, clock = fake_collector()
    fake.set_scalars(uptime=10_000, if_number=1)
    fake.set_row(1, "GE1", rx=1_000)
    await collector.poll(target)
    clock.now += 300
    fake.set_scalars(uptime=40_000, if_number=1)
    fake.set_row(1, "GE1", rx=31_000)
    result = await collector.poll(target)
    assert fake.walks == 1
    assert result.discontinuities == 0
    assert link_samples(result)["sla_link_receive_bytes_per_second"] == pytest.approx(100.0)


async def test_collector_absurd_rate_and_oper_states(fake: FakeAgent) -> None:
    collector, target, clock = fake_collector()
    fake.set_row(1, "GE1", rx=0)  # 1 Gbit/s: more than 250e6 bytes/s is absurd
    await collector.poll(target)
    clock.now += 10
    fake.mib[oids.SYS_UPTIME] += 1000
    fake.set_row(1, "GE1", oper=5, rx=10 * 300_000_000)  # dormant, and 300e6 bytes/s
    result = await collector.poll(target)
    assert result.discontinuities == 1
    samples = link_samples(result)
    assert "sla_link_receive_bytes_per_second" not in samples
    assert "sla_link_up" not in samples  # dormant: unknown, so absent
    assert samples["sla_link_receive_bytes_total"] == 3e9  # the raw counter is still reported
    assert [o.value for o in result.observations if o.series.startswith("link:")] == [None, None]
    clock.now += 10
    fake.mib[oids.SYS_UPTIME] += 1000
    fake.set_row(1, "GE1", oper=7, rx=3_000_000_010)  # lowerLayerDown
    down = await collector.poll(target)
    assert [o.value for o in down.observations if o.series.startswith("link:")] == [0.0, 0.0]
    assert link_samples(down)["sla_link_receive_bytes_per_second"] == pytest.approx(1.0)
