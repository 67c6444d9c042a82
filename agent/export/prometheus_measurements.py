"""Measured figures for the report, read from a Prometheus-API store instead of the ledger.

The same interface as agent/export/measure.py's ``LedgerMeasurements``, so the
report model and the writers are the same. What each figure is:

* link availability: exact, from ``sla_link_state_seconds_total`` (agent/export/prometheus_measure.py);
  time no agent measured a link is unknown, as in the ledger;
* SMS counts (delivery rate, send speed's share within the bound, annual volume): exact
  counter growth, but a message counts when the agent *read* it (the final status for
  delivered / failed / expired, the submit record for submitted), where the ledger
  counts it in the month it was submitted;
* capacity (bandwidth, cloud): gauges, evaluated by the store every scrape interval and
  summarised like the ledger's segments: sampled at that step.

Maintenance time (the export's column) comes from the config's windows, as for the ledger.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Iterator, Mapping, Sequence

from agent import kpi, series, sli, sources
from collectors.cloud.series import cloud as cloud_series
from agent.catalogue import KpiDefinition
from agent.config import Config
from agent.export import format as fmt
from agent.export import prometheus_measure as pm
from agent.export.measure import build_charts
from agent.export.prometheus_source import Labels, Points, PrometheusApi, label, regex_of, without
from agent.export.rows import Charts, Outage, Report
from agent.kpi_types import KpiResult, Maintenance, Plan, SegmentSums
from agent.periods import Period
from agent.sli import Segment
from collectors.sms.kpi import annual_result, delivery_result, year_start_of

STATE_METRIC = "sla_link_state_seconds_total"
SUBMITTED, DELIVERED, FAILED, EXPIRED = (f"sla_sms_{n}_total" for n in ("submitted", "delivered", "failed", "expired"))
LATENCY = "sla_sms_send_latency_seconds"
SMS_METRICS = (SUBMITTED, DELIVERED, FAILED, EXPIRED, LATENCY + "_bucket", LATENCY + "_count", LATENCY + "_sum")
CLOUD_METRICS = {"vcpu": "sla_cloud_vcpu_capacity", "memory": "sla_cloud_memory_capacity_bytes",
                 "storage": "sla_cloud_storage_capacity_bytes"}
# Samples read beyond each edge of a window, for the steps that straddle it.
EDGE = 3600.0
# An SMS series first seen inside a window is new (counted from 0) unless it had a value this
# long before: then the agent was only down over the edge, and its lifetime totals went on.
SMS_LOOKBACK = 35 * 86400.0
DEFAULT_STEP = 15.0  # the scrape interval the README asks for, when the store shows none


class _Segments(SegmentSums):
    """A LedgerReader over segments built from the store, for the ledger's own gauge evaluator."""

    def __init__(self, segments: Mapping[str, list[Segment]]):
        self._segments = segments

    def segments(self, names: Sequence[str], start: float, end: float) -> Mapping[str, Sequence[Segment]]:
        return {n: sli.clip(self._segments.get(n, []), start, end) for n in names}


class _NoLedger(SegmentSums):
    def segments(self, names: Sequence[str], start: float, end: float) -> Mapping[str, Sequence[Segment]]:
        raise AssertionError("the store-based export reads no ledger")


@dataclasses.dataclass(frozen=True, slots=True)
class _Sms:
    """One window's SMS counter growth, summed over the KPI's gateways, and the feed time it covers."""

    grown: dict[str, float]
    covered: dict[str, list[sli.Span]]  # gateway -> spans with samples

    def count(self, metric: str) -> float:
        return float(round(self.grown.get(metric + "|", 0.0)))  # whole messages: edges are interpolated

    def cumulative(self) -> dict[float, float]:
        prefix = LATENCY + "_bucket|"
        return {float(k[len(prefix):]): v for k, v in self.grown.items() if k.startswith(prefix)}


