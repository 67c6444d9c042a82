"""A store reader that rebuilds a source's ledger series from its gauges, for the source's own KPI evaluators.

A source whose state the agent exposes as gauges (a probe's ``sla_probe_success``,
a power unit's ``sla_power_fault``, a scan's findings) declares, per series family,
the PromQL of the gauge and the ledger series each result stands for. The store
evaluates it every scrape interval (only over the stretches that hold samples:
PrometheusApi.query_range); each point holds for one interval, as a ledger
observation holds until the next poll, and a missing point is unknown. The KPI
is then the source's own evaluation of those segments, with the config's
maintenance: the same arithmetic as the ledger-based export, at the scrape
interval's resolution (the report's note says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from agent import sources
from agent.export import prometheus_measure as pm
from agent.export.measure import plan_outages, plan_state_spans
from agent.export.prometheus_source import Labels
from agent.export.rows import Outage
from agent.export.store_view import StoreSegments, StoreView, gauge_note
from agent.kpi_types import KpiResult, Plan
from agent.periods import Period
from agent.sli import Segment


def _same(value: float) -> float | None:
    return value


@dataclass(frozen=True, slots=True)
class Sampled:
    """One family of ledger series as a store gauge."""

    sampled: str  # a selector of the gauge: its samples give the scrape interval and where data is
    expr: str  # PromQL of the plan's targets, one result per ledger series (``max by (probe)``: shards' copies are one)
    name_of: Callable[[Labels], str | None]  # the ledger series of a result; None: not one of ours
    value_of: Callable[[float], float | None] = _same  # the ledger's value of a point (None: unknown)


class SampledStore:
    """Figures, outages and timelines of a source's KPIs from its gauges (SourceSpec.store)."""

    def __init__(self, view: StoreView, families: Callable[[Plan], Sequence[Sampled]]):
        self._view = view
        self._families = families
        self._cache: dict[tuple[str, float, float], dict[str, list[Segment]]] = {}

    def _segments(self, plan: Plan, start: float, end: float) -> StoreSegments:
        key = (plan.definition.id, start, end)
        if key not in self._cache:
            out: dict[str, list[Segment]] = {}
            if end > start:
                for family in self._families(plan):
                    step = self._view.steps[plan.definition.id] = self._view.interval(family.sampled, end)
                    for labels, points in self._view.api.query_range(family.expr, start, end, step,
                                                                     family.sampled).items():
                        name = family.name_of(labels)
                        if name is not None:
                            mapped = [(t, value) for t, v in points for value in (family.value_of(v),)
                                      if value is not None]  # unknown: no point, as a failed poll leaves none
                            out[name] = pm.gauge_segments(mapped, step, end)
            self._cache[key] = out
        return StoreSegments(self._cache[key])

    def evaluate(self, plan: Plan, period: Period) -> KpiResult | None:
        end = self._view.end(period)
        kind = sources.kind(plan.definition.kind)
        return kind.evaluate(plan, self._segments(plan, period.start, end), period, end,
                             self._view.maintenance(plan, period))

    def outages(self, plan: Plan, period: Period) -> list[Outage]:
        end = self._view.end(period)
        return plan_outages(plan, self._segments(plan, period.start, end), period.start, end,
                            self._view.maintenance(plan, period))

    def state_spans(self, plan: Plan, period: Period) -> Iterator[tuple[str, list[tuple[float, float, str]]]]:
        end = self._view.end(period)
        return plan_state_spans(plan, self._segments(plan, period.start, end), period.start, end,
                                self._view.maintenance(plan, period))

    def histogram_bars(self, plan: Plan, period: Period, result: KpiResult | None) -> None:
        return None

    def note(self, kind: str, step: float | None, lang: str) -> str:
        return gauge_note(step, lang)


__all__ = ["Sampled", "SampledStore"]
