"""The KPI engine: ledger -> period figures for every configured KPI.

Reads only; the same evaluation serves the month-to-date gauges on /metrics and
the monthly export, so the two can never disagree. A KPI's *source* (a
catalogue source such as a link group) says which inputs it reads; its *kind* (availability,
capacity_sum, ...) says how they become a figure. Both are looked up in the
source registry (agent/sources.py): a new source declares its inputs and its
own kinds in its collectors/ package.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from agent import maintenance, periods, sli, sources
from agent.config import Config, kpi_definition
from agent.kpi_types import KpiResult, LedgerReader, Maintenance, Plan
from agent.sli import Totals
from agent.sources import KindSpec
from agent.units import parse_target

__all__ = ["KpiEngine", "KpiResult", "Maintenance", "Plan", "evaluate", "plan", "GENERIC_KINDS"]


def _availability(kpi: Plan, ledger: LedgerReader, period: periods.Period, end: float,
                  maintenance: Maintenance) -> KpiResult:
    # Per-link totals add up: coverage is link-time with data / link-time expected, and a
    # window on one link takes only that link's time out. Series without a window are
    # added up by the ledger (one query for the group); the rest segment by segment.
    windowed: list[str] = []
    plain: list[str] = []
    for name in kpi.inputs:
        (windowed if maintenance.of(name) else plain).append(name)
    good, bad = ledger.state_seconds(plain, period.start, end) if plain else (0.0, 0.0)
    totals = Totals(good, bad, max(0.0, len(plain) * max(0.0, end - period.start) - good - bad))
    segments = ledger.segments(windowed, period.start, end) if windowed else {}
    for name in windowed:
        totals = totals + sli.classify(segments.get(name, []), period.start, end, maintenance.of(name), sli.is_up)
    value = sli.availability(totals)
    return KpiResult(
        definition=kpi.definition, target=kpi.target, period=period, until=end,
        value=value, met=None if value is None else kpi.target.met_by(value),
        coverage=totals.coverage, min_coverage=kpi.config.min_coverage, totals=totals,
    )


def _capacity_sum(kpi: Plan, ledger: LedgerReader, period: periods.Period, end: float,
                  maintenance: Maintenance) -> KpiResult:
    # One figure for all inputs: excluded while any of them is in maintenance (the union).
    summed = ledger.summed(kpi.series(), period.start, end)
    summary = sli.summarise_gauge(summed, period.start, end, maintenance, kpi.target.met_by)
    objective = kpi.definition.objective if kpi.definition.objective is not None else 1.0
    met = None if summary.mean is None else (summary.compliance or 0.0) >= objective
    return KpiResult(
        definition=kpi.definition, target=kpi.target, period=period, until=end,
        value=summary.mean, met=met, coverage=summary.totals.coverage, min_coverage=kpi.config.min_coverage,
        totals=summary.totals, minimum=summary.minimum, compliance=summary.compliance,
    )


# The kinds computed from plain ledger series, whatever source feeds them; a
# source's own kinds come with its spec (agent/sources.py).
GENERIC_KINDS = (
    KindSpec("availability", _availability, states=True,
             met_help="1 when the month-to-date availability ({counted} up / {counted} known) is {target}"),
    KindSpec("capacity_sum", _capacity_sum, gauge=True,
             met_help="1 when the share of known time with the capacity {target} reaches {objective}"),
)


def plan(config: Config) -> list[Plan]:
    """Resolve each configured KPI to its definition, target and inputs."""
    plans = []
    for kpi in config.kpis:
        definition = kpi_definition(kpi)
        spec = sources.serving(definition.source)
        inputs = spec.inputs(definition, kpi, config)
        parts = spec.parts(definition, kpi, config) if spec.parts is not None else {}
        plans.append(Plan(kpi, definition, parse_target(definition.target, definition.unit), inputs, parts))
    return plans


def evaluate(kpi: Plan, ledger: LedgerReader, period: periods.Period, until: float,
             maintenance: Maintenance) -> KpiResult:
    """One KPI over ``[period.start, min(until, period.end))``."""
    return sources.kind(kpi.definition.kind).evaluate(kpi, ledger, period, min(until, period.end), maintenance)


class KpiEngine:
    """Evaluates every configured KPI from the ledger."""

    def __init__(self, config: Config, ledger: LedgerReader):
        self._config = config
        self._zone = ZoneInfo(config.agent.timezone)
        self._ledger = ledger
        self.plans = plan(config)
        self._windows = maintenance.covered(config)  # which series each window covers, once

    def maintenance(self, kpi: Plan, start: float, end: float) -> Maintenance:
        """The maintenance of ``kpi``'s inputs in ``[start, end)``: per series, and their union."""
        return maintenance.of_inputs(self._windows, kpi.inputs, start, end, self._zone)

    def evaluate_period(self, period: periods.Period, now: float) -> list[KpiResult]:
        """Every KPI over ``period``, up to ``now`` if the period is still running."""
        end = min(now, period.end)
        return [evaluate(kpi, self._ledger, period, end, self.maintenance(kpi, period.start, end))
                for kpi in self.plans]

    def month_to_date(self, now: float) -> list[KpiResult]:
        return self.evaluate_period(periods.month_containing(now, self._zone), now)
