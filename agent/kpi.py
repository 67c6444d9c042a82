"""The KPI engine: ledger segments -> period figures for every configured KPI.

Reads only; the same function serves the month-to-date gauges on /metrics and
(later) the monthly export, so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

from agent import periods, series, sli
from agent.catalogue import KpiDefinition
from agent.config import Config, KpiConfig, kpi_definition
from agent.sli import Segment, Totals
from agent.units import Target, parse_target
from collectors.cloud.config import cloud_regions, cloud_resources

# Kept for callers that name link series through this module.
link_up_series = series.link_up
link_available_series = series.link_available


@dataclass(frozen=True, slots=True)
class KpiResult:
    """A KPI over ``[period.start, until)``."""

    definition: KpiDefinition
    target: Target
    period: periods.Period
    until: float
    totals: Totals
    value: float | None  # ratio for availability, time-weighted mean for gauges
    minimum: float | None = None  # gauges only
    compliance: float | None = None  # gauges only: share of known time meeting the target
    min_coverage: float = 0.0

    @property
    def met(self) -> bool | None:
        """True/False, or None while there is no data at all."""
        if self.value is None:
            return None
        if self.definition.kind == "availability":
            return self.target.met_by(self.value)
        objective = self.definition.objective if self.definition.objective is not None else 1.0
        return self.compliance is not None and self.compliance >= objective

    @property
    def sufficient(self) -> bool:
        """Enough of the period has data for the figure to be reported as final."""
        return self.value is not None and self.totals.coverage >= self.min_coverage


@dataclass(frozen=True, slots=True)
class _Plan:
    config: KpiConfig
    definition: KpiDefinition
    target: Target
    inputs: tuple[str, ...]  # ledger series the KPI reads
    # Maintenance scope: a link group's windows plus the global ones, or
    # only the global ones (None).
    group: str | None

    def series(self) -> list[str]:
        return list(self.inputs)


def _link_group_inputs(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> tuple[tuple[str, ...], str | None]:
    group = config.link_group(kpi.link_group or "")
    name = series.link_up if definition.kind == "availability" else series.link_available
    return tuple(name(link.name) for link in group.links), group.name


def _cloud_inputs(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> tuple[tuple[str, ...], str | None]:
    resource = definition.resource or ""
    chosen = [c for c in config.clouds if kpi.clouds is None or c.name in kpi.clouds]
    names = tuple(
        series.cloud(cloud.name, region, resource, "capacity")
        for cloud in chosen
        if resource in cloud_resources(cloud)
        for region in cloud_regions(cloud)
    )
    return names, None


# How each catalogue source turns a KPI into ledger series; a new source adds one entry.
_INPUTS = {"link_group": _link_group_inputs, "cloud": _cloud_inputs}


def plan(config: Config) -> list[_Plan]:
    """Resolve each configured KPI to its definition, target and input series."""
    plans = []
    for kpi in config.kpis:
        definition = kpi_definition(kpi)
        inputs, group = _INPUTS[definition.source](definition, kpi, config)
        plans.append(
            _Plan(
                config=kpi,
                definition=definition,
                target=parse_target(definition.target, definition.unit),
                inputs=inputs,
                group=group,
            )
        )
    return plans


def evaluate(
    kpi: _Plan,
    segments: Mapping[str, Sequence[Segment]],
    period: periods.Period,
    until: float,
    maintenance: Sequence[sli.Span],
) -> KpiResult:
    """One KPI over ``[period.start, min(until, period.end))`` (pure)."""
    end = min(until, period.end)
    series = [segments.get(name, []) for name in kpi.series()]
    common = dict(definition=kpi.definition, target=kpi.target, period=period, until=end,
                  min_coverage=kpi.config.min_coverage)
    if kpi.definition.kind == "availability":
        totals = Totals()
        for segs in series:
            totals = totals + sli.classify(segs, period.start, end, maintenance, sli.is_up)
        # Per-link totals add up: coverage is link-time with data / link-time expected.
        return KpiResult(totals=totals, value=sli.availability(totals), **common)
    summed = sli.sum_series(series, period.start, end)
    summary = sli.summarise_gauge(summed, period.start, end, maintenance, kpi.target.met_by)
    return KpiResult(totals=summary.totals, value=summary.mean, minimum=summary.minimum,
                     compliance=summary.compliance, **common)


class KpiEngine:
    """Evaluates every configured KPI from a ledger-like source of segments."""

    def __init__(self, config: Config, read_segments: Callable[[Sequence[str], float, float], Mapping[str, Sequence[Segment]]]):
        self._config = config
        self._zone = ZoneInfo(config.agent.timezone)
        self._read = read_segments
        self.plans = plan(config)

    def evaluate_period(self, period: periods.Period, now: float) -> list[KpiResult]:
        """Every KPI over ``period``, up to ``now`` if the period is still running."""
        end = min(now, period.end)
        results = []
        for kpi in self.plans:
            segments = self._read(kpi.series(), period.start, end)
            maintenance = periods.maintenance_spans(self._config.maintenance, kpi.group, period.start, end, self._zone)
            results.append(evaluate(kpi, segments, period, end, maintenance))
        return results

    def month_to_date(self, now: float) -> list[KpiResult]:
        return self.evaluate_period(periods.month_containing(now, self._zone), now)
