"""SnmpCollector against the snmpsim lab: link down, reboot, renumbered ifIndex."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, AsyncIterator

import pytest

from agent.config import Config, parse_config
from agent.lab.devices import LabDevice, LabInterface, mbit
from agent.lab.simulator import SnmpLab
from collectors.base import PollResult
from collectors.snmp import SnmpCollector, SnmpTarget

ROUTER = LabDevice(
    name="lab-r1",
    sys_name="lab-r1",
    sys_descr="simulated router",
    interfaces=(
        LabInterface(1, "GE0/0/1", "GigabitEthernet0/0/1", "to-telecom", 1000, in_rate_bps=mbit(400), out_rate_bps=mbit(100)),
        LabInterface(2, "GE0/0/2", "GigabitEthernet0/0/2", "to-unicom", 1000, in_rate_bps=mbit(200), out_rate_bps=mbit(50)),
    ),
)
# The same router after a reboot that renumbered its interfaces.
RENUMBERED = dataclasses.replace(
    ROUTER,
    interfaces=tuple(
        dataclasses.replace(iface, index=iface.index + 100) for iface in reversed(ROUTER.interfaces)
    ),
)
GBIT_BYTES = 1e9 / 8


def lab_config(lab: SnmpLab) -> Config:
    return parse_config(
        {
            "snmp": {
                "defaults": {"port": lab.port, "timeout": "1s", "retries": 1},
                "link_metrics": ["traffic", "errors", "rates"],  # the tests read the agent's rate verdicts
                "devices": [{"name": "lab-r1", "address": lab.host, "community": lab.community("lab-r1")}],
            },
            "link_groups": [
                {
                    "name": "egress",
                    "links": [
                        {"name": "telecom", "device": "lab-r1", "if_name": "GE0/0/1"},
                        {"name": "unicom", "device": "lab-r1", "if_alias": "to-unicom"},
                    ],
                }
            ],
        },
        "lab.yaml",
    )


def observations(result: PollResult) -> dict[str, float | None]:
    """The links' observations (each poll also says the device answered: device:<name>:answered)."""
    return {o.series: o.value for o in result.observations if o.series.startswith("link:")}


def samples(result: PollResult) -> dict[tuple[str, str], float]:
    return {(s.name, dict(s.labels).get("link", "")): s.value for s in result.samples}


def rates(result: PollResult) -> dict[tuple[str, str], float]:
    return {k: v for k, v in samples(result).items() if k[0].endswith("_bytes_per_second") and "capacity" not in k[0]}


@pytest.fixture
async def lab() -> AsyncIterator[SnmpLab]:
    async with SnmpLab([ROUTER]) as running:
        yield running


@pytest.fixture
async def polled(lab: SnmpLab) -> AsyncIterator[tuple[SnmpCollector, SnmpTarget]]:
    collector = SnmpCollector(lab_config(lab))
    yield collector, collector.targets()[0]
    await collector.close()


async def test_link_down_is_zero(lab: SnmpLab, polled: Any) -> None:
    collector, target = polled
    before = observations(await collector.poll(target))
    assert before["link:telecom:up"] == 1.0 and before["link:telecom:available_bytes_per_second"] == GBIT_BYTES

    await lab.set_oper_status("lab-r1", 1, up=False)
    after = await collector.poll(target)
    obs = observations(after)
    assert obs["link:telecom:up"] == 0.0
    assert obs["link:telecom:available_bytes_per_second"] == 0.0
    assert obs["link:unicom:up"] == 1.0
    assert samples(after)[("sla_link_up", "telecom")] == 0.0


async def test_reboot_counts_one_discontinuity_and_drops_rates(lab: SnmpLab, polled: Any) -> None:
    collector, target = polled
    await asyncio.sleep(1.0)  # some uptime to lose
    await collector.poll(target)
    await asyncio.sleep(0.5)
    steady = await collector.poll(target)
    assert steady.discontinuities == 0
    assert rates(steady)[("sla_link_receive_bytes_per_second", "telecom")] == pytest.approx(mbit(400), rel=0.25)

    await lab.reboot()
    rebooted = await collector.poll(target)
    assert rebooted.discontinuities == 1  # the reboot, once, not once per link
    assert rates(rebooted) == {}
    assert observations(rebooted)["link:telecom:up"] == 1.0

    await asyncio.sleep(0.5)
    after = await collector.poll(target)
    assert after.discontinuities == 0
    assert ("sla_link_receive_bytes_per_second", "telecom") in rates(after)


async def test_renumbered_reboot_still_matched_by_name(lab: SnmpLab, polled: Any) -> None:
    collector, target = polled
    await asyncio.sleep(1.0)
    first = samples(await collector.poll(target))
    await lab.reboot([RENUMBERED])
    result = await collector.poll(target)
    assert result.discontinuities == 1
    obs = observations(result)
    assert obs["link:telecom:up"] == obs["link:unicom:up"] == 1.0
    # Still the right interfaces: telecom's counters grow at 400 Mbit/s, unicom's at 200.
    await asyncio.sleep(1.0)
    again = rates(await collector.poll(target))
    assert again[("sla_link_receive_bytes_per_second", "telecom")] == pytest.approx(mbit(400), rel=0.25)
    assert again[("sla_link_receive_bytes_per_second", "unicom")] == pytest.approx(mbit(200), rel=0.25)
    assert first[("sla_link_capacity_bytes_per_second", "telecom")] == GBIT_BYTES



async def test_v3_context_selects_the_device(lab: SnmpLab) -> None:
    config = parse_config(
        {
            "snmp": {
                "defaults": {"port": lab.port, "timeout": "1s", "retries": 1},
                "devices": [
                    {
                        "name": "lab-r1",
                        "address": lab.host,
                        "version": "v3",
                        "user": lab.v3_user,
                        "auth_protocol": "sha",
                        "auth_key": lab.v3_auth_key,
                        "priv_protocol": "aes",
                        "priv_key": lab.v3_priv_key,
                        "context": lab.v3_context("lab-r1"),
                    }
                ],
            },
            "link_groups": [{"name": "g", "links": [{"name": "telecom", "device": "lab-r1", "if_alias": "to-telecom"}]}],
        },
        "lab-v3.yaml",
    )
    collector = SnmpCollector(config)
    try:
        result = await collector.poll(collector.targets()[0])
    finally:
        await collector.close()
    assert observations(result) == {"link:telecom:up": 1.0, "link:telecom:available_bytes_per_second": GBIT_BYTES}
