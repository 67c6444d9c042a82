"""The source registry: what each collectors/ package declares, for the core to dispatch through.

A source is one package under collectors/ with a ``source.py`` whose ``SOURCE``
is a :class:`SourceSpec`: the catalogue sources it serves, how a configured KPI
becomes its inputs, the KPI kinds it evaluates and how its collectors are built.
The packages are listed, in collector order, in ``collectors.PACKAGES``; the core
(config loading, KPI engine, export, generators) asks this module and names no source.

Kinds that read plain ledger series and serve several sources (availability,
capacity_sum) are the KPI engine's own (agent/kpi.py) and are registered here
through ``GENERIC_KINDS`` so that every kind is looked up in one place.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:
    from agent.catalogue import KpiDefinition
    from agent.config_sections import ConfigSection
    from agent.metric_spec import MetricSpec
    from agent.config import Config, KpiConfig
    from agent.generators.queries import KpiQueries, Sli
    from agent.kpi_types import Evaluator, LedgerReader, Plan
    from agent.state import LiveCounters
    from agent.units import Target
    from collectors.base import Collector

# The ledger series a KPI reads (the maintenance windows that cover them count: agent/maintenance.py).
Inputs = tuple[str, ...]
InputsOf = Callable[["KpiDefinition", "KpiConfig", "Config"], Inputs]
# The configured collectors of a source; ``ledger`` for those that write records with their observations.
CollectorsOf = Callable[["Config", Any], "list[Collector]"]
# (definition, kpi, target) -> (selector labels, PromQL details) the KPI's queries add (agent/generators/queries.py).
QueryLabels = Callable[["KpiDefinition", "KpiConfig", "Target"], "tuple[dict[str, str], dict[str, str]]"]
# (config, the KPIs' queries, job) -> file name -> Grafana dashboard (agent/generators/dashboards.py).
Dashboards = Callable[["Config", "list[KpiQueries]", str], "dict[str, Any]"]
# (plan, ledger, start, end) -> the report's histogram bars [(lower, upper, count)], in the KPI's unit
Histogram = Callable[["Plan", "LedgerReader", float, float], "list[tuple[float, float, int]]"]


@dataclass(frozen=True, slots=True)
class KindSpec:
    """A KPI kind (``KpiDefinition.kind``) and how it becomes a figure."""

    name: str
    evaluate: Evaluator
    # The inputs are 0/1 state series: the figure is up-time, the report lists outages (a timeline
    # chart), and the target is the objective itself (no separate objective ratio).
    states: bool = False
    # The inputs are gauges summed at each instant: a level, never a total of events (a gauge chart).
    gauge: bool = False
    # Judged on pace over the calendar year: no red/green of its own, coverage over the year so far.
    on_pace: bool = False
    # The ledger's latency histogram of the KPI's inputs over ``[start, end)`` as the report's
    # distribution chart's bars, when the kind has one.
    histogram: Histogram | None = None
    # The HTML report's heading over such histograms, and its line when none has data (zh and en).
    histogram_texts: tuple[str, str] = ("", "")
    # What sla_kpi_met = 1 means for a KPI of the kind, for the dashboards: a template of {target} (">= 99%"),
    # {objective} ("95 %"), {bound} ("10s") and {counted} (what a ratio SLI counts: "link-time").
    met_help: str = ""
    # The export's 说明 for a KPI of the kind, (definition, result, outages, show, lang) -> phrases
    # (agent/export/notes.py); none: the export's own note for the kind, else its generic one.
    note: Callable[..., list[str]] | None = None


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """What one collectors/ package contributes to the agent."""

    name: str  # the package under collectors/
    serves: tuple[str, ...]  # catalogue sources (``KpiDefinition.source``) whose inputs it provides
    inputs: InputsOf
    collectors: CollectorsOf
    kinds: tuple[KindSpec, ...] = ()  # the kinds only this source feeds
    # A KPI's inputs by part (part name -> series), for kinds judged part by part; none: no parts.
    parts: Callable[["KpiDefinition", "KpiConfig", "Config"], Mapping[str, tuple[str, ...]]] | None = None
    query_labels: QueryLabels | None = None  # none: the KPI's queries add nothing
    # What the insufficient-data alert adds on what coverage means for this source's KPIs
    # (Chinese, English; the English with its leading space).
    coverage_hint: tuple[str, str] = ("", "")
    dashboards: Dashboards | None = None  # the source's own dashboards, if any
    # What SlaTargetDown adds on what one of its targets failing means (Chinese, English; each with its
    # leading separator), after the common "counts as unknown, coverage drops".
    target_down_hint: tuple[str, str] = ("", "")
    # Its PromQL by KPI kind (collectors/<source>/queries.py, loaded by the generators only).
    slis: Callable[[], Mapping[str, Sli]] | None = None
    # Its series whose down time is an incident, (series, category, what) for the config: a link's state
    # (network), a probe's (service); read by the incident KPIs (collectors/incidents).
    incident_series: Callable[["Config"], list[tuple[str, str, str]]] | None = None
    # Subcommands it adds to the CLI, given (subparsers, common options parser).
    commands: Callable[[Any, Any], None] | None = None
    # A person's label for one of its ledger series in the report's charts ("gov-cloud/shenzhen-1"); None: not its.
    series_label: Callable[[str], str | None] | None = None
    # Its reader in the store-based export (agent/export/prometheus_measurements.py), given the
    # export's StoreView (collectors/<source>/store_export.py); none: its KPIs have no figure there.
    store: Callable[[Any], Any] | None = None
    # The alert (name, severity, hold, texts: an alert_texts.AlertSpec) when its capacity KPIs are below
    # target; generators only, so the module it lives in is imported when called.
    capacity_alert: Callable[[], Any] | None = None
    # The bound on polls in flight at once it sets for the whole agent (the scheduler has one), if any.
    concurrency: Callable[["Config"], int] | None = None
    # The catalogue source of KPIs a config defines itself (name, kind, unit, target given), if it serves them.
    custom_kpis: str | None = None
    # Alert groups of its own targets beyond the KPIs' (name, rules), given (config, job, runbooks base);
    # generators only, so the module it lives in is imported when called.
    alerts: Callable[["Config", str, str], list[tuple[str, list[dict[str, Any]]]]] | None = None
    # The poll intervals (seconds) of its configured targets: how stale a target may get before it is.
    intervals: Callable[["Config"], list[float]] = lambda config: []
    # How much of it is configured, as ``sla-agent check`` says it: [(3, "devices"), (5, "links")].
    counts: Callable[["Config"], list[tuple[int, str]]] = lambda config: []
    # Its counters fed by poll outcomes and exposed fresh at each scrape, given (config, clock), if any.
    live: Callable[["Config", Callable[[], float]], "LiveCounters"] | None = None
    # Its sections' updates for a shard: only the targets ``owns(kind, name)`` says the shard owns.
    shard: Callable[["Config", Callable[[str, str], bool]], dict[str, Any]] = lambda config, owns: {}


@cache
def sources() -> tuple[SourceSpec, ...]:
    """Every registered source, in collector order (loaded on first use: the packages import the core)."""
    import collectors

    return tuple(importlib.import_module(f"collectors.{name}.source").SOURCE for name in collectors.PACKAGES)


@cache
def config_sections() -> Mapping[str, ConfigSection]:
    """Each source's part of the config (its ``config.py``'s ``SECTION``), by package, in collector order.

    Read while agent.config builds ``Config``: those modules import no agent.config.
    """
    import collectors

    return {name: importlib.import_module(f"collectors.{name}.config").SECTION for name in collectors.PACKAGES}


@cache
def metric_specs() -> tuple[MetricSpec, ...]:
    """Every source's metric families (its ``metrics.py``'s ``METRICS``), in collector order."""
    import collectors

    return tuple(spec for name in collectors.PACKAGES
                 for spec in importlib.import_module(f"collectors.{name}.metrics").METRICS)


@cache
def _serving() -> Mapping[str, SourceSpec]:
    return {served: spec for spec in sources() for served in spec.serves}


def serving(catalogue_source: str) -> SourceSpec:
    """The source that provides the inputs of KPIs whose catalogue source is ``catalogue_source``."""
    return _serving()[catalogue_source]


@cache
def kinds() -> Mapping[str, KindSpec]:
    """Every KPI kind by name: the engine's generic ones, then each source's."""
    from agent.kpi import GENERIC_KINDS

    return {kind.name: kind for kind in (*GENERIC_KINDS, *(k for spec in sources() for k in spec.kinds))}


DEFAULT_CONCURRENCY = 64


def concurrency(config: "Config") -> int:
    """Polls in flight at once: the largest bound a source sets (the SNMP source's snmp.max_concurrency)."""
    bounds = [spec.concurrency(config) for spec in sources() if spec.concurrency is not None]
    return max(bounds, default=DEFAULT_CONCURRENCY)


@cache
def custom_kpi_source() -> str:
    """The catalogue source of a KPI the config defines itself: the one a source declares it serves."""
    return next(spec.custom_kpis for spec in sources() if spec.custom_kpis is not None)


def kind(name: str) -> KindSpec:
    """The kind ``name``; one no source registers has none of the traits and cannot be evaluated."""
    found = kinds().get(name)
    return found if found is not None else KindSpec(name, _unknown_kind(name))


def _unknown_kind(name: str) -> Evaluator:
    def evaluate(*args: Any) -> Any:
        raise KeyError(name)

    return evaluate


__all__ = ["concurrency", "custom_kpi_source", "config_sections", "metric_specs", "Dashboards", "Histogram", "Inputs", "QueryLabels", "KindSpec", "SourceSpec", "kind", "kinds", "serving", "sources"]