class PrometheusMeasurements:
    """The report's view of the configured KPIs from ``api``, as of ``now``."""

    def __init__(self, config: Config, api: PrometheusApi, now: float):
        self._config = config
        self._api = api
        self._now = now
        self._engine = kpi.KpiEngine(config, _NoLedger())  # maintenance comes from the config alone
        self._plans: dict[str, Plan] = {p.definition.id: p for p in self._engine.plans}
        self._links = {g.name: [link.name for link in g.links] for g in config.link_groups}
        self._results: dict[tuple[float, float], dict[str, KpiResult]] = {}
        self._link_cache: dict[tuple[str, float, float], dict[str, list[pm.Step]]] = {}
        self._sms_cache: dict[tuple[tuple[str, ...], tuple[str, ...], float, float], _Sms] = {}
        self._gauge_cache: dict[tuple[str, float, float], dict[str, list[Segment]]] = {}
        self.steps: dict[str, float] = {}  # gauge KPI -> the step it was sampled at (for its note)

    def definitions(self) -> Sequence[KpiDefinition]:
        return [p.definition for p in self._engine.plans]

    def _end(self, period: Period) -> float:
        return min(self._now, period.end)

    def _maintenance(self, plan: Plan, period: Period) -> Maintenance:
        return self._engine.maintenance(plan, period.start, self._end(period))

    def maintenance_seconds(self, kpi_id: str, period: Period) -> float:
        plan = self._plans.get(kpi_id)
        return 0.0 if plan is None else sli.length(self._maintenance(plan, period))

    # --- reading the store ---------------------------------------------------------------------

    def _read_until(self, end: float) -> float:
        return min(self._now, end + EDGE)

    def link_steps(self, group: str, start: float, end: float) -> dict[str, list[pm.Step]]:
        """Each configured link of ``group``: its state steps in ``[start, end]`` (all runs and shards)."""
        key = (group, start, end)
        if key not in self._link_cache:
            raw = self._api.raw(f'{STATE_METRIC}{{group="{group}"}}', start - EDGE, self._read_until(end))
            runs: dict[Labels, list[tuple[str, Points]]] = {}
            for labels, points in raw.items():
                state = label(labels, "state")
                if state in pm.STATES:
                    runs.setdefault(without(labels, "state", "__name__"), []).append((state, points))
            wanted = set(self._links.get(group, ()))
            out: dict[str, list[pm.Step]] = {}
            for labels, states in runs.items():
                link = label(labels, "link")
                if link in wanted:
                    steps = pm.link_steps(pm.joint_samples(states))
                    out.setdefault(link, []).extend(pm.clip(steps, start, end))
            self._link_cache[key] = out
        return self._link_cache[key]

    def _sms(self, gateways: tuple[str, ...], metrics: tuple[str, ...], start: float, end: float) -> _Sms:
        key = (gateways, metrics, start, end)
        if key in self._sms_cache:
            return self._sms_cache[key]
        where = f'gateway=~"{regex_of(gateways)}"'
        raw = self._api.raw(f'{{__name__=~"{regex_of(metrics)}",{where}}}', start - EDGE, self._read_until(end))
        # One stream per gateway, whatever instance or shard exposed it: a gateway is read by one
        # agent at a time, and its counters are the ledger's lifetime totals, so an agent moved to
        # another address goes on from its old values and one with a new ledger goes back (a reset).
        streams: dict[str, list[tuple[str, Points]]] = {}
        for labels, points in raw.items():
            counter = f"{label(labels, '__name__')}|{label(labels, 'le') or ''}"
            streams.setdefault(label(labels, "gateway") or "", []).append((counter, points))
        late = {g for g, parts in streams.items() if min((p[0][0] for _, p in parts if p), default=end) > start}
        baselines = self._baselines(metrics, where, start) if late else {}
        grown: dict[str, float] = {}
        covered: dict[str, list[sli.Span]] = {}
        for gateway, parts in streams.items():
            samples = pm.joint_samples(parts)
            baseline = baselines.get(gateway) if gateway in late else None
            if baseline:
                # Known before the window: the agent was down over its start and caught up from the
                # feed after, so what it read then counts in the window, from the old totals.
                samples = [(start, baseline), *samples]
            steps = pm.clip(pm.counter_steps(samples, from_zero=gateway in late and not baseline), start, end)
            for counter, value in pm.total(steps).items():
                grown[counter] = grown.get(counter, 0.0) + value
            covered[gateway] = pm.covered(steps)
        result = _Sms(grown, covered)
        self._sms_cache[key] = result
        return result

    def _baselines(self, metrics: tuple[str, ...], where: str, start: float) -> dict[str, dict[str, float]]:
        """Each gateway's SMS counters as last seen in the SMS_LOOKBACK before ``start`` (one query per metric)."""
        out: dict[str, dict[str, float]] = {}
        for metric in metrics:
            by = "gateway, le" if metric.endswith("_bucket") else "gateway"
            expr = f"max by ({by}) (last_over_time({metric}{{{where}}}[{int(SMS_LOOKBACK)}s]))"
            for labels, value in self._api.instant(expr, start).items():
                counter = f"{metric}|{label(labels, 'le') or ''}"
                out.setdefault(label(labels, "gateway") or "", {})[counter] = value
        return out

    def _interval(self, selector: str, end: float) -> float:
        """The store's scrape interval for ``selector``, from its samples in the hour before ``end``."""
        raw = self._api.raw(selector, end - EDGE, end)
        return pm.scrape_interval(([t for t, _ in points] for points in raw.values()), DEFAULT_STEP)

    def gauge_segments(self, plan: Plan, start: float, end: float) -> dict[str, list[Segment]]:
        """A capacity KPI's inputs as segments (ledger series names), sampled at the scrape interval."""
        key = (plan.definition.id, start, end)
        if key in self._gauge_cache:
            return self._gauge_cache[key]
        name_of: Callable[[Labels], str]
        if plan.definition.source == "link_group":
            where = f'{{group="{plan.group}"}}'
            probe = f"sla_link_up{where}"
            expr = f"max by (link) (sla_link_capacity_bytes_per_second{where} * sla_link_up{where})"
            name_of = lambda labels: series.link_available(label(labels, "link") or "")  # noqa: E731
        else:
            resource = plan.definition.resource or ""
            clouds = tuple(sorted({name.split(":")[1] for name in plan.inputs}))
            probe = f'{CLOUD_METRICS[resource]}{{cloud=~"{regex_of(clouds)}"}}'
            expr = f"max by (cloud, region) ({probe})"
            name_of = lambda labels: cloud_series(label(labels, "cloud") or "", label(labels, "region") or "",  # noqa: E731
                                                  resource, "capacity")
        step = self.steps[plan.definition.id] = self._interval(probe, end)
        wanted = set(plan.inputs)
        out: dict[str, list[Segment]] = {}
        if end > start:
            for labels, points in self._api.query_range(expr, start, end, step).items():
                name = name_of(labels)
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
        end = self._end(period)
        kind = plan.definition.kind
        if not sources.serving(plan.definition.source).from_store:
            return None  # the row says so ("no result"); the ledger-based export has the figure
        if kind == "availability":
            steps = self.link_steps(plan.group or "", period.start, end)
            totals = sli.Totals()
            for link in self._links.get(plan.group or "", ()):
                totals = totals + pm.link_totals(steps.get(link, []), period.start, end)
            value = sli.availability(totals)
            return KpiResult(definition=plan.definition, target=plan.target, period=period, until=end,
                             value=value, met=None if value is None else plan.target.met_by(value),
                             coverage=totals.coverage, min_coverage=plan.config.min_coverage, totals=totals)
        if kind == "capacity_sum":
            reader = _Segments(self.gauge_segments(plan, period.start, end))
            return kpi.evaluate(plan, reader, period, end, self._maintenance(plan, period))
        gateways = tuple(name.split(":")[1] for name in plan.inputs if name.startswith("sms:"))
        if kind not in ("delivery_rate", "latency_within", "annual_volume") or not gateways:
            return None
        sms = self._sms(gateways, SMS_METRICS, period.start, end)
        maintenance = self._maintenance(plan, period)
        if kind == "annual_volume":
            year_start = year_start_of(plan, period)
            ytd = self._sms(gateways, (SUBMITTED,), year_start, end) if year_start < period.start else sms
            coverage = _coverage(ytd, gateways, year_start, end, maintenance)
            return annual_result(plan, period, end, ytd.count(SUBMITTED), sms.count(SUBMITTED), coverage)
        coverage = _coverage(sms, gateways, period.start, end, maintenance)
        pending = sum(self._api.instant(f'sum(sla_sms_pending{{gateway=~"{regex_of(gateways)}"}})', end).values())
        if kind == "delivery_rate":
            counts = {"submitted": sms.count(SUBMITTED), "delivered": sms.count(DELIVERED),
                      "failed": sms.count(FAILED), "expired": sms.count(EXPIRED), "pending": pending}
            counts["final"] = counts["delivered"] + counts["failed"] + counts["expired"]
            return delivery_result(plan, period, end, counts, coverage)
        return latency_result(plan, period, end, sms.cumulative(), sms.grown.get(LATENCY + "_sum|", 0.0),
                              pending, coverage)

    def outages(self, kpi_id: str, period: Period) -> list[Outage]:
        """Each link's runs of scrape intervals in which "down" grew (times approximate, seconds exact)."""
        plan = self._plans.get(kpi_id)
        if plan is None or not sources.kind(plan.definition.kind).states:
            return []
        end = self._end(period)
        steps = self.link_steps(plan.group or "", period.start, end)
        found = [Outage(link, max(period.start, a), min(end, b), seconds)
                 for link in self._links.get(plan.group or "", ())
                 for a, b, seconds in pm.outages(steps.get(link, [])) if seconds > 0]
        return sorted(found, key=lambda o: (o.start, o.series))

    def charts(self, period: Period) -> Charts:
        """The HTML report's charts, drawn from the same steps and samples as the figures."""
        end = self._end(period)

        def state_spans(plan: Plan) -> Iterator[tuple[str, list[tuple[float, float, str]]]]:
            steps = self.link_steps(plan.group or "", period.start, end)
            for link in self._links.get(plan.group or "", ()):
                yield link, pm.state_spans(steps.get(link, []), period.start, end)

        def bars(plan: Plan, result: KpiResult | None) -> list[tuple[float, float, int]] | None:
            if result is None:
                return None
            gateways = tuple(name.split(":")[1] for name in plan.inputs if name.startswith("sms:"))
            return histogram_bars(self._sms(gateways, SMS_METRICS, period.start, end).cumulative())

        return build_charts(self._engine.plans, period, end, self.results(period), state_spans=state_spans,
                            gauge_segments=lambda plan: self.gauge_segments(plan, period.start, end),
                            histogram_bars=bars)

    def annotate(self, report: Report) -> Report:
        """The report with each measured row's note saying how the store's figure was made, and the store named."""
        rows = []
        for row in report.rows:
            plan = self._plans.get(row.kpi or "")
            extra = source_note(plan.definition.kind, self.steps.get(plan.definition.id), report.lang) if plan else ""
            if row.source == "measured" and extra:
                joined = f"{row.note}{'；' if report.lang == 'zh' else '; '}{extra}" if row.note else extra
                row = dataclasses.replace(row, note=joined)
            rows.append(row)
        return dataclasses.replace(report, rows=tuple(rows), store_url=self._api.url)


