"""The bundled lab: real snmpsim on 127.0.0.1, checked with pysnmp 7 asyncio."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
)
from pysnmp.proto.rfc1905 import NoSuchInstance

from agent.lab.devices import DEMO_DEVICES, LabDevice, LabInterface, gbit
from agent.lab.simulator import LabError, SnmpLab
from agent.lab.snmprec import (
    IF_ADMIN_STATUS,
    IF_HC_IN_OCTETS,
    IF_HC_OUT_OCTETS,
    IF_NAME,
    IF_OPER_STATUS,
    SYS_UPTIME,
    render_snmprec,
)

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
IF_NUMBER = "1.3.6.1.2.1.2.1.0"
IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"
IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.18"

OFFLINE = LabDevice(
    name="offline-r9",
    sys_name="offline-r9",
    sys_descr="powered off",
    interfaces=(LabInterface(1, "GigabitEthernet0/0/1", "GigabitEthernet0/0/1", "", 1000),),
    reachable=False,
)


@pytest.fixture(scope="module")
def lab() -> Iterator[SnmpLab]:
    # Sync start/stop: the lab outlives the per-test event loops.
    with SnmpLab((*DEMO_DEVICES, OFFLINE)) as running:
        yield running


@pytest.fixture
async def engine() -> AsyncIterator[SnmpEngine]:
    snmp = SnmpEngine()
    yield snmp
    snmp.close_dispatcher()


async def get(
    engine: SnmpEngine, port: int, auth: Any, *oids: str, context: str = ""
) -> dict[str, Any]:
    """GET ``oids``; return {oid: value}; fail the test on any SNMP error."""
    target = await UdpTransportTarget.create(("127.0.0.1", port), timeout=1, retries=0)
    err_ind, err_status, _, var_binds = await get_cmd(
        engine, auth, target, ContextData(contextName=context),
        *(ObjectType(ObjectIdentity(oid)) for oid in oids), lookupMib=False,
    )
    assert not err_ind and not err_status, (err_ind, err_status)
    return {str(name): value for name, value in var_binds}


async def column(engine: SnmpEngine, port: int, auth: Any, col: str) -> dict[int, Any]:
    """One table column via a single GETBULK: {ifIndex: value}."""
    target = await UdpTransportTarget.create(("127.0.0.1", port), timeout=1, retries=0)
    err_ind, err_status, _, var_binds = await bulk_cmd(
        engine, auth, target, ContextData(), 0, 30,
        ObjectType(ObjectIdentity(col)), lookupMib=False,
    )
    assert not err_ind and not err_status, (err_ind, err_status)
    prefix = col + "."
    return {
        int(str(name)[len(prefix):]): value
        for name, value in var_binds
        if str(name).startswith(prefix)
    }


def v2c(lab: SnmpLab, device: str) -> CommunityData:
    return CommunityData(lab.community(device), mpModel=1)


def test_render_is_sorted_numerically_and_hex_encodes_non_ascii() -> None:
    iface = LabInterface(10, "GE0/0/10", "GE0/0/10", "政务外网 出口", 1000, in_rate_bps=125.5)
    dev = LabDevice("r", "r", "d", (LabInterface(9, "GE0/0/9", "GE0/0/9", "a", 1000), iface))
    lines = render_snmprec(dev).splitlines()
    oids = [tuple(map(int, line.split("|")[0].split("."))) for line in lines]
    assert oids == sorted(oids)
    assert f"{IF_ALIAS}.10|4x|{'政务外网 出口'.encode().hex()}" in lines
    assert f"{IF_HC_IN_OCTETS}.10|70:numeric|rate=125.5,initial=0,wrap=1" in lines
    assert f"{IF_OPER_STATUS}.10|2:writecache|value=1" in lines


async def test_system_group_and_if_tables(lab: SnmpLab, engine: SnmpEngine) -> None:
    auth = v2c(lab, "egress-r1")
    values = await get(engine, lab.port, auth, SYS_NAME, SYS_DESCR, IF_NUMBER)
    assert str(values[SYS_NAME]) == "egress-r1"
    assert "HUAWEI" in str(values[SYS_DESCR])
    assert int(values[IF_NUMBER]) == 6

    names = await column(engine, lab.port, auth, IF_NAME)
    assert names[1].prettyPrint() == "XGigabitEthernet0/0/1"
    assert sorted(names) == [1, 2, 3, 4, 5, 8]
    aliases = await column(engine, lab.port, auth, IF_ALIAS)
    assert aliases[1].prettyPrint() == "ChinaTelecom egress 10G"
    assert aliases[2].prettyPrint() == "ChinaUnicom egress 10G"
    speeds = await column(engine, lab.port, auth, IF_HIGH_SPEED)
    assert int(speeds[1]) == 10000

    mobile = await column(engine, lab.port, v2c(lab, "mobile-r1"), IF_ALIAS)
    assert mobile[1].prettyPrint() == "mobile-office ChinaTelecom 1G"


async def test_uptime_and_hc_counters_advance_at_configured_rate(
    lab: SnmpLab, engine: SnmpEngine
) -> None:
    auth = v2c(lab, "egress-r1")
    oids = (SYS_UPTIME, f"{IF_HC_IN_OCTETS}.1", f"{IF_HC_OUT_OCTETS}.1")
    await get(engine, lab.port, auth, SYS_NAME)  # warm up: the first request loads MIBs

    async def timed() -> tuple[float, dict[str, Any]]:
        start = time.monotonic()
        values = await get(engine, lab.port, auth, *oids)
        return (start + time.monotonic()) / 2, values

    t0, first = await timed()
    await asyncio.sleep(2.0)
    t1, second = await timed()
    elapsed = t1 - t0

    ticks = int(second[SYS_UPTIME]) - int(first[SYS_UPTIME])
    assert ticks == pytest.approx(elapsed * 100, abs=30)
    iface = lab.device("egress-r1").interface(1)
    d_in = int(second[oids[1]]) - int(first[oids[1]])
    d_out = int(second[oids[2]]) - int(first[oids[2]])
    assert d_in / elapsed == pytest.approx(iface.in_rate_bps, rel=0.1)
    assert d_out / elapsed == pytest.approx(iface.out_rate_bps, rel=0.1)


async def test_set_oper_and_admin_status(lab: SnmpLab, engine: SnmpEngine) -> None:
    oper, admin = f"{IF_OPER_STATUS}.1", f"{IF_ADMIN_STATUS}.1"
    r1, r2 = v2c(lab, "egress-r1"), v2c(lab, "egress-r2")
    try:
        await lab.set_oper_status("egress-r1", 1, up=False, engine=engine)
        assert int((await get(engine, lab.port, r1, oper))[oper]) == 2
        # Same OID on another device is untouched (one writecache per device).
        assert int((await get(engine, lab.port, r2, oper))[oper]) == 1

        await lab.set_admin_status("egress-r1", 1, up=False, engine=engine)
        assert int((await get(engine, lab.port, r1, admin))[admin]) == 2
    finally:
        await lab.set_oper_status("egress-r1", 1, up=True, engine=engine)
        await lab.set_admin_status("egress-r1", 1, up=True, engine=engine)
    values = await get(engine, lab.port, r1, oper, admin)
    assert (int(values[oper]), int(values[admin])) == (1, 1)

    with pytest.raises(KeyError):
        await lab.set_oper_status("egress-r1", 99, up=False)


async def test_v3_auth_priv_selects_device_by_context(lab: SnmpLab, engine: SnmpEngine) -> None:
    values = await get(
        engine, lab.port, lab.usm_user_data(), SYS_NAME, context=lab.v3_context("mobile-r1")
    )
    assert str(values[SYS_NAME]) == "mobile-r1"

    wrong = UsmUserData(lab.v3_user, "wrong-auth-key", lab.v3_priv_key)
    target = await UdpTransportTarget.create(("127.0.0.1", lab.port), timeout=1, retries=0)
    err_ind, _, _, _ = await get_cmd(
        engine, wrong, target, ContextData(contextName="mobile-r1"),
        ObjectType(ObjectIdentity(SYS_NAME)), lookupMib=False,
    )
    assert err_ind  # wrong digest / timeout, never data


async def test_unreachable_device_never_answers(lab: SnmpLab, engine: SnmpEngine) -> None:
    target = await UdpTransportTarget.create(("127.0.0.1", lab.port), timeout=0.5, retries=0)
    err_ind, _, _, var_binds = await get_cmd(
        engine, v2c(lab, "offline-r9"), target, ContextData(),
        ObjectType(ObjectIdentity(SYS_NAME)), lookupMib=False,
    )
    assert "timeout" in str(err_ind).lower() and not var_binds
    with pytest.raises(LabError):
        await lab.set_oper_status("offline-r9", 1, up=False)


async def test_reboot_restarts_uptime_counters_and_renumbers(engine: SnmpEngine) -> None:
    core = DEMO_DEVICES[0]
    dev = dataclasses.replace(core, interfaces=core.interfaces[:2])
    async with SnmpLab([dev]) as lab:
        auth = v2c(lab, dev.name)
        oids = (SYS_UPTIME, f"{IF_HC_IN_OCTETS}.1")
        await asyncio.sleep(1.0)
        before = await get(engine, lab.port, auth, *oids)
        v3_before = await get(engine, lab.port, lab.usm_user_data(), SYS_UPTIME,
                              context=lab.v3_context(dev.name))
        port = lab.port

        await lab.reboot()
        after = await get(engine, lab.port, auth, *oids)
        assert lab.port == port
        assert int(after[SYS_UPTIME]) < int(before[SYS_UPTIME])
        assert int(after[oids[1]]) < int(before[oids[1]])
        # Same engine ID after the reboot: a v3 manager re-syncs and carries on.
        v3_after = await get(engine, lab.port, lab.usm_user_data(), SYS_UPTIME,
                             context=lab.v3_context(dev.name))
        assert int(v3_after[SYS_UPTIME]) < int(v3_before[SYS_UPTIME])

        # Renumbered after a reboot: same ifName, new ifIndex (and a new link).
        moved = dataclasses.replace(dev.interfaces[0], index=7)
        extra = LabInterface(3, "XGigabitEthernet0/0/3", "XGigabitEthernet0/0/3",
                             "ChinaMobile egress 10G", 10000, in_rate_bps=gbit(1))
        await lab.reboot([dataclasses.replace(dev, interfaces=(moved, dev.interfaces[1], extra))])
        names = await column(engine, lab.port, auth, IF_NAME)
        assert names[7].prettyPrint() == "XGigabitEthernet0/0/1"
        assert sorted(names) == [2, 3, 7]
        gone = await get(engine, lab.port, auth, f"{IF_NAME}.1")
        assert isinstance(gone[f"{IF_NAME}.1"], NoSuchInstance)
    assert not lab.running
