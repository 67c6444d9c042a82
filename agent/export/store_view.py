"""What a source's store reader (SourceSpec.store) sees of the store-based export: the store and the period's edges.

A reader turns its own metrics in a Prometheus-API store into what the report
needs (agent/export/prometheus_measurements.py): figures of its KPI kinds, or
for gauge kinds the PromQL whose samples are summarised like ledger segments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from agent.export import format as fmt
from agent.export import prometheus_measure as pm
from agent.export.prometheus_source import Labels, PrometheusApi
from agent import sli
from agent.kpi_types import Maintenance, Plan, SegmentSums
from agent.periods import Period
from agent.sli import Segment

if TYPE_CHECKING:
    from agent.config import Config
    from agent.kpi import KpiEngine

# Samples read beyond each edge of a window, for the steps that straddle it.
EDGE = 3600.0
DEFAULT_STEP = 15.0  # the scrape interval the README asks for, when the store shows none


@dataclass
class StoreView:
    config: "Config"
    api: PrometheusApi
    now: float
    engine: "KpiEngine"  # maintenance comes from the config alone
    steps: dict[str, float] = field(default_factory=dict)  # gauge KPI -> the step it was sampled at
    # (selector, end) -> its scrape interval: asked once however many of a source's families or KPIs read it.
    _intervals: dict[tuple[str, float], float] = field(default_factory=dict)

    def end(self, period: Period) -> float:
        return min(self.now, period.end)

    def maintenance(self, plan: Plan, period: Period) -> Maintenance:
        return self.engine.maintenance(plan, period.start, self.end(period))

    def read_until(self, end: float) -> float:
        return min(self.now, end + EDGE)

    def interval(self, selector: str, end: float) -> float:
        """The store's scrape interval for ``selector``, from its samples in the hour before ``end``."""
        key = (selector, end)
        if key not in self._intervals:
            raw = self.api.raw(selector, end - EDGE, end)
            self._intervals[key] = pm.scrape_interval(([t for t, _ in points] for points in raw.values()), DEFAULT_STEP)
        return self._intervals[key]


class StoreSegments(SegmentSums):
    """A LedgerReader over segments rebuilt from the store, for the sources' own evaluators."""

    def __init__(self, segments: Mapping[str, Sequence[Segment]]):
        self._segments = segments

    def segments(self, names: Sequence[str], start: float, end: float) -> Mapping[str, Sequence[Segment]]:
        return {n: sli.clip(self._segments.get(n, []), start, end) for n in names}


@dataclass(frozen=True, slots=True)
class GaugeQuery:
    """A gauge KPI's inputs in the store: a selector to find the scrape interval, the PromQL of the inputs,
    and the ledger series name of each result's labels."""

    sampled: str  # a selector of the inputs: their samples give the scrape interval
    expr: str
    name_of: Callable[[Labels], str]


def gauge_note(step: float | None, lang: str) -> str:
    """A gauge figure from the store: sampled at the scrape interval."""
    every = fmt.number(step or DEFAULT_STEP, 3)
    return (f"来源 Prometheus：按采集间隔 {every} 秒采样" if lang == "zh" else
            f"from the store: sampled every {every} s (the scrape interval)")


__all__ = ["DEFAULT_STEP", "EDGE", "GaugeQuery", "StoreSegments", "StoreView", "gauge_note"]
