"""Measured figures for the report, read from a Prometheus-API store instead of the ledger.

The same interface as agent/export/measure.py's ``LedgerMeasurements``, so the
report model and the writers are the same. Each source reads its own metrics
(its SourceSpec.store: collectors/<source>/store_export.py): link availability
from the link-state counters, SMS counts from the gateways' counters; gauge
kinds (bandwidth, cloud capacity) are the source's PromQL, evaluated by the
store every scrape interval and summarised here like the ledger's segments:
sampled at that step. A source without a store reader has no figure here (the
row says so), only in the ledger-based export.

Maintenance time (the export's column) comes from the config's windows, as for the ledger.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterator, Mapping, Sequence

from agent import kpi, sli, sources
from agent.catalogue import KpiDefinition
from agent.config import Config
from agent.export import prometheus_measure as pm
from agent.export.measure import build_charts
from agent.export.prometheus_source import PrometheusApi
from agent.export.rows import Charts, Outage, Report
from agent.export.store_view import StoreSegments, StoreView
from agent.kpi_types import KpiResult, Plan, SegmentSums
from agent.periods import Period
from agent.sli import Segment


class _NoLedger(SegmentSums):
    def segments(self, names: Sequence[str], start: float, end: float) -> Mapping[str, Sequence[Segment]]:
        raise AssertionError("the store-based export reads no ledger")


class PrometheusMeasurements:
    """The report's view of the configured KPIs from ``api``, as of ``now``."""

    def __init__(self, config: Config, api: PrometheusApi, now: float):
        self._api = api
        self._engine = kpi.KpiEngine(config, _NoLedger())  # maintenance comes from the config alone
        self._view = StoreView(config, api, now, self._engine)
        self._plans: dict[str, Plan] = {p.definition.id: p for p in self._engine.plans}
        self._readers: dict[str, Any] = {}
        self._results: dict[tuple[float, float], dict[str, KpiResult]] = {}
        self._gauge_cache: dict[tuple[str, float, float], dict[str, list[Segment]]] = {}

    @property
    def steps(self) -> dict[str, float]:
        """Gauge KPI -> the step it was sampled at (for its note)."""
        return self._view.steps

    def definitions(self) -> Sequence[KpiDefinition]:
        return [p.definition for p in self._engine.plans]

    def _reader(self, plan: Plan) -> Any | None:
        """The store reader of the source serving ``plan``'s KPI, made once; None: it has none."""
        spec = sources.serving(plan.definition.source)
        if spec.store is None:
            return None
        if spec.name not in self._readers:
            self._readers[spec.name] = spec.store(self._view)
        return self._readers[spec.name]

    def maintenance_seconds(self, kpi_id: str, period: Period) -> float:
        plan = self._plans.get(kpi_id)
        return 0.0 if plan is None else sli.length(self._view.maintenance(plan, period))

    def gauge_segments(self, plan: Plan, start: float, end: float) -> dict[str, list[Segment]]:
        """A gauge KPI's inputs as segments (ledger series names), sampled at the scrape interval."""
        key = (plan.definition.id, start, end)
        if key in self._gauge_cache:
            return self._gauge_cache[key]
        reader = self._reader(plan)
        out: dict[str, list[Segment]] = {}
        if reader is not None:
            query = reader.gauge_query(plan)
            step = self._view.steps[plan.definition.id] = self._view.interval(query.sampled, end)
            wanted = set(plan.inputs)
            if end > start:
                for labels, points in self._api.query_range(query.expr, start, end, step, query.sampled).items():
                    name = query.name_of(labels)
                    if name in wanted:
                        out[name] = pm.gauge_segments(points, step, end)
        self._gauge_cache[key] = out
        return out

    # --- figures -------------------------------------------------------------------------------

    def results(self, period: Period) -> Mapping[str, KpiResult]:
        key = (period.start, period.end)
        if key not in self._results:
            found: dict[str, KpiResult] = {}
            for plan in self._engine.plans:
                result = self._evaluate(plan, period)
                if result is not None:
                    found[plan.definition.id] = result
            self._results[key] = found
        return self._results[key]

    def _evaluate(self, plan: Plan, period: Period) -> KpiResult | None:
        reader = self._reader(plan)
        if reader is None:
            return None  # the row says so ("no result"); the ledger-based export has the figure
        if sources.kind(plan.definition.kind).gauge:
            end = self._view.end(period)
            segments = StoreSegments(self.gauge_segments(plan, period.start, end))
            return kpi.evaluate(plan, segments, period, end, self._view.maintenance(plan, period))
        result: KpiResult | None = reader.evaluate(plan, period)
        return result

    def outages(self, kpi_id: str, period: Period) -> list[Outage]:
        plan = self._plans.get(kpi_id)
        reader = self._reader(plan) if plan is not None else None
        if plan is None or reader is None or not sources.kind(plan.definition.kind).states:
            return []
        found: list[Outage] = reader.outages(plan, period)
        return sorted(found, key=lambda o: (o.start, o.series))

    def charts(self, period: Period) -> Charts:
        """The HTML report's charts, drawn from the same steps and samples as the figures."""
        end = self._view.end(period)

        def state_spans(plan: Plan) -> Iterator[tuple[str, list[tuple[float, float, str]]]]:
            reader = self._reader(plan)
            if reader is not None:
                yield from reader.state_spans(plan, period)

        def bars(plan: Plan, result: KpiResult | None) -> list[tuple[float, float, int]] | None:
            reader = self._reader(plan)
            return None if reader is None else reader.histogram_bars(plan, period, result)

        return build_charts(self._engine.plans, period, end, self.results(period), state_spans=state_spans,
                            gauge_segments=lambda plan: self.gauge_segments(plan, period.start, end),
                            histogram_bars=bars)

    def annotate(self, report: Report) -> Report:
        """The report with each measured row's note saying how the store's figure was made, and the store named."""
        rows = []
        for row in report.rows:
            plan = self._plans.get(row.kpi or "")
            reader = self._reader(plan) if plan is not None else None
            extra = (reader.note(plan.definition.kind, self._view.steps.get(plan.definition.id), report.lang)
                     if plan is not None and reader is not None else "")
            if row.source == "measured" and extra and row.part_of is None:
                joined = f"{row.note}{'；' if report.lang == 'zh' else '; '}{extra}" if row.note else extra
                row = dataclasses.replace(row, note=joined)
            rows.append(row)
        return dataclasses.replace(report, rows=tuple(rows), store_url=self._api.url)
