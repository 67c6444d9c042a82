"""PromQL for every configured KPI, derived from the catalogue and the config.

The rule generator (agent/generators/rules.py) and the dashboard generator
(agent/generators/dashboards.py) both start here, so an SLI is written once. Each KPI is
one of:

* a **ratio** SLI: good / valid over a window (link-time up / link-time known,
  messages delivered / messages finished, ...), with an objective, for
  error-budget burn alerts;
* a **capacity** SLI: a sum of gauges now (bandwidth of the links that are
  up, capacity the cloud regions offer), compared with the KPI's target.

How a KPI kind of a source becomes PromQL is one entry of that source's
collectors/<source>/queries.py ``SLIS`` (its SourceSpec's ``slis``); KPIs of
other kinds (a yearly volume) or whose metrics are not (yet) in agent.metrics
get no SLI rules, only the agent's own month-to-date series on the dashboards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from agent import sources
from agent.catalogue import KpiDefinition
from agent.config import Config, KpiConfig, kpi_definition
from agent.metrics import METRICS
from agent.units import Target, parse_target

DEFAULT_JOB = "sla-agent"


def selector(**labels: str) -> str:
    """``{a="x",b=~"y"}`` from keyword labels; a value starting with ``~`` is a regex match."""
    parts = []
    for name, value in labels.items():
        op, value = ("=~", value[1:]) if value.startswith("~") else ("=", value)
        parts.append(f'{name}{op}"{value}"')
    return "{" + ",".join(parts) + "}"


def kpis_matching(queries: Iterable[KpiQueries]) -> str:
    """A ``kpi`` label value for ``selector`` that matches these KPIs (``~a|b``)."""
    return "~" + "|".join(q.id for q in queries)


@dataclass(frozen=True, slots=True)
class RatioSli:
    """good / valid events (or sample counts) over a window ``{w}``."""

    good: str  # PromQL with a {w} placeholder for the range
    valid: str
    counted: str  # what good/valid count, for descriptions: "link-time", "messages"
    metrics: tuple[str, ...]  # metric families the SLI needs (for the "declared yet?" check)


@dataclass(frozen=True, slots=True)
class CapacitySli:
    """Capacity available now, in the KPI's base unit."""

    expr: str
    metrics: tuple[str, ...]


# A source's PromQL for one KPI kind, from the KPI's details (job, and what its query_labels add).
Sli = Callable[[Mapping[str, str]], "RatioSli | CapacitySli"]


@dataclass(frozen=True, slots=True)
class KpiQueries:
    """One configured KPI with everything the generators need."""

    config: KpiConfig
    definition: KpiDefinition
    target: Target
    labels: Mapping[str, str]  # static labels of its recording rules and alerts: kpi (+ group)
    job: str
    ratio: RatioSli | None = None
    capacity: CapacitySli | None = None
    objective: float | None = None  # ratio SLIs: share of good events required
    extra: Mapping[str, str] = field(default_factory=dict)  # source details: group, clouds

    @property
    def id(self) -> str:
        return self.definition.id

    def kpi_selector(self) -> str:
        """Selector of the agent's own per-KPI series (sla_kpi_value, sla_kpi_target, ...)."""
        return selector(job=self.job, kpi=self.id)


def _declared(names: tuple[str, ...]) -> bool:
    """Whether agent.metrics declares every family (a histogram by its base name)."""
    return all(name in METRICS for name in names)


def _objective(definition: KpiDefinition, target: Target) -> float | None:
    """The share of good events a ratio SLI must reach."""
    if definition.unit == "ratio" and target.op in (">=", ">"):
        return target.value
    return definition.objective


def kpi_queries(config: Config, job: str = DEFAULT_JOB) -> list[KpiQueries]:
    """Every configured KPI that can be expressed in PromQL, in config order."""
    out = []
    for kpi in config.kpis:
        definition = kpi_definition(kpi)
        target = parse_target(definition.target, definition.unit)
        labels = {"kpi": definition.id}
        details = {"job": job}
        query_labels = sources.serving(definition.source).query_labels
        if query_labels is not None:
            more_labels, more_details = query_labels(definition, kpi, target)
            labels.update(more_labels)
            details.update(more_details)
        spec = sources.serving(definition.source)
        builder = spec.slis().get(definition.kind) if spec.slis is not None else None
        built = builder(details) if builder is not None else None
        ratio = built if isinstance(built, RatioSli) else None
        capacity = built if isinstance(built, CapacitySli) else None
        if ratio is not None and not _declared(ratio.metrics):
            ratio = None
        if capacity is not None and not _declared(capacity.metrics):
            capacity = None
        out.append(KpiQueries(
            config=kpi, definition=definition, target=target, labels=labels, job=job,
            ratio=ratio, capacity=capacity,
            objective=_objective(definition, target) if ratio is not None else None,
            extra=details,
        ))
    return out


# -- loading a config without its secrets -----------------------------------
