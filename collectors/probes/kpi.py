"""The probes' KPI inputs and their own kind, worst_availability (a platform judged system by system)."""

from __future__ import annotations

import dataclasses
from typing import Mapping

from agent import periods, sources
from agent.config import Config, KpiConfig
from agent.config_sections import selected
from agent.kpi_definition import KpiDefinition
from agent.kpi_types import KpiResult, LedgerReader, Maintenance, Plan
from agent.sli import Totals
from agent.sources import Inputs
from collectors.probes.config import Probe
from collectors.probes.series import probe_up


def chosen(kpi: KpiConfig, config: Config) -> list[Probe]:
    """The probes a KPI names (``probes:``), every configured probe when it names none."""
    return selected(config.probes, getattr(kpi, "probes", None))


def probe_inputs(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> Inputs:
    """Each chosen probe's state series (a window listing the probe, or a global one, covers it)."""
    return tuple(probe_up(p.name) for p in chosen(kpi, config))


def probe_parts(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> Mapping[str, tuple[str, ...]]:
    """The chosen probes' state series by business system, in config order."""
    parts: dict[str, list[str]] = {}
    for probe in chosen(kpi, config):
        parts.setdefault(probe.business_system, []).append(probe_up(probe.name))
    return {system: tuple(names) for system, names in parts.items()}


def worst_availability(plan: Plan, ledger: LedgerReader, period: periods.Period, end: float,
                       maintenance: Maintenance) -> KpiResult:
    """Each system's availability over its probes; the value is the worst system's, met only if all are.

    A system without any known probe-time has no figure: the KPI is then not met on the
    others' strength, it is short of coverage (the coverage is the least covered system's).
    """
    availability = sources.kind("availability").evaluate
    parts = {system: availability(dataclasses.replace(plan, inputs=names, parts={}), ledger, period, end, maintenance)
             for system, names in plan.parts.items()}
    known = [r for r in parts.values() if r.value is not None]
    value = min((r.value for r in known if r.value is not None), default=None)
    met = None if value is None else all(bool(r.met) for r in known) and len(known) == len(parts)
    totals = sum((r.totals for r in parts.values() if r.totals is not None), Totals())
    coverage = min((r.coverage for r in parts.values()), default=0.0)
    return KpiResult(
        definition=plan.definition, target=plan.target, period=period, until=end, value=value, met=met,
        coverage=coverage, min_coverage=plan.config.min_coverage, totals=totals, parts=parts,
    )
