"""The SNMP source's inventory KPIs: how many devices answered, and how many organisations had a link up."""

from __future__ import annotations

from typing import Mapping

from agent import periods
from collectors.snmp import series
from agent.config import Config, KpiConfig
from agent.kpi_definition import KpiDefinition
from agent.kpi_types import KpiResult, LedgerReader, Maintenance, Plan
from agent.sources import Inputs
from collectors.snmp.series import device_answered


def device_parts(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> Mapping[str, tuple[str, ...]]:
    """Each counted device by its answered series: every device, or those of the definition's type."""
    kind = definition.resource
    return {d.name: (device_answered(d.name),) for d in config.snmp.devices if kind is None or d.type == kind}


def organisation_parts(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> Mapping[str, tuple[str, ...]]:
    """Each organisation by the state series of its devices' links (of the KPI's link group, or all)."""
    organisation = {d.name: d.organisation for d in config.snmp.devices if d.organisation}
    parts: dict[str, list[str]] = {}
    for group in config.link_groups:
        if kpi.link_group is not None and group.name != kpi.link_group:
            continue
        for link in group.links:
            owner = organisation.get(link.device)
            if owner is not None:
                parts.setdefault(owner, []).append(series.link_up(link.name))
    return {owner: tuple(names) for owner, names in parts.items()}


def parts_of(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> Mapping[str, tuple[str, ...]]:
    if definition.source == "organisations":
        return organisation_parts(definition, kpi, config)
    if definition.source == "devices":
        return device_parts(definition, kpi, config)
    return {}


def counted_inputs(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> Inputs:
    return tuple(name for names in parts_of(definition, kpi, config).values() for name in names)


def answered_count(plan: Plan, ledger: LedgerReader, period: periods.Period, end: float,
                   maintenance: Maintenance) -> KpiResult:
    """The parts (devices, organisations) with at least one good observation (1: answered, up) in the period.

    Coverage: the share of parts with any known observation; a part nobody could read is not
    counted, and lowers the coverage instead of hiding among the counted ones.
    """
    segments = ledger.segments(plan.series(), period.start, end) if plan.inputs else {}
    counted = known = 0
    for names in plan.parts.values():
        values = [value for name in names for _, _, value in segments.get(name, ()) if value is not None]
        known += bool(values)
        counted += any(value >= 0.5 for value in values)
    value = float(counted)
    coverage = known / len(plan.parts) if plan.parts else 0.0
    return KpiResult(definition=plan.definition, target=plan.target, period=period, until=end, value=value,
                     met=plan.target.met_by(value), coverage=coverage, min_coverage=plan.config.min_coverage,
                     details={"configured": float(len(plan.parts)), "known": float(known)})
