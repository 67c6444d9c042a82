"""The SNMP source: link groups' state and capacity, from the devices' IF-MIB."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from collectors.snmp import series
from agent.catalogue import KpiDefinition
from agent.config import Config, KpiConfig
from agent.sources import Inputs, KindSpec, SourceSpec
from agent.units import Target
from collectors.base import Collector
from collectors.snmp.kpi import answered_count, counted_inputs, parts_of

if TYPE_CHECKING:
    from agent.generators.queries import KpiQueries, Sli


def link_group_inputs(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> Inputs:
    """The group's links, by their state series (availability) or available capacity (capacity_sum);
    for the inventory counts, the devices' or organisations' series (collectors/snmp/kpi.py)."""
    if definition.source != "link_group":
        return counted_inputs(definition, kpi, config)
    group = config.link_group(kpi.link_group or "")
    name = series.link_up if definition.kind == "availability" else series.link_available
    return tuple(name(link.name) for link in group.links)


def query_labels(definition: KpiDefinition, kpi: KpiConfig, target: Target) -> tuple[dict[str, str], dict[str, str]]:
    """A group's KPI selects its series by the group label."""
    group = {"group": kpi.link_group} if kpi.link_group else {}
    return group, dict(group)


def dashboards(config: Config, queries: list[KpiQueries], job: str) -> dict[str, Any]:
    from collectors.snmp.dashboard import links  # generators only: not imported by the running agent

    return {"sla-links.json": links(queries, job)} if config.link_groups else {}


def capacity_alert() -> Any:
    from collectors.snmp.alerts import BANDWIDTH_ALERT  # generators only: not imported by the running agent

    return BANDWIDTH_ALERT


def store(view: Any) -> Any:
    from collectors.snmp.store_export import LinkStore  # the store-based export only

    return LinkStore(view)


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


def counts(config: Config) -> list[tuple[int, str]]:
    links = sum(len(g.links) for g in config.link_groups)
    return [(len(config.snmp.devices), "devices"), (len(config.link_groups), "link groups"), (links, "links")]


def shard(config: Config, owns: Callable[[str, str], bool]) -> dict[str, Any]:
    """The shard's devices, and of each link group the links on them."""
    devices = tuple(d for d in config.snmp.devices if owns("snmp", d.name))
    kept = {d.name for d in devices}
    groups = tuple(g.model_copy(update={"links": tuple(link for link in g.links if link.device in kept)})
                   for g in config.link_groups)
    return {"snmp": config.snmp.model_copy(update={"devices": devices}), "link_groups": groups}


def live(config: Config, clock: Callable[[], float]) -> Any:
    """Every configured link's seconds per state (sla_link_state_seconds_total), counted from now."""
    from collectors.snmp.link_states import LinkStates

    return LinkStates.from_config(config, clock)


def incident_series(config: Config) -> list[tuple[str, str, str]]:
    """Every configured link's state: its down time is a network incident."""
    return [(series.link_up(link.name), "network", f"link {link.name} ({group.name})")
            for group in config.link_groups for link in group.links]


SOURCE = SourceSpec(name="snmp", serves=("link_group", "devices", "organisations"), inputs=link_group_inputs,
                    parts=parts_of, collectors=build,
                    kinds=(KindSpec("answered_count", answered_count,
                                    met_help="1 when the count of those that answered this month is {target}"),),
                    query_labels=query_labels, dashboards=dashboards, capacity_alert=capacity_alert,
                    slis=slis, intervals=intervals, counts=counts, shard=shard,
                    incident_series=incident_series, store=store, live=live,
                    concurrency=lambda config: config.snmp.max_concurrency, custom_kpis="link_group")
