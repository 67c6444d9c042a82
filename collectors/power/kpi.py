"""The power KPI's inputs and its kind, fault_count: power faults that began in the period.

Value: the number of fault events (collectors/power/events.py) that start in
the period, over the chosen units; met when that is within the target
(``<= 0``). Coverage: unit-time with a known fault state / unit-time of the
period, maintenance excluded, as the other kinds count it. Each unit's own
figure is a part (the export's sub-rows); ``details`` count the events by
condition (an event with two conditions counts under both); ``events`` lists
them for the export's note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from agent import periods, sli
from agent.config import Config, KpiConfig
from agent.config_sections import selected
from agent.kpi_definition import KpiDefinition
from agent.kpi_types import KpiResult, LedgerReader, Maintenance, Plan
from agent.sli import Totals
from agent.sources import Inputs
from collectors.power.config import PowerUnit
from collectors.power.events import LOOKBACK, FaultEvent, unit_events
from collectors.power.profile import load_profile
from collectors.power.series import condition_of, unit_condition, unit_fault


@dataclass(frozen=True, slots=True)
class FaultCount(KpiResult):
    """A fault_count result: a KpiResult with the events behind its figure."""

    # Every event reaching into the period: counted, going on from before, or inside maintenance.
    events: tuple[FaultEvent, ...] = ()

    @property
    def counted(self) -> tuple[FaultEvent, ...]:
        return tuple(e for e in self.events if e.status == "counted")


def chosen(kpi: KpiConfig, config: Config) -> list[PowerUnit]:
    """The units a KPI names (``power_units:``), every configured unit when it names none."""
    return selected(config.power, getattr(kpi, "power_units", None))


def power_inputs(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> Inputs:
    """Each chosen unit's fault series (a window listing the unit, or a global one, covers it)."""
    return tuple(unit_fault(u.name) for u in chosen(kpi, config))


def power_parts(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> Mapping[str, tuple[str, ...]]:
    """Per chosen unit: its fault series, then one series per condition of its profile."""
    return {u.name: (unit_fault(u.name), *(unit_condition(u.name, c) for c in load_profile(u.profile).conditions))
            for u in chosen(kpi, config)}


def _normal(value: float) -> bool:
    return not sli.is_up(value)  # fault = 1 is the bad time


def _result(plan: Plan, period: periods.Period, end: float, events: Sequence[FaultEvent], totals: Totals,
            parts: Mapping[str, KpiResult] | None = None) -> FaultCount:
    counted = [e for e in events if e.status == "counted"]
    value = float(len(counted)) if totals.known > 0 or counted else None  # None: nothing known
    by_condition: dict[str, float] = {}
    for event in counted:
        for condition in event.conditions:
            by_condition[condition] = by_condition.get(condition, 0.0) + 1
    return FaultCount(
        definition=plan.definition, target=plan.target, period=period, until=end, value=value,
        met=None if value is None else plan.target.met_by(value), coverage=totals.coverage,
        min_coverage=plan.config.min_coverage, totals=totals, details=by_condition, parts=parts or {},
        events=tuple(events),
    )


def fault_count(plan: Plan, ledger: LedgerReader, period: periods.Period, end: float,
                maintenance: Maintenance) -> FaultCount:
    """Fault events that start in ``[period.start, end)``, unit by unit and over all units."""
    names = [name for series in plan.parts.values() for name in series]
    found = ledger.segments(names, period.start - LOOKBACK, end) if names and end > period.start else {}
    parts: dict[str, FaultCount] = {}
    for unit, (fault, *conditions) in plan.parts.items():
        segments = found.get(fault, [])
        mask = maintenance.of(fault)
        events = unit_events(unit, segments, {condition_of(c): found.get(c, []) for c in conditions},
                             period.start, end, mask)
        totals = sli.classify(segments, period.start, end, mask, _normal)
        parts[unit] = _result(plan, period, end, events, totals)
    totals = sum((part.totals for part in parts.values() if part.totals is not None), Totals())
    events = sorted((e for part in parts.values() for e in part.events), key=lambda e: (e.start, e.unit))
    return _result(plan, period, end, events, totals, parts)


__all__ = ["FaultCount", "chosen", "fault_count", "power_inputs", "power_parts"]
