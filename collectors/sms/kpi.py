"""The SMS KPIs: delivery rate, send speed and annual volume, from the SMS collector's aggregates.

Messages are attributed to periods by their *submit* time in the configured
time zone: a delivery report that arrives after the month ended still counts
for the month the message was sent in, so a closed month's figures can still
move while late reports arrive (within the grace period, 72 h by default).

Coverage is the share of the period (global maintenance excluded) for which
each gateway's feed is known to have been read without a gap (the SMS store's
``sms_covered`` record, collectors/sms/coverage.py), summed over gateways. It is
not the agent's uptime: an outage of the agent or the gateway is covered once
the feed has been read up from its cursor over it; only a cursor reset, or time
before the agent's first read (``backfill``), leaves a gap. The period is
submit time and the covered spans feed time, which are the same axis for a
message's submit record (it enters the feed when the gateway accepts it).
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from dataclasses import fields
from datetime import datetime
from typing import Any, Callable, Sequence, TypeVar
from zoneinfo import ZoneInfo

from agent import periods, sli
from collectors.sms import series
from agent.catalogue import KpiDefinition
from agent.config_sections import selected
from agent.kpi_types import KpiResult, LedgerReader, Plan
from collectors.sms import coverage_table, latency, store

# The SMS kinds need the calendar year in the configured zone, which the
# evaluator signature does not carry; the source puts it among the plan's
# inputs as "tz:<zone>" (it is not a ledger series, so it is never read as one).
ZONE_INPUT = "tz:"
T = TypeVar("T")


def sms_inputs(definition: KpiDefinition, kpi: Any, config: Any) -> tuple[str, ...]:
    """The configured gateways (or those the KPI names) by their feed series, plus the zone.

    The series name the gateways; the KPIs read the SMS store's tables, not the series.
    """
    names = tuple(series.sms_feed(gateway.name) for gateway in selected(config.sms, kpi.gateways))
    if not names:  # nothing to count (a shard that owns none of the gateways)
        return ()
    return names + (ZONE_INPUT + config.agent.timezone,)


def _feeds(kpi: Plan) -> list[str]:
    return [name for name in kpi.inputs if not name.startswith(ZONE_INPUT)]


def _gateways(kpi: Plan) -> list[str]:
    # "sms:<gateway>:feed" -> gateway (names cannot contain ':')
    return [name.split(":")[1] for name in _feeds(kpi)]


def _zone(kpi: Plan) -> ZoneInfo:
    return ZoneInfo(next((i[len(ZONE_INPUT):] for i in kpi.inputs if i.startswith(ZONE_INPUT)), "UTC"))


def _read(ledger: LedgerReader, work: Callable[[sqlite3.Connection], T], default: T,
          combine: Callable[[list[T]], T]) -> T:
    read_each: Callable[..., list[T]] | None = getattr(ledger, "read_each", None)
    if read_each is not None:  # several shards' ledgers (agent.ledger_merge): their records add up
        return combine(read_each(work))
    read: Callable[..., T] | None = getattr(ledger, "read", None)
    return default if read is None else read(work)  # a reader without the SMS tables (tests of other kinds)


def _all_spans(found: list[dict[str, list[tuple[float, float]]]]) -> dict[str, list[tuple[float, float]]]:
    spans: dict[str, list[tuple[float, float]]] = {}
    for each in found:
        for gateway, covered in each.items():
            spans.setdefault(gateway, []).extend(covered)
    return {gateway: sli.merge(covered) for gateway, covered in spans.items()}


def _total(found: list[store.Summary]) -> store.Summary:
    bins: Counter[int] = Counter()
    for each in found:
        bins.update(each.bins)
    counts = {f.name: sum(getattr(each, f.name) for each in found) for f in fields(store.Summary) if f.name != "bins"}
    return store.Summary(**counts, bins=dict(bins))


def _coverage(kpi: Plan, ledger: LedgerReader, start: float, end: float, maintenance: Sequence[sli.Span]) -> float:
    gateways = _gateways(kpi)
    none: dict[str, list[tuple[float, float]]] = {}
    spans = _read(ledger, lambda db: coverage_table.covered(db, gateways, start, end), none, _all_spans)
    totals = sli.Totals()
    for gateway in gateways:  # gateway-time: each gateway's feed counts for its share
        known = [(s, e, 1.0) for s, e in spans.get(gateway, [])]
        totals = totals + sli.classify(known, start, end, maintenance, sli.is_up)
    return totals.coverage


def _summary(kpi: Plan, ledger: LedgerReader, start: float, end: float, with_bins: bool) -> store.Summary:
    gateways = _gateways(kpi)
    return _read(ledger, lambda db: store.summary(db, gateways, start, end, with_bins), store.Summary(), _total)


def latency_bars(kpi: Plan, ledger: LedgerReader, start: float, end: float) -> list[tuple[float, float, int]]:
    """The report's histogram of messages submitted in ``[start, end)``: bars in seconds, the bound on an edge."""
    from collectors.sms.latency_bars import bars  # the export only

    return bars(latency_bins(kpi, ledger, start, end), kpi.target.value)


def latency_bins(kpi: Plan, ledger: LedgerReader, start: float, end: float) -> dict[int, int]:
    """The stored latency histogram (collectors/sms/latency.py bins) of messages submitted in ``[start, end)``."""
    return dict(_summary(kpi, ledger, start, end, with_bins=True).bins)