def _coverage(sms: _Sms, gateways: Sequence[str], start: float, end: float, maintenance: Sequence[sli.Span]) -> float:
    """Gateway-time with samples / the window's (maintenance excluded); a gap inside is caught up from the feed."""
    totals = sli.Totals()
    for gateway in gateways:
        spans = sms.covered.get(gateway, [])
        known = [(spans[0][0], spans[-1][1], 1.0)] if spans else []
        totals = totals + sli.classify(known, start, end, maintenance, sli.is_up)
    return totals.coverage


def latency_result(plan: Plan, period: Period, end: float, cumulative: Mapping[float, float], latency_sum: float,
                   pending: float, coverage: float) -> KpiResult:
    """Send speed from the histogram's buckets: the share within the bound exactly (10 s is an edge), the
    percentile as its bucket's upper edge (buckets double, so the true value is above half of it)."""
    objective = plan.definition.objective if plan.definition.objective is not None else 0.95
    within = pm.share_within(cumulative, plan.target.value)
    delivered = float(round(cumulative.get(math.inf, 0.0)))
    details: dict[str, float] = {"delivered": delivered, "pending": pending, "percentile_accuracy": 1.0}
    for name, q in (("p50_seconds", 0.50), ("p95_seconds", 0.95), ("p99_seconds", 0.99)):
        edge = pm.percentile_edge(cumulative, q)
        if edge is not None:
            details[name] = edge
    if delivered:
        details["within_target"] = round((within or 0.0) * delivered)
        details["mean_seconds"] = latency_sum / cumulative[math.inf]
    return KpiResult(
        definition=plan.definition, target=plan.target, period=period, until=end,
        value=pm.percentile_edge(cumulative, objective), met=None if within is None else within >= objective,
        coverage=coverage, min_coverage=plan.config.min_coverage, compliance=within, details=details,
    )


