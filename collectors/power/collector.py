"""The power collector: one target per UPS or cabinet (collectors.base.Collector, kind ``power``).

Each poll is one GET of the profile's scalar OIDs through the unit's SNMP
device (v2c or v3, as ``snmp.devices`` configures it), judged by
collectors/power/judge.py. A poll that fails (no answer, an error status,
the unit's timeout) raises CollectorError: the unit is unknown for that time,
never "fault" and never "normal".

Ledger series: ``power:<unit>:fault`` and ``power:<unit>:<condition>`` for
each condition of its profile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from collectors.base import CollectorError, Observation, PollResult, Sample, Target, samplers
from collectors.power.config import PowerUnit, check_units
from collectors.power.baselines import BaselineStore
from collectors.power.judge import Verdict, judge, number
from collectors.power.metrics import READING_METRICS
from collectors.power.profile import Profile, load_profile
from collectors.power.series import unit_condition, unit_fault
from collectors.snmp.collector import resolve_device
from collectors.snmp.config import SnmpDefaults, SnmpDevice
from collectors.snmp.session import Sessions

log = logging.getLogger(__name__)

POLL_SLACK = 1.0  # seconds beyond the unit's timeout for the scheduler's own bound: its message is ours


@dataclass(frozen=True, slots=True, eq=False)
class PowerTarget:
    """One unit (implements collectors.base.Target)."""

    name: str
    interval: float
    poll_timeout: float
    unit: PowerUnit = field(repr=False)
    device: SnmpDevice = field(repr=False)  # with snmp.defaults applied
    profile: Profile = field(repr=False)
    series: tuple[str, ...] = ()  # fault, then each condition's, in the profile's order


_S = samplers("sla_power_fault", *READING_METRICS.values())


class PowerCollector:
    """Reads the configured UPS and cabinets."""

    kind = "power"

    def __init__(self, units: Sequence[PowerUnit], devices: Sequence[SnmpDevice], defaults: SnmpDefaults,
                 ledger: Any = None) -> None:
        problems = check_units(units)
        if problems:
            raise ValueError("; ".join(f"{path}: {message}" for path, message in problems))
        by_name = {d.name: d for d in devices}
        targets = []
        for unit in units:
            device = by_name.get(unit.device)
            if device is None:  # the config's cross-check says so first; a hand-built collector may not
                raise ValueError(f"power unit {unit.name}: no SNMP device named {unit.device!r}")
            profile = load_profile(unit.profile)
            series = (unit_fault(unit.name), *(unit_condition(unit.name, c) for c in profile.conditions))
            targets.append(PowerTarget(unit.name, unit.interval, unit.timeout + POLL_SLACK, unit,
                                       resolve_device(device, defaults), profile, series))
        self._targets = tuple(targets)
        self._baselines = BaselineStore(ledger)  # per unit: its counters at the last poll that read them
        self._last_fault: dict[str, float | None] = {}  # for logging a change once, not every poll
        self._sessions = Sessions()

    def targets(self) -> Sequence[PowerTarget]:
        return self._targets

    def unknown(self, target: Target) -> tuple[Observation, ...]:
        series = target.series if isinstance(target, PowerTarget) else ()
        return tuple(Observation(name, None) for name in series)

    async def close(self) -> None:
        self._sessions.close()
        await self._baselines.close()

    async def poll(self, target: Target) -> PollResult:
        """Read one unit once, within its timeout; CollectorError on any failure."""
        if not isinstance(target, PowerTarget):
            raise CollectorError(f"not a power target: {target.name}")
        try:
            async with asyncio.timeout(target.unit.timeout):
                values = await (await self._sessions.of(target.name, target.device)).get(target.profile.oids)
        except TimeoutError:
            device = target.device
            raise CollectorError(f"{device.address}:{device.port}: poll did not finish within "
                                 f"{target.unit.timeout:g}s") from None
        verdict = judge(target.profile, values, await self._baselines.get(target.name, target.profile))
        self._baselines.put(target.name, target.profile, verdict.baselines, time.time())
        self._log_change(target, verdict)
        return PollResult(self._observations(target, verdict), self._samples(target, verdict, values),
                          verdict.discontinuities)

    def _observations(self, target: PowerTarget, verdict: Verdict) -> tuple[Observation, ...]:
        fault, *conditions = target.series
        return (Observation(fault, verdict.fault),
                *(Observation(name, verdict.conditions[c]) for name, c in zip(conditions, target.profile.conditions)))

    def _samples(self, target: PowerTarget, verdict: Verdict, values: Any) -> tuple[Sample, ...]:
        name = target.name
        samples = [_S["sla_power_fault"](name, condition, value=value)
                   for condition, value in verdict.conditions.items() if value is not None]
        for reading, oid in target.profile.readings:
            found = number(values, oid)
            if found is not None:
                samples.append(_S[READING_METRICS[reading]](name, value=found))
        return tuple(samples)

    def _log_change(self, target: PowerTarget, verdict: Verdict) -> None:
        before = self._last_fault.get(target.name, 0.0)  # the first normal reading is not news
        if verdict.fault is None or verdict.fault == before:
            return  # unknown (an OID the unit did not give) says nothing of a change
        self._last_fault[target.name] = verdict.fault
        if verdict.fault == 1.0:
            held = ", ".join(c for c, v in verdict.conditions.items() if v == 1.0)
            log.warning("power unit %s: fault (%s)", target.name, held)
        else:
            log.info("power unit %s: no fault condition holds any more", target.name)


__all__ = ["PowerCollector", "PowerTarget"]