def _counts(summary: store.Summary) -> dict[str, float]:
    return {
        "submitted": summary.submitted, "delivered": summary.delivered, "failed": summary.failed,
        "expired": summary.expired, "pending": summary.pending,
        "final": summary.delivered + summary.failed + summary.expired,
    }


def delivery_rate(kpi: Plan, ledger: LedgerReader, period: periods.Period, end: float,
                  maintenance: Sequence[sli.Span]) -> KpiResult:
    """delivered / (delivered + failed + expired) over final messages submitted in the period."""
    summary = _summary(kpi, ledger, period.start, end, with_bins=False)
    return delivery_result(kpi, period, end, _counts(summary), _coverage(kpi, ledger, period.start, end, maintenance))


def delivery_result(kpi: Plan, period: periods.Period, end: float, counts: dict[str, float],
                    coverage: float) -> KpiResult:
    """The delivery-rate figure from message counts (``_counts``' keys), whatever counted them."""
    final = counts["final"]
    value = counts["delivered"] / final if final else None
    return KpiResult(
        definition=kpi.definition, target=kpi.target, period=period, until=end,
        value=value, met=None if value is None else kpi.target.met_by(value),
        coverage=coverage, min_coverage=kpi.config.min_coverage, details=counts,
    )


def latency_within(kpi: Plan, ledger: LedgerReader, period: periods.Period, end: float,
                   maintenance: Sequence[sli.Span]) -> KpiResult:
    """Share of delivered messages within the bound (compliance) and the objective's percentile (value)."""
    summary = _summary(kpi, ledger, period.start, end, with_bins=True)
    bins = summary.bins
    objective = kpi.definition.objective if kpi.definition.objective is not None else 0.95
    within = latency.share_within(bins, kpi.target.value)
    value = latency.percentile(bins, objective)
    details: dict[str, float] = {"delivered": summary.delivered, "pending": summary.pending,
                                 "percentile_accuracy": latency.PERCENTILE_ACCURACY}
    for name, q in (("p50_seconds", 0.50), ("p95_seconds", 0.95), ("p99_seconds", 0.99)):
        found = latency.percentile(bins, q)
        if found is not None:
            details[name] = found
    counted = latency.total(bins)
    if counted:
        details["within_target"] = round((within or 0.0) * counted)
        details["mean_seconds"] = summary.latency_ms / 1000.0 / counted
    return KpiResult(
        definition=kpi.definition, target=kpi.target, period=period, until=end,
        value=value, met=None if within is None else within >= objective,
        coverage=_coverage(kpi, ledger, period.start, end, maintenance), min_coverage=kpi.config.min_coverage,
        compliance=within, details=details,
    )


def annual_volume(kpi: Plan, ledger: LedgerReader, period: periods.Period, end: float,
                  maintenance: Sequence[sli.Span]) -> KpiResult:
    """Messages submitted year to date, on pace when at least the target pro-rated by the year elapsed.

    The year is the calendar year (configured zone) of the period. Pro-rating
    is by time elapsed (days and their fractions): at the end of June 181/365
    of the target is due. Coverage is the feeds' over the year so far. The ``month`` detail
    counts the messages of the evaluated period itself (the month, on /metrics); evaluated
    over a year-to-date window it equals ``year_to_date``, so the export takes the report
    period's own count from the period's own evaluation.
    """
    year_start = year_start_of(kpi, period)
    ytd = _summary(kpi, ledger, year_start, end, with_bins=False).submitted
    month = _summary(kpi, ledger, period.start, end, with_bins=False).submitted
    coverage = _coverage(kpi, ledger, year_start, end, maintenance)
    return annual_result(kpi, period, end, ytd, month, coverage)


def year_start_of(kpi: Plan, period: periods.Period) -> float:
    """1 January of the period's calendar year in the configured zone."""
    zone = _zone(kpi)
    return datetime(datetime.fromtimestamp(period.start, zone).year, 1, 1, tzinfo=zone).timestamp()


def annual_result(kpi: Plan, period: periods.Period, end: float, ytd: float, month: float,
                  coverage: float) -> KpiResult:
    """The annual-volume figure from the year-to-date and the period's submitted counts, whatever counted them."""
    zone = _zone(kpi)
    year_start = year_start_of(kpi, period)
    year_end = datetime(datetime.fromtimestamp(year_start, zone).year + 1, 1, 1, tzinfo=zone).timestamp()
    elapsed = max(0.0, min(end, year_end) - year_start) / (year_end - year_start)
    details: dict[str, float] = {
        "year_to_date": ytd, "month": month, "year_elapsed_ratio": elapsed,
        "days_elapsed": max(0.0, min(end, year_end) - year_start) / 86400.0,
        "prorated_target": kpi.target.value * elapsed,
    }
    value: float | None = float(ytd)
    met: bool | None = None
    if ytd == 0 and coverage == 0:
        value = None  # never read: no figure, not a made-up zero
    elif elapsed > 0:
        projected = ytd / elapsed
        details["projected_year_end"] = projected
        met = kpi.target.met_by(projected) if math.isfinite(projected) else None
    return KpiResult(
        definition=kpi.definition, target=kpi.target, period=period, until=end,
        value=value, met=met, coverage=coverage, min_coverage=kpi.config.min_coverage, details=details,
    )

