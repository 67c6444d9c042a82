"""The HTTP probe source: service endpoints probed on their own intervals; the 深i您 app's KPIs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from agent.config import Config, KpiConfig
from agent.kpi_definition import KpiDefinition
from agent.sources import KindSpec, SourceSpec
from agent.units import Target
from collectors.base import Collector
from collectors.probes import kpi

if TYPE_CHECKING:
    from agent.generators.queries import KpiQueries, Sli


def query_labels(definition: KpiDefinition, kpi_config: KpiConfig, target: Target) -> tuple[dict[str, str], dict[str, str]]:
    """The probes the KPI names (all when empty)."""
    return {}, {"probes": "|".join(getattr(kpi_config, "probes", None) or ())}


def dashboards(config: Config, queries: list[KpiQueries], job: str) -> dict[str, Any]:
    from collectors.probes.dashboard import probes  # generators only: not imported by the running agent

    return {"sla-probes.json": probes(queries, job)} if getattr(config, "probes", ()) else {}


def alerts(config: Config, job: str, runbooks: str) -> list[tuple[str, list[dict[str, Any]]]]:
    from collectors.probes.alerts import alerts as probe_alerts  # generators only

    return probe_alerts(config, job, runbooks)


def note(*args: Any) -> list[str]:
    from collectors.probes.notes import worst_system  # the export only: not imported by the running agent

    return worst_system(*args)


def build(config: Config, ledger: Any) -> list[Collector]:
    if not config.probes:
        return []
    from collectors.probes.collector import ProbeCollector

    return [ProbeCollector(config.probes)]


def slis() -> Mapping[str, Sli]:
    from collectors.probes.queries import SLIS  # generators only: not imported by the running agent

    return SLIS


def intervals(config: Config) -> list[float]:
    return [probe.interval for probe in config.probes]


def counts(config: Config) -> list[tuple[int, str]]:
    return [(len(config.probes), "probes")]


def shard(config: Config, owns: Callable[[str, str], bool]) -> dict[str, Any]:
    return {"probes": tuple(p for p in config.probes if owns("probe", p.name))}


def incident_series(config: Config) -> list[tuple[str, str, str]]:
    """Every probe's outcome: a run of failed probes is a service incident."""
    from collectors.probes.series import probe_up

    return [(probe_up(p.name), "service", f"probe {p.name} ({p.business_system})") for p in config.probes]


def store(view: Any) -> Any:
    from collectors.probes.store_export import probe_store  # the store-based export only

    return probe_store(view)


SOURCE = SourceSpec(
    name="probes", serves=("probe",), inputs=kpi.probe_inputs, parts=kpi.probe_parts, collectors=build,
    kinds=(KindSpec("worst_availability", kpi.worst_availability, states=True,
                    met_help="1 when every business system's month-to-date availability (probe-time successful / "
                             "probe-time known) is {target}", note=note),),
    query_labels=query_labels, dashboards=dashboards, alerts=alerts, slis=slis,
    intervals=intervals, counts=counts, shard=shard, incident_series=incident_series,
    store=store,
)
