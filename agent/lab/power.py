"""Simulated UPS and power distribution cabinets for the lab, served by snmpsim like the routers.

:class:`PowerLab` is an :class:`~agent.lab.simulator.SnmpLab` that also
serves power units: a UPS answers the UPS-MIB (RFC 1628) as the bundled
``ups-rfc1628`` profile reads it, a cabinet the documentation arc of the
``cabinet-generic`` profile (collectors/power/profiles/). Each unit is one
data file, selected like a router by its v2c community or v3 context (the
unit's name), and may be served next to routers by the same process
(``PowerLab(DEMO_UNITS, devices=DEMO_DEVICES)``).

Every value the tests and the demo change is a ``writecache`` record, changed
by an SNMP SET, as SnmpLab changes ifOperStatus: ``await lab.set_output_source
("ups-a", "battery")``. The lab keeps what it set, so ``bump_input_line_bads``
knows the counter; a reboot (``reboot()``, ``set_reachable()``) starts every
unit over from its spec, as a real card's counters do.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from collectors.snmp.oids import parse
from .devices import LabDevice
from .simulator import LabError, SnmpLab
from .snmprec import SYS, SYS_UPTIME

# UPS-MIB (RFC 1628) scalars.
UPS_BATTERY_STATUS = "1.3.6.1.2.1.33.1.2.1.0"
UPS_INPUT_LINE_BADS = "1.3.6.1.2.1.33.1.3.1.0"
UPS_OUTPUT_SOURCE = "1.3.6.1.2.1.33.1.4.1.0"
UPS_ALARMS_PRESENT = "1.3.6.1.2.1.33.1.6.1.0"
OUTPUT_SOURCES = {"other": 1, "none": 2, "normal": 3, "bypass": 4, "battery": 5, "booster": 6, "reducer": 7}
BATTERY_STATUSES = {"unknown": 1, "normal": 2, "low": 3, "depleted": 4}

# The cabinet-generic profile's arc: IANA's documentation enterprise number (RFC 5612).
CABINET = "1.3.6.1.4.1.32473.5.1"
CAB_BREAKER = f"{CABINET}.1.0"
CAB_PHASES = {"a": f"{CABINET}.2.1.0", "b": f"{CABINET}.2.2.0", "c": f"{CABINET}.2.3.0"}
CAB_ALARMS = f"{CABINET}.3.0"
CAB_INPUT_FAILURES = f"{CABINET}.4.0"
CAB_SURGE = f"{CABINET}.5.0"
BREAKER_STATES = {"closed": 1, "open": 2, "tripped": 3}
PHASE_NORMAL, PHASE_LOST = 1, 2

# snmprec tags: the SMI type of each record, which an SNMP SET must match.
_INTEGER, _OCTETS, _OID, _COUNTER32, _GAUGE32 = "2", "4", "6", "65", "66"
_SYS_OBJECT_ID = "1.3.6.1.4.1.32473.5.99"  # a made-up product under the documentation arc


@dataclass(frozen=True)
class LabUps:
    """A UPS: what its UPS-MIB says at start (and after a reboot)."""

    name: str  # community and v3 context
    output_source: str = "normal"
    battery_status: str = "normal"
    alarms: int = 0
    input_line_bads: int = 0
    reachable: bool = True
    profile = "ups-rfc1628"

    def __post_init__(self) -> None:
        _check_name(self.name)
        _member(self.name, "output source", self.output_source, OUTPUT_SOURCES)
        _member(self.name, "battery status", self.battery_status, BATTERY_STATUSES)

    def values(self) -> dict[str, tuple[str, int]]:
        """OID -> (snmprec tag, value) of every settable record."""
        return {
            UPS_OUTPUT_SOURCE: (_INTEGER, OUTPUT_SOURCES[self.output_source]),
            UPS_BATTERY_STATUS: (_INTEGER, BATTERY_STATUSES[self.battery_status]),
            UPS_ALARMS_PRESENT: (_GAUGE32, self.alarms),
            UPS_INPUT_LINE_BADS: (_COUNTER32, self.input_line_bads),
        }


@dataclass(frozen=True)
class LabCabinet:
    """A distribution cabinet: breaker, phases, alarms and its input failure counter at start."""

    name: str
    breaker: str = "closed"
    lost_phases: tuple[str, ...] = ()  # of "a", "b", "c"
    alarms: int = 0
    input_failures: int = 0
    surge_protector: bool | None = True  # ok; False failed; None: a card without it (the OID is absent)
    reachable: bool = True
    profile = "cabinet-generic"

    def __post_init__(self) -> None:
        _check_name(self.name)
        _member(self.name, "breaker state", self.breaker, BREAKER_STATES)
        for phase in self.lost_phases:
            _member(self.name, "phase", phase, CAB_PHASES)

    def values(self) -> dict[str, tuple[str, int]]:
        found = {CAB_BREAKER: (_INTEGER, BREAKER_STATES[self.breaker])}
        found.update({oid: (_INTEGER, PHASE_LOST if phase in self.lost_phases else PHASE_NORMAL)
                      for phase, oid in CAB_PHASES.items()})
        found[CAB_ALARMS] = (_GAUGE32, self.alarms)
        found[CAB_INPUT_FAILURES] = (_COUNTER32, self.input_failures)
        if self.surge_protector is not None:
            found[CAB_SURGE] = (_INTEGER, 1 if self.surge_protector else 2)
        return found


LabPowerUnit = LabUps | LabCabinet


def _check_name(name: str) -> None:
    # The data file name is the community and the v3 context: a unit's name follows a device's rules.
    LabDevice(name=name, sys_name=name, sys_descr="", interfaces=())


def _member(unit: str, what: str, value: str, known: dict[str, Any]) -> None:
    if value not in known:
        raise ValueError(f"power unit {unit!r}: {what} {value!r} is not one of {', '.join(known)}")


def render_unit(unit: LabPowerUnit, writecache: str) -> str:
    """The ``.snmprec`` text of ``unit``: the system group, then its records (settable through ``writecache``)."""
    kind = "UPS" if isinstance(unit, LabUps) else "power distribution cabinet"
    records = [
        (f"{SYS}.1.0", _OCTETS, f"sla-agent lab {kind}"),
        (f"{SYS}.2.0", _OID, _SYS_OBJECT_ID),
        (SYS_UPTIME, "67:numeric", "rate=100.0,initial=0"),  # the SNMP source polls sysUpTime of every device
        (f"{SYS}.5.0", _OCTETS, unit.name),
    ]
    records += [(oid, f"{tag}:{writecache}", f"value={value}") for oid, (tag, value) in unit.values().items()]
    # snmpsim answers GETNEXT by position in the file: numeric order.
    records.sort(key=lambda record: parse(record[0]))
    return "".join(f"{oid}|{tag}|{value}\n" for oid, tag, value in records)


# Two UPS feeding the two rows of racks and a cabinet on each: the demo's power.
DEMO_UNITS: tuple[LabPowerUnit, ...] = (
    LabUps("ups-a"), LabUps("ups-b"), LabCabinet("cab-a1"), LabCabinet("cab-b1", surge_protector=None),
)


class PowerLab(SnmpLab):
    """Routers (``devices``, none by default) and power ``units`` served by one snmpsim process.

    ``device_configs()`` and ``power_configs()`` are the ``snmp.devices`` and
    ``power:`` entries for the units. Each unit's writecache instance is its
    own (``pw<n>``): one instance keys its store by OID alone, and every UPS
    has the same OIDs. It extends two of SnmpLab's steps, ``_write_records``
    (the units' data files) and ``_command`` (their writecache instances);
    everything else (start, reboot, v3 user, readiness) is SnmpLab's own.
    """

    def __init__(self, units: Iterable[LabPowerUnit] = DEMO_UNITS, devices: Iterable[LabDevice] = (),
                 **options: Any) -> None:
        self._units = self._checked(units, devices)
        self._current: dict[tuple[str, str], int] = {}
        self._engine: Any = None  # pysnmp engine for the SETs, bound to the loop it was made on
        self._engine_loop: asyncio.AbstractEventLoop | None = None
        super().__init__(devices, **options)

    @property
    def units(self) -> tuple[LabPowerUnit, ...]:
        return self._units

    def unit(self, name: str) -> LabPowerUnit:
        """The spec of unit ``name`` (KeyError if unknown)."""
        for unit in self._units:
            if unit.name == name:
                return unit
        raise KeyError(f"no lab power unit named {name!r}")

    def device_configs(self, **common: Any) -> list[dict[str, Any]]:
        """``snmp.devices`` entries (v2c) for every unit, named like it; ``common`` added to each (e.g. port)."""
        return [{"name": u.name, "address": self.host, "port": self.port, "community": u.name, **common}
                for u in self._units]

    def power_configs(self, interval: str = "5s", timeout: str = "2s") -> list[dict[str, Any]]:
        """``power:`` entries for every unit, on the device of the same name."""
        return [{"name": u.name, "device": u.name, "profile": u.profile, "interval": interval, "timeout": timeout}
                for u in self._units]

    def value(self, name: str, oid: str) -> int:
        """What the lab last set (or the spec says) ``oid`` of unit ``name`` answers."""
        return self._current[(name, oid)]

    # -- run-time changes ---------------------------------------------------

    async def set_output_source(self, unit: str, source: str) -> None:
        """upsOutputSource: normal, battery, bypass, none, booster, reducer or other."""
        _member(unit, "output source", source, OUTPUT_SOURCES)
        await self._set(self._ups(unit), UPS_OUTPUT_SOURCE, OUTPUT_SOURCES[source])

    async def set_battery_status(self, unit: str, status: str) -> None:
        """upsBatteryStatus: normal, low, depleted or unknown."""
        _member(unit, "battery status", status, BATTERY_STATUSES)
        await self._set(self._ups(unit), UPS_BATTERY_STATUS, BATTERY_STATUSES[status])

    async def set_alarms(self, unit: str, count: int) -> None:
        """Alarms present (upsAlarmsPresent of a UPS, the alarm count of a cabinet)."""
        found = self._live(unit)
        await self._set(found, UPS_ALARMS_PRESENT if isinstance(found, LabUps) else CAB_ALARMS, count)

    async def bump_input_line_bads(self, unit: str, by: int = 1) -> None:
        """Count ``by`` more input failures (upsInputLineBads of a UPS, a cabinet's input failure counter)."""
        found = self._live(unit)
        oid = UPS_INPUT_LINE_BADS if isinstance(found, LabUps) else CAB_INPUT_FAILURES
        await self._set(found, oid, (self.value(unit, oid) + by) % 2**32)

    async def reset_input_line_bads(self, unit: str, value: int = 0) -> None:
        """Put the input failure counter back (a card that restarted): a discontinuity, not a fault."""
        found = self._live(unit)
        await self._set(found, UPS_INPUT_LINE_BADS if isinstance(found, LabUps) else CAB_INPUT_FAILURES, value)

    async def set_cabinet(self, unit: str, *, breaker: str | None = None, lost_phases: Iterable[str] | None = None,
                          surge_protector: bool | None = None) -> None:
        """A cabinet's breaker (closed, open, tripped), the phases lost (of a, b, c) and its surge protector."""
        cabinet = self._live(unit)
        if not isinstance(cabinet, LabCabinet):
            raise LabError(f"power unit {unit!r} is not a cabinet")
        if breaker is not None:
            _member(unit, "breaker state", breaker, BREAKER_STATES)
            await self._set(cabinet, CAB_BREAKER, BREAKER_STATES[breaker])
        if lost_phases is not None:
            lost = set(lost_phases)
            for phase in lost:
                _member(unit, "phase", phase, CAB_PHASES)
            for phase, oid in CAB_PHASES.items():
                await self._set(cabinet, oid, PHASE_LOST if phase in lost else PHASE_NORMAL)
        if surge_protector is not None:
            if cabinet.surge_protector is None:
                raise LabError(f"cabinet {unit!r} has no surge protector state")
            await self._set(cabinet, CAB_SURGE, 1 if surge_protector else 2)

    async def set_reachable(self, unit: str, reachable: bool) -> None:
        """Serve the unit or not (not: its requests go unanswered); restarts snmpsim, so every unit starts over."""
        self.unit(unit)
        self._units = tuple(dataclasses.replace(u, reachable=reachable) if u.name == unit else u
                            for u in self._units)
        await self.reboot()

    # -- SnmpLab's machinery, extended to the units -------------------------

    def community(self, device_name: str) -> str:
        return device_name if any(u.name == device_name for u in self._units) else super().community(device_name)

    def v3_context(self, device_name: str) -> str:
        return self.community(device_name)

    async def __aexit__(self, *exc: object) -> None:
        self._close_engine()
        await super().__aexit__(*exc)

    def _write_records(self) -> None:
        super()._write_records()  # the routers' files, in a records dir made anew
        records = self.data_dir / "records"
        self._current = {}
        for unit in self._units:
            self._current.update({(unit.name, oid): value for oid, (_, value) in unit.values().items()})
        for i, unit in enumerate(self._units):
            if unit.reachable:
                (records / f"{unit.name}.snmprec").write_text(render_unit(unit, f"pw{i}"), encoding="ascii")

    def _command(self) -> list[str]:
        command = super()._command()
        # The units' writecache instances go with the routers', before the engine options.
        at = command.index("--v3-engine-id")
        return command[:at] + [f"--variation-module-options=writecache=pw{i}:"
                               for i in range(len(self._units))] + command[at:]

    @staticmethod
    def _checked(units: Iterable[LabPowerUnit], devices: Iterable[LabDevice]) -> tuple[LabPowerUnit, ...]:
        found = tuple(units)
        names = [u.name for u in found] + [d.name for d in devices]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate unit or device names in {names}")
        return found

    def _live(self, name: str) -> LabPowerUnit:
        unit = self.unit(name)
        if not unit.reachable:
            raise LabError(f"power unit {name!r} is not reachable")
        return unit

    def _ups(self, name: str) -> LabUps:
        unit = self._live(name)
        if not isinstance(unit, LabUps):
            raise LabError(f"power unit {name!r} is not a UPS")
        return unit

    def _snmp_engine(self) -> Any:
        from collectors.snmp.v3 import new_engine

        loop = asyncio.get_running_loop()
        if self._engine is None or self._engine_loop is not loop:
            # One engine for every SET on this loop (an engine is bound to its loop).
            self._close_engine()
            self._engine, self._engine_loop = new_engine(), loop
        return self._engine

    def _close_engine(self) -> None:
        engine, self._engine, self._engine_loop = self._engine, None, None
        if engine is not None:
            engine.close_dispatcher()

    async def _set(self, unit: LabPowerUnit, oid: str, value: int) -> None:
        from pysnmp.hlapi.v3arch.asyncio import (
            CommunityData,
            ContextData,
            Counter32,
            Gauge32,
            Integer32,
            ObjectIdentity,
            ObjectType,
            UdpTransportTarget,
            set_cmd,
        )

        tag = unit.values()[oid][0]
        if tag != _INTEGER and not 0 <= value < 2**32:
            raise LabError(f"{unit.name}: {value} is out of range for {oid}")
        kind = {_INTEGER: Integer32, _GAUGE32: Gauge32, _COUNTER32: Counter32}[tag]
        target = await UdpTransportTarget.create((self.host, self.port), timeout=1, retries=2)
        error, status, _, _ = await set_cmd(
            self._snmp_engine(), CommunityData(unit.name, mpModel=1), target, ContextData(),
            ObjectType(ObjectIdentity(oid), kind(value)), lookupMib=False,
        )
        if error or status:
            raise LabError(f"SET {oid} on {unit.name}: {error or status}")
        self._current[(unit.name, oid)] = value


__all__ = ["BATTERY_STATUSES", "BREAKER_STATES", "DEMO_UNITS", "LabCabinet", "LabPowerUnit", "LabUps",
           "OUTPUT_SOURCES", "PowerLab", "render_unit"]
