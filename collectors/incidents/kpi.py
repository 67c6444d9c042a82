"""The incident KPIs: fault_handling_rate (resolved / raised) and network_fault_timeliness (resolved in time)."""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Callable, Mapping, Sequence

from agent import periods, sources
from agent.config import Config, KpiConfig
from agent.kpi_definition import KpiDefinition
from agent.kpi_types import KpiResult, LedgerReader, Maintenance, Plan
from agent.sources import Inputs
from collectors.incidents import incidents as inc
from collectors.incidents import series, store

# Read before the period too, so an incident already open when it began is seen as older (not raised in it).
LOOKBACK = 86400.0
DEFAULT_WITHIN = 4 * 3600.0  # network_fault_timeliness without `within:`
NETWORK = "network"


def incident_series(config: Config) -> list[tuple[str, str, str]]:
    """Every source's series whose down time is an incident: (series, category, what)."""
    return [entry for spec in sources.sources() if spec.incident_series is not None
            for entry in spec.incident_series(config)]


def incident_inputs(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> Inputs:
    return tuple(name for name, _, _ in incident_series(config))


def incident_parts(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> Mapping[str, tuple[str, ...]]:
    """The series by category; the evaluators read the categories from here."""
    parts: dict[str, list[str]] = {}
    for name, category, _ in incident_series(config):
        parts.setdefault(category, []).append(name)
    return {category: tuple(names) for category, names in parts.items()}


def _read(ledger: LedgerReader, work: Callable[[sqlite3.Connection], list[inc.Incident]]) -> list[inc.Incident]:
    read_each = getattr(ledger, "read_each", None)
    if read_each is not None:  # several shards' ledgers: the pushed incidents of each
        return [i for found in read_each(work) for i in found]
    read = getattr(ledger, "read", None)
    return [] if read is None else read(work)


def ever_down(names: Sequence[str], ledger: LedgerReader, start: float, end: float) -> set[str]:
    """The series that were down at some time in ``[start, end)``: only they can have incidents.

    A fleet's links are nearly all up all month; asking the ledger which ones were not spares
    reading every segment of the rest at each KPI evaluation (bench/bench_incidents.py).
    """
    if not names:
        return set()
    faults = [name for name in names if series.is_fault_series(name)]
    states = [name for name in names if not series.is_fault_series(name)]
    return (ledger.having(states, start, end, below=series.DOWN_AT) if states else set()) | \
        (ledger.having(faults, start, end, at_least=series.DOWN_AT) if faults else set())


def period_incidents(plan: Plan, ledger: LedgerReader, start: float, end: float,
                     maintenance: Maintenance) -> list[inc.Incident]:
    """The incidents of ``plan``'s series and the pushed ones that touch ``[start, end)``, sorted by start."""
    categories = {name: category for category, names in plan.parts.items() for name in names}
    segments = ledger.segments(sorted(ever_down(plan.inputs, ledger, start - LOOKBACK, end)), start - LOOKBACK, end)
    by_series = {name: maintenance.of(name) for name in segments}
    found = inc.from_ledger(segments, categories, by_series)
    found += _read(ledger, lambda db: store.load(db, start, end))
    return sorted(found, key=lambda i: (i.start, i.key))


def _coverage(plan: Plan, ledger: LedgerReader, period: periods.Period, end: float, maintenance: Maintenance) -> float:
    # Known time of the series (maintenance excluded), as for availability; with no series, only pushed
    # incidents count and there is nothing the agent could have missed.
    if not plan.inputs:
        return 1.0
    return sources.kind("availability").evaluate(dataclasses.replace(plan, parts={}), ledger, period, end,
                                                  maintenance).coverage


def _result(plan: Plan, period: periods.Period, end: float, value: float, counts: inc.Counts,
            coverage: float, more: dict[str, float]) -> KpiResult:
    details = {"raised": float(counts.raised), "resolved": float(counts.resolved),
               "open": float(counts.raised - counts.resolved), **more}
    return KpiResult(definition=plan.definition, target=plan.target, period=period, until=end, value=value,
                     met=plan.target.met_by(value), coverage=coverage, min_coverage=plan.config.min_coverage,
                     details=details)


def fault_handling(plan: Plan, ledger: LedgerReader, period: periods.Period, end: float,
                   maintenance: Maintenance) -> KpiResult:
    """Incidents raised in the period and resolved by its end / raised (1.0 when none was raised)."""
    counts = inc.count(period_incidents(plan, ledger, period.start, end, maintenance), period.start, end, float("inf"))
    return _result(plan, period, end, counts.resolution_rate, counts,
                   _coverage(plan, ledger, period, end, maintenance), {})


def within_of(kpi: KpiConfig) -> float:
    within = getattr(kpi, "within", None)
    return DEFAULT_WITHIN if within is None else float(within)


def fault_timeliness(plan: Plan, ledger: LedgerReader, period: periods.Period, end: float,
                     maintenance: Maintenance) -> KpiResult:
    """Network incidents raised in the period resolved within ``within`` / raised (1.0 when none)."""
    network = [i for i in period_incidents(plan, ledger, period.start, end, maintenance) if i.category == NETWORK]
    bound = within_of(plan.config)
    counts = inc.count(network, period.start, end, bound)
    return _result(plan, period, end, counts.timeliness, counts, _coverage(plan, ledger, period, end, maintenance),
                   {"within_bound": float(counts.within), "bound_seconds": bound})


__all__ = ["fault_handling", "fault_timeliness", "incident_inputs", "incident_parts", "incident_series"]
