"""The SMS source in the store-based export: the gateways' counters and latency histogram.

SMS counts (delivery rate, send speed's share within the bound, annual volume)
are exact counter growth, but a message counts when the agent *read* it (the
final status for delivered / failed / expired, the submit record for
submitted), where the ledger counts it in the month it was submitted.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Mapping, Sequence

from agent import sli
from agent.export import prometheus_measure as pm
from agent.export.prometheus_source import Points, label, regex_of
from agent.export.store_view import EDGE, StoreView
from agent.kpi_types import KpiResult, Plan
from agent.periods import Period
from collectors.sms.kpi import annual_result, delivery_result, year_start_of

SUBMITTED, DELIVERED, FAILED, EXPIRED = (f"sla_sms_{n}_total" for n in ("submitted", "delivered", "failed", "expired"))
LATENCY = "sla_sms_send_latency_seconds"
SMS_METRICS = (SUBMITTED, DELIVERED, FAILED, EXPIRED, LATENCY + "_bucket", LATENCY + "_count", LATENCY + "_sum")
# An SMS series first seen inside a window is new (counted from 0) unless it had a value this
# long before: then the agent was only down over the edge, and its lifetime totals went on.
SMS_LOOKBACK = 35 * 86400.0


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


def _gateways(plan: Plan) -> tuple[str, ...]:
    return tuple(name.split(":")[1] for name in plan.inputs if name.startswith("sms:"))


class SmsStore:
    def __init__(self, view: StoreView):
        self._view = view
        self._api = view.api
        self._sms_cache: dict[tuple[tuple[str, ...], tuple[str, ...], float, float], _Sms] = {}

    def _read_until(self, end: float) -> float:
        return self._view.read_until(end)

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

    def evaluate(self, plan: Plan, period: Period) -> KpiResult | None:
        kind = plan.definition.kind
        gateways = _gateways(plan)
        if kind not in ("delivery_rate", "latency_within", "annual_volume") or not gateways:
            return None
        end = self._view.end(period)
        sms = self._sms(gateways, SMS_METRICS, period.start, end)
        maintenance = self._view.maintenance(plan, period)
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

    def histogram_bars(self, plan: Plan, period: Period, result: KpiResult | None) -> list[tuple[float, float, int]] | None:
        if result is None:
            return None
        return histogram_bars(self._sms(_gateways(plan), SMS_METRICS, period.start, self._view.end(period)).cumulative())

    def note(self, kind: str, step: float | None, lang: str) -> str:
        zh = lang == "zh"
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
