"""Measured figures for the report, read from the ledger through the KPI engine.

``results`` is ``KpiEngine.evaluate_period``: the very computation behind
``sla_kpi_value``, so the exported figure for a month is what /metrics showed
at the month's end. Outages, maintenance time and chart data are read from the
same ledger segments the engine reads.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, Mapping, Sequence

from agent import sli, sources
from agent.catalogue import KpiDefinition
from agent.config import Config
from agent.export.rows import Charts, Distribution, GaugeChart, Outage, Timeline
from agent.kpi import KpiEngine
from agent.kpi_types import KpiResult, LedgerReader, Maintenance, Plan
from agent.periods import Period

# Charts are drawn at most this many stretches wide: a month of 5 s polls of a flapping link
# is tens of thousands of segments, far more than a page can show.
CHART_BUCKETS = 600


def series_label(name: str) -> str:
    """``link:egress-ct:up`` -> ``egress-ct`` (any thing's state series); other series names as they are."""
    parts = name.split(":")
    if len(parts) == 3 and parts[2] == "up":
        return parts[1]
    for spec in sources.sources():
        label = spec.series_label(name) if spec.series_label is not None else None
        if label is not None:
            return label
    return name


class LedgerMeasurements:
    """The report's view of the configured KPIs, as of ``now``."""

    def __init__(self, config: Config, ledger: LedgerReader, now: float):
        self._config = config
        self._ledger = ledger
        self._zone = config.agent.zone
        self._now = now
        self._engine = KpiEngine(config, ledger)
        self._plans: dict[str, Plan] = {p.definition.id: p for p in self._engine.plans}
        self._results: dict[tuple[float, float], dict[str, KpiResult]] = {}

    def definitions(self) -> Sequence[KpiDefinition]:
        return [p.definition for p in self._engine.plans]

    def results(self, period: Period) -> Mapping[str, KpiResult]:
        key = (period.start, period.end)
        if key not in self._results:
            self._results[key] = {r.definition.id: r for r in self._engine.evaluate_period(period, self._now)}
        return self._results[key]

    def _end(self, period: Period) -> float:
        return min(self._now, period.end)

    def _maintenance(self, plan: Plan, period: Period) -> Maintenance:
        return self._engine.maintenance(plan, period.start, self._end(period))

    def maintenance_seconds(self, kpi: str, period: Period) -> float:
        """Wall-clock time in ``period`` during which maintenance excluded ``kpi``'s time, of at least one
        of its links (not multiplied by links)."""
        plan = self._plans.get(kpi)
        return 0.0 if plan is None else sli.length(self._maintenance(plan, period))

    def outages(self, kpi: str, period: Period) -> list[Outage]:
        """Each input series' stretches of "down", merged when they touch, with their down time outside maintenance.

        An outage that only falls in maintenance is not counted; one that runs across the
        period's boundary counts in both periods, each with its own part.
        """
        plan = self._plans.get(kpi)
        if plan is None:
            return []
        return plan_outages(plan, self._ledger, period.start, self._end(period), self._maintenance(plan, period))

    # --- charts ------------------------------------------------------------------------------

    def charts(self, period: Period) -> Charts:
        """Data for the HTML report's charts over ``period``."""
        end = self._end(period)

        def state_spans(plan: Plan) -> Iterator[tuple[str, list[tuple[float, float, str]]]]:
            return plan_state_spans(plan, self._ledger, period.start, end, self._maintenance(plan, period))

        def bars(plan: Plan, result: KpiResult | None) -> list[tuple[float, float, int]]:
            kind = sources.kind(plan.definition.kind)
            assert kind.histogram is not None
            return kind.histogram(plan, self._ledger, period.start, end)

        return build_charts(self._engine.plans, period, end, self.results(period), state_spans=state_spans,
                            gauge_segments=lambda plan: self._ledger.segments(plan.series(), period.start, end),
                            histogram_bars=bars)


def plan_outages(plan: Plan, reader: LedgerReader, start: float, end: float, maintenance: Maintenance) -> list[Outage]:
    """Each of ``plan``'s series' stretches of "down" in ``[start, end)``, with their down time outside maintenance."""
    segments = reader.segments(plan.series(), start, end)
    found: list[Outage] = []
    for name in plan.series():
        down = sli.merge((s, e) for s, e, v in segments.get(name, []) if v is not None and not sli.is_up(v))
        for begin, stop in down:
            seconds = sli.length(sli.subtract(begin, stop, maintenance.of(name)))
            if seconds > 0:
                found.append(Outage(series_label(name), begin, stop, seconds))
    return sorted(found, key=lambda o: (o.start, o.series))


def plan_state_spans(plan: Plan, reader: LedgerReader, start: float, end: float,
                     maintenance: Maintenance) -> Iterator[tuple[str, list[tuple[float, float, str]]]]:
    """Each of ``plan``'s series as stretches of up / down / unknown / maintenance, for the timeline charts."""
    segments = reader.segments(plan.series(), start, end)
    for name in plan.series():
        yield series_label(name), _states(segments.get(name, []), start, end, maintenance.of(name))


StateSpans = Callable[[Plan], Iterable[tuple[str, Sequence[tuple[float, float, str]]]]]
GaugeSegments = Callable[[Plan], Mapping[str, Sequence[sli.Segment]]]
HistogramBars = Callable[[Plan, "KpiResult | None"], "Sequence[tuple[float, float, int]] | None"]


def build_charts(plans: Sequence[Plan], period: Period, end: float, results: Mapping[str, KpiResult], *,
                 state_spans: StateSpans, gauge_segments: GaugeSegments, histogram_bars: HistogramBars) -> Charts:
    """The charts of every KPI by its kind's traits, from whichever source (ledger or store) gives the data.

    ``state_spans``: a states KPI's (label, stretches) per input; ``gauge_segments``: a gauge KPI's
    segments per series; ``histogram_bars``: a histogram KPI's bars, or None to draw none.
    """
    timelines: list[Timeline] = []
    gauges: list[GaugeChart] = []
    distributions: list[Distribution] = []
    for plan in plans:
        definition = plan.definition
        kind = sources.kind(definition.kind)
        if kind.states:
            for label, spans in state_spans(plan):
                timelines.append(Timeline(definition.id, definition.name_zh, label,
                                          tuple(_bucket_states(spans, period.start, period.end))))
        elif kind.gauge:
            segments = gauge_segments(plan)
            summed = sli.sum_series([segments.get(n, []) for n in plan.series()], period.start, end)
            gauges.append(GaugeChart(definition.id, definition.name_zh + (f"（{definition.name_en}）"),
                                     definition.unit, definition.target_text, plan.target.value,
                                     tuple(_bucket_minimum(summed, period.start, period.end))))
        elif kind.histogram is not None:
            result = results.get(definition.id)
            bars = histogram_bars(plan, result)
            if bars is None:
                continue
            details = result.details if result else {}
            # The percentiles and mean in seconds (p50_seconds, ...), named p50, mean, ...
            markers = tuple((k.removesuffix("_seconds"), v) for k, v in details.items() if k.endswith("_seconds"))
            distributions.append(Distribution(definition.id, definition.name_zh, tuple(bars), plan.target.value,
                                              markers, result.compliance if result else None))
    return Charts(tuple(timelines), tuple(gauges), tuple(distributions))


def _states(segments: Sequence[sli.Segment], start: float, end: float, mask: Sequence[sli.Span]) -> list[tuple[float, float, str]]:
    """``[start, end)`` as stretches of up / down / unknown / maintenance (maintenance wins)."""
    spans: list[tuple[float, float, str]] = []
    cursor = start
    for seg_start, seg_end, value in sli.clip(segments, start, end):
        if seg_start > cursor:
            spans.append((cursor, seg_start, "unknown"))
        state = "unknown" if value is None else ("up" if sli.is_up(value) else "down")
        spans.append((seg_start, seg_end, state))
        cursor = max(cursor, seg_end)
    if cursor < end:
        spans.append((cursor, end, "unknown"))
    out: list[tuple[float, float, str]] = []
    for s, e, state in spans:
        for piece_start, piece_end in sli.subtract(s, e, mask):
            out.append((piece_start, piece_end, state))
    out.extend((s, e, "maintenance") for s, e in mask)
    return sorted(out)


def _bucket_states(spans: Sequence[tuple[float, float, str]], start: float, end: float) -> list[tuple[float, float, str]]:
    """At most CHART_BUCKETS buckets wide, each drawn in proportion to its states; runs are merged.

    A bucket (a month's is 74 minutes) is split into one piece per state it holds, as long as the
    state's time in it, in the order the states first occur. So a few seconds without data are a
    few seconds of grey, not a grey bucket, and a short outage is still there (the SVG gives
    "down" a minimum width). A bucket after "now" in a running period has nothing to draw.
    """
    if end <= start:
        return []
    width = (end - start) / CHART_BUCKETS
    shares: list[dict[str, float]] = [{} for _ in range(CHART_BUCKETS)]  # state -> seconds, first seen first
    for s, e, state in sorted(spans):
        first = max(0, int((s - start) / width))
        last = min(CHART_BUCKETS - 1, int((e - start - 1e-9) / width))
        for i in range(first, last + 1):
            seconds = min(e, start + (i + 1) * width) - max(s, start + i * width)
            if seconds > 0:
                shares[i][state] = shares[i].get(state, 0.0) + seconds
    out: list[tuple[float, float, str]] = []
    for i, bucket in enumerate(shares):
        a = start + i * width
        for state, seconds in bucket.items():
            b = a + seconds
            if out and out[-1][2] == state and abs(out[-1][1] - a) < 1e-6:
                out[-1] = (out[-1][0], b, state)
            else:
                out.append((a, b, state))
            a = b
    return out


def _bucket_minimum(segments: Sequence[sli.Segment], start: float, end: float) -> list[tuple[float, float, float | None]]:
    """The summed gauge at most CHART_BUCKETS wide, each bucket at its minimum (a dip must stay visible)."""
    if len(segments) <= CHART_BUCKETS or end <= start:
        return list(segments)
    width = (end - start) / CHART_BUCKETS
    low: list[float | None] = [None] * CHART_BUCKETS
    seen = [False] * CHART_BUCKETS
    for s, e, value in segments:
        first = max(0, int((s - start) / width))
        last = min(CHART_BUCKETS - 1, int((e - start - 1e-9) / width))
        for i in range(first, last + 1):
            seen[i] = True
            if value is not None:
                current = low[i]
                low[i] = value if current is None else min(current, value)
    return [(start + i * width, start + (i + 1) * width, low[i]) for i in range(CHART_BUCKETS) if seen[i]]
