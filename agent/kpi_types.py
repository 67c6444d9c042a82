"""What the KPI engine produces and consumes, shared by every KPI kind's evaluator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol, Sequence

from agent import periods
from agent.catalogue import KpiDefinition
from agent.config import KpiConfig
from agent.sli import Segment, Span, Totals
from agent.units import Target


@dataclass(frozen=True, slots=True)
class KpiResult:
    """A KPI over ``[period.start, until)``, as /metrics and the monthly export show it."""

    definition: KpiDefinition
    target: Target
    period: periods.Period
    until: float
    value: float | None  # base units; None while there is no data at all
    met: bool | None  # None while there is no data at all
    coverage: float  # share of the period (maintenance excluded) with data, 0-1
    min_coverage: float = 0.0
    totals: Totals | None = None  # time-based kinds: seconds by class
    minimum: float | None = None  # gauge kinds
    compliance: float | None = None  # gauge kinds: share of known time meeting the target
    # Kind-specific figures in base units, e.g. message counts or percentiles.
    details: Mapping[str, float] = field(default_factory=dict)

    @property
    def sufficient(self) -> bool:
        """Enough of the period has data for the figure to be reported as final."""
        return self.value is not None and self.coverage >= self.min_coverage


@dataclass(frozen=True, slots=True)
class Plan:
    """A configured KPI resolved to its definition, target and inputs."""

    config: KpiConfig
    definition: KpiDefinition
    target: Target
    inputs: tuple[str, ...]  # ledger series the KPI reads (time-based kinds)
    # Maintenance scope: a link group's windows plus the global ones, or only
    # the global ones (None).
    group: str | None

    def series(self) -> list[str]:
        return list(self.inputs)


class LedgerReader(Protocol):
    """The part of agent.ledger.Ledger that evaluators read."""

    def segments(self, names: Sequence[str], start: float, end: float) -> Mapping[str, Sequence[Segment]]: ...


class Evaluator(Protocol):
    """Computes one KPI kind over ``[period.start, end)`` from the ledger (no writes)."""

    def __call__(
        self, kpi: Plan, ledger: LedgerReader, period: periods.Period, end: float, maintenance: Sequence[Span]
    ) -> KpiResult: ...