def histogram_bars(cumulative: Mapping[float, float]) -> list[tuple[float, float, int]]:
    """The buckets as chart bars; the first starts at half its edge and +Inf is one more doubling (log axis)."""
    bars = []
    for lower, upper, count in pm.buckets(cumulative):
        if not math.isfinite(upper):
            lower, upper = lower, lower * 2
        elif lower <= 0:
            lower = upper / 2
        bars.append((lower, upper, int(round(count))))
    while bars and bars[-1][2] == 0:
        bars.pop()
    while bars and bars[0][2] == 0:
        bars.pop(0)
    return bars


def source_note(kind: str, step: float | None, lang: str) -> str:
    """What the 说明 column adds for a figure from the store."""
    zh = lang == "zh"
    if kind == "availability":
        return ("来源 Prometheus：链路状态秒数计数器精确累计，中断起止时间按采集间隔近似" if zh else
                "from the store: exact link-state counters; outage times approximate to the scrape interval")
    if kind == "capacity_sum":
        every = fmt.number(step or DEFAULT_STEP, 3)
        return (f"来源 Prometheus：按采集间隔 {every} 秒采样" if zh else
                f"from the store: sampled every {every} s (the scrape interval)")
    if kind == "delivery_rate":
        return ("来源 Prometheus：按代理读取到最终状态的时间计入（台账按提交时间计入）" if zh else
                "from the store: counted when the agent read the final status (the ledger: by submit time)")
    if kind == "annual_volume":
        return ("来源 Prometheus：按代理读取到提交记录的时间计入" if zh else
                "from the store: counted when the agent read the submit record")
    if kind == "latency_within":
        return ("来源 Prometheus：达标内占比精确；分位时延取直方图桶上界（桶宽逐级加倍）" if zh else
                "from the store: share within the bound exact; percentiles are histogram bucket upper edges "
                "(buckets double)")
    return ""
