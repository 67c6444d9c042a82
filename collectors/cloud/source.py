"""The cloud source: offered capacity of every configured cloud's regions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from collectors.cloud import series
from agent.catalogue import KpiDefinition
from agent.config import Config, KpiConfig
from agent.config_sections import selected
from agent.sources import Inputs, SourceSpec
from agent.units import Target
from collectors.base import Collector
from collectors.cloud.config import cloud_regions, cloud_resources

if TYPE_CHECKING:
    from agent.generators.queries import KpiQueries, Sli


def cloud_inputs(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> Inputs:
    """The capacity series of the KPI's resource in every region of the clouds it names (all by default)."""
    resource = definition.resource or ""
    names = tuple(
        series.cloud(cloud.name, region, resource, "capacity")
        for cloud in selected(config.clouds, kpi.clouds)
        if resource in cloud_resources(cloud)
        for region in cloud_regions(cloud)
    )
    return names


def query_labels(definition: KpiDefinition, kpi: KpiConfig, target: Target) -> tuple[dict[str, str], dict[str, str]]:
    """The resource and the clouds (all when empty) the capacity queries sum."""
    return {}, {"resource": definition.resource or "", "clouds": "|".join(kpi.clouds or ())}


def dashboards(config: Config, queries: list[KpiQueries], job: str) -> dict[str, Any]:
    from collectors.cloud.dashboard import cloud  # generators only: not imported by the running agent

    return {"sla-cloud.json": cloud(queries, job)} if config.clouds else {}


def series_label(name: str) -> str | None:
    """``cloud:C:R:X:capacity`` -> ``C/R``."""
    parts = name.split(":")
    return f"{parts[1]}/{parts[2]}" if len(parts) == 5 and parts[0] == "cloud" else None


def capacity_alert() -> Any:
    from collectors.cloud.alerts import CAPACITY_ALERT  # generators only: not imported by the running agent

    return CAPACITY_ALERT


def store(view: Any) -> Any:
    from collectors.cloud.store_export import CloudStore  # the store-based export only

    return CloudStore(view)


def build(config: Config, ledger: Any) -> list[Collector]:
    if not config.clouds:
        return []
    from collectors.cloud.collector import CloudCollector

    return [CloudCollector(config.clouds)]


def intervals(config: Config) -> list[float]:
    return [cloud.interval for cloud in config.clouds]


def slis() -> Mapping[str, Sli]:
    from collectors.cloud.queries import SLIS  # generators only: not imported by the running agent

    return SLIS


def counts(config: Config) -> list[tuple[int, str]]:
    return [(len(config.clouds), "clouds")]


def shard(config: Config, owns: Callable[[str, str], bool]) -> dict[str, Any]:
    return {"clouds": tuple(c for c in config.clouds if owns("cloud", c.name))}


SOURCE = SourceSpec(name="cloud", serves=("cloud",), inputs=cloud_inputs, collectors=build,
                    query_labels=query_labels, dashboards=dashboards, capacity_alert=capacity_alert,
                    series_label=series_label,
                    slis=slis, intervals=intervals, counts=counts, shard=shard, store=store)
