"""The power collector against simulated UPS and cabinets (snmpsim on 127.0.0.1, agent/lab/power.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator

import pytest

from agent.config import parse_config
from agent.lab.power import LabCabinet, LabUps, PowerLab
from collectors.base import CollectorError, PollResult
from collectors.power.collector import PowerCollector, PowerTarget

UNITS = (LabUps("ups-a"), LabUps("ups-b"), LabCabinet("cab-a1"), LabUps("ups-gone", reachable=False))
POLL_BOUND = 5.0  # seconds any one poll may take here, the failing one included


def collector_for(lab: PowerLab, v3: bool = False) -> PowerCollector:
    devices = lab.device_configs()
    if v3:  # ups-b over SNMPv3 (authPriv), selected by its context
        devices[1] = {"name": "ups-b", "address": lab.host, "port": lab.port, "version": "v3", "user": lab.v3_user,
                      "auth_protocol": "sha", "auth_key": lab.v3_auth_key, "priv_protocol": "aes",
                      "priv_key": lab.v3_priv_key, "context": lab.v3_context("ups-b")}
    config = parse_config({"snmp": {"defaults": {"timeout": "0.5s", "retries": 1}, "devices": devices},
                           "power": lab.power_configs(interval="5s", timeout="2s")}, "lab.yaml")
    return PowerCollector(config.power, config.snmp.devices, config.snmp.defaults)


@pytest.fixture
async def lab() -> AsyncIterator[PowerLab]:
    async with PowerLab(UNITS) as running:
        yield running


@pytest.fixture
async def power(lab: PowerLab) -> AsyncIterator[tuple[PowerCollector, dict[str, PowerTarget]]]:
    collector = collector_for(lab)
    yield collector, {t.name: t for t in collector.targets()}
    await collector.close()


async def poll(collector: PowerCollector, target: PowerTarget) -> PollResult:
    return await asyncio.wait_for(collector.poll(target), POLL_BOUND)


def held(result: PollResult, unit: str) -> dict[str, float | None]:
    """Each observation of ``unit`` by its last part: fault and the conditions."""
    return {o.series.removeprefix(f"power:{unit}:"): o.value for o in result.observations}


def faults(result: PollResult) -> set[str]:
    return {name for name, value in held(result, result.observations[0].series.split(":")[1]).items()
            if value == 1.0 and name != "fault"}


def sample(result: PollResult, name: str, **labels: str) -> float | None:
    for s in result.samples:
        if s.name == name and all(dict(s.labels).get(k) == v for k, v in labels.items()):
            return s.value
    return None


async def test_a_ups_on_battery_and_back(lab: PowerLab, power: Any) -> None:
    collector, targets = power
    ups = targets["ups-a"]
    normal = await poll(collector, ups)
    assert held(normal, "ups-a")["fault"] == 0.0 and faults(normal) == set()
    assert sample(normal, "sla_power_output_source", unit="ups-a") == 3

    await lab.set_output_source("ups-a", "battery")
    on_battery = await poll(collector, ups)
    assert held(on_battery, "ups-a")["fault"] == 1.0 and faults(on_battery) == {"on_battery"}
    assert sample(on_battery, "sla_power_fault", unit="ups-a", condition="on_battery") == 1.0
    assert sample(on_battery, "sla_power_output_source", unit="ups-a") == 5
    assert faults(await poll(collector, targets["ups-b"])) == set()  # its own writecache: ups-b is untouched

    await lab.set_output_source("ups-a", "normal")
    back = await poll(collector, ups)
    assert held(back, "ups-a")["fault"] == 0.0 and faults(back) == set()


async def test_bypass_alarm_and_battery_low(lab: PowerLab, power: Any) -> None:
    collector, targets = power
    ups = targets["ups-a"]
    await lab.set_output_source("ups-a", "bypass")
    assert faults(await poll(collector, ups)) == {"bypass"}
    await lab.set_output_source("ups-a", "booster")  # correcting a sag while on the mains: not a fault
    assert held(await poll(collector, ups), "ups-a")["fault"] == 0.0
    await lab.set_alarms("ups-a", 2)
    alarmed = await poll(collector, ups)
    assert faults(alarmed) == {"alarm"} and sample(alarmed, "sla_power_alarms_present", unit="ups-a") == 2
    await lab.set_alarms("ups-a", 0)
    await lab.set_battery_status("ups-a", "low")
    assert faults(await poll(collector, ups)) == {"battery_low"}


async def test_an_input_line_bad_is_one_poll_of_fault_and_a_reset_is_a_discontinuity(lab: PowerLab, power: Any) -> None:
    collector, targets = power
    ups = targets["ups-a"]
    first = await poll(collector, ups)  # the counter's baseline
    assert faults(first) == set() and sample(first, "sla_power_input_line_bads_total", unit="ups-a") == 0
    await lab.bump_input_line_bads("ups-a")
    bumped = await poll(collector, ups)
    assert faults(bumped) == {"input_failure"} and held(bumped, "ups-a")["fault"] == 1.0
    assert sample(bumped, "sla_power_input_line_bads_total", unit="ups-a") == 1
    steady = await poll(collector, ups)
    assert held(steady, "ups-a")["fault"] == 0.0  # no new failure since the last poll
    await lab.reset_input_line_bads("ups-a")
    reset = await poll(collector, ups)
    assert (held(reset, "ups-a")["fault"], reset.discontinuities) == (0.0, 1)


async def test_a_cabinet_breaker_and_phase_loss(lab: PowerLab, power: Any) -> None:
    collector, targets = power
    cabinet = targets["cab-a1"]
    assert held(await poll(collector, cabinet), "cab-a1")["fault"] == 0.0
    await lab.set_cabinet("cab-a1", breaker="tripped")
    tripped = await poll(collector, cabinet)
    assert faults(tripped) == {"breaker_open"} and sample(tripped, "sla_power_breaker_state", unit="cab-a1") == 3
    await lab.set_cabinet("cab-a1", breaker="closed", lost_phases=["c"])
    assert faults(await poll(collector, cabinet)) == {"phase_loss"}
    await lab.set_cabinet("cab-a1", lost_phases=[])
    await lab.bump_input_line_bads("cab-a1", by=2)  # a cabinet's input failure counter, against the first poll's
    bumped = await poll(collector, cabinet)
    assert faults(bumped) == {"input_failure"} and sample(bumped, "sla_power_input_line_bads_total", unit="cab-a1") == 2
    assert faults(await poll(collector, cabinet)) == set()


async def test_an_unreachable_unit_is_unknown_within_its_bound(power: Any) -> None:
    collector, targets = power
    gone = targets["ups-gone"]
    started = time.monotonic()
    with pytest.raises(CollectorError, match=r"^127\.0\.0\.1:\d+: no response within 0\.5s x 2 tries"):
        await poll(collector, gone)
    assert time.monotonic() - started < 2.5  # the SNMP bound (0.5 s x 2), well inside the unit's 2 s
    assert collector.unknown(gone) == tuple((name, None) for name in gone.series)
    assert all(value is None for _, value in collector.unknown(gone)) and len(gone.series) == 7


async def test_a_unit_that_stops_answering_mid_run_and_an_snmpv3_device(lab: PowerLab) -> None:
    collector = collector_for(lab, v3=True)
    try:
        targets = {t.name: t for t in collector.targets()}
        assert targets["ups-b"].device.version == "v3"
        await lab.set_output_source("ups-b", "battery")
        assert faults(await poll(collector, targets["ups-b"])) == {"on_battery"}
        await lab.set_reachable("ups-a", False)  # restarts snmpsim: every unit starts over from its spec
        with pytest.raises(CollectorError):
            await poll(collector, targets["ups-a"])
        assert faults(await poll(collector, targets["ups-b"])) == set()  # back on the mains after the restart
    finally:
        await collector.close()


async def test_the_agent_measures_a_fault_end_to_end(lab: PowerLab, tmp_path) -> None:
    """Collector, ledger, KPI engine and /metrics: a UPS on battery from the first poll is one fault."""
    import aiohttp
    from prometheus_client.parser import text_string_to_metric_families

    from agent.app import Agent
    from tests.processes import free_port

    port = free_port()
    config = parse_config({
        "agent": {"listen": f"127.0.0.1:{port}", "data_dir": str(tmp_path / "data"), "kpi_interval": "1s"},
        "snmp": {"defaults": {"timeout": "0.5s", "retries": 0, "interval": "5s"},
                 "devices": lab.device_configs()[:3]},  # not ups-gone
        "power": lab.power_configs(interval="5s", timeout="2s")[:3],
        "kpis": [{"id": "power_faults"}],
    }, "lab.yaml")
    await lab.set_output_source("ups-a", "battery")
    agent = Agent(config)
    started = asyncio.Event()
    task = asyncio.create_task(agent.run(started))
    found: dict[tuple[str, tuple], float] = {}
    try:
        await asyncio.wait_for(started.wait(), 10)
        async with aiohttp.ClientSession() as http:
            for _ in range(40):  # the first polls, a flush and a KPI evaluation: a few seconds
                async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                    text = await response.text()
                found = {(s.name, tuple(sorted(s.labels.items()))): s.value
                         for family in text_string_to_metric_families(text) for s in family.samples}
                # Until every unit's first poll is in the ledger and evaluated (they land one by one).
                parts = {dict(labels).get("part") for name, labels in found if name == "sla_kpi_part_value"}
                if parts == {"ups-a", "ups-b", "cab-a1"}:
                    break
                await asyncio.sleep(0.25)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert found[("sla_kpi_value", (("kpi", "power_faults"),))] == 1.0
    assert found[("sla_kpi_met", (("kpi", "power_faults"),))] == 0.0
    assert found[("sla_kpi_part_value", (("kpi", "power_faults"), ("part", "ups-a")))] == 1.0
    assert found[("sla_kpi_part_value", (("kpi", "power_faults"), ("part", "ups-b")))] == 0.0
    assert found[("sla_power_fault", (("condition", "on_battery"), ("unit", "ups-a")))] == 1.0
    assert found[("sla_power_output_source", (("unit", "ups-a"),))] == 5.0
    assert found[("sla_target_up", (("collector", "power"), ("target", "cab-a1")))] == 1.0


async def test_an_input_failure_while_the_agent_was_stopped_is_counted_after_the_restart(lab: PowerLab, tmp_path):
    """The counter baseline is kept in the ledger: a failure the card counted meanwhile is a fault at the next poll."""
    from agent.ledger import Ledger

    ledger = Ledger(tmp_path / "ledger.sqlite")
    config = parse_config({"snmp": {"defaults": {"timeout": "0.5s", "retries": 1}, "devices": lab.device_configs()},
                           "power": lab.power_configs(interval="5s", timeout="2s")}, "lab.yaml")
    first = PowerCollector(config.power, config.snmp.devices, config.snmp.defaults, ledger)
    ups = next(t for t in first.targets() if t.name == "ups-a")
    assert "input_failure" not in faults(await poll(first, ups))  # the first reading sets the baseline
    await lab.bump_input_line_bads("ups-a", 2)
    assert "input_failure" in faults(await poll(first, ups))  # the new baseline is written in the background
    await first.close()  # a clean stop lets the write finish

    await lab.bump_input_line_bads("ups-a", 1)  # while the agent is stopped
    again = PowerCollector(config.power, config.snmp.devices, config.snmp.defaults, ledger)
    ups = next(t for t in again.targets() if t.name == "ups-a")
    assert "input_failure" in faults(await poll(again, ups))
    assert "input_failure" not in faults(await poll(again, ups))  # counted once
    await again.close()
    # Without a kept baseline (a fresh ledger) the same first poll only sets it.
    fresh = PowerCollector(config.power, config.snmp.devices, config.snmp.defaults, Ledger(tmp_path / "other.sqlite"))
    ups = next(t for t in fresh.targets() if t.name == "ups-a")
    assert "input_failure" not in faults(await poll(fresh, ups))
    await fresh.close()
    ledger.close()
