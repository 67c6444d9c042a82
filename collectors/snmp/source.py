"""The SNMP source: link groups' state and capacity, from the devices' IF-MIB."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from agent import series
from agent.catalogue import KpiDefinition
from agent.config import Config, KpiConfig
from agent.sources import Inputs, SourceSpec
from agent.units import Target
from collectors.base import Collector

if TYPE_CHECKING:
    from agent.generators.queries import KpiQueries, Sli


def link_group_inputs(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> Inputs:
    """The group's links, by their state series (availability) or available capacity (capacity_sum)."""
    group = config.link_group(kpi.link_group or "")
    name = series.link_up if definition.kind == "availability" else series.link_available
    return tuple(name(link.name) for link in group.links), group.name


def query_labels(definition: KpiDefinition, kpi: KpiConfig, target: Target) -> tuple[dict[str, str], dict[str, str]]:
    """A group's KPI selects its series by the group label."""
    group = {"group": kpi.link_group} if kpi.link_group else {}
    return group, dict(group)


def dashboards(config: Config, queries: list[KpiQueries], job: str) -> dict[str, Any]:
    from collectors.snmp.dashboard import links  # generators only: not imported by the running agent

    return {"sla-links.json": links(queries, job)} if config.link_groups else {}


def build(config: Config, ledger: Any) -> list[Collector]:
    if not config.snmp.devices:
        return []
    from collectors.snmp.collector import SnmpCollector

    return [SnmpCollector(config)]


def intervals(config: Config) -> list[float]:
    default = config.snmp.defaults.interval
    return [device.interval or default for device in config.snmp.devices]


def slis() -> Mapping[str, Sli]:
    from collectors.snmp.queries import SLIS  # generators only: not imported by the running agent

    return SLIS


SOURCE = SourceSpec(name="snmp", serves=("link_group",), inputs=link_group_inputs, collectors=build,
                    query_labels=query_labels, dashboards=dashboards,
                    slis=slis, intervals=intervals)
