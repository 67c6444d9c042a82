"""What the KPI engine produces and consumes, shared by every KPI kind's evaluator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol, Sequence, overload

from agent import periods, sli
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
    # A KPI judged part by part (each business system of a platform): each part's own figure.
    parts: Mapping[str, "KpiResult"] = field(default_factory=dict)

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
    # The inputs by part, for kinds that judge each part on its own (the source's SourceSpec.parts).
    parts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def series(self) -> list[str]:
        return list(self.inputs)


@dataclass(frozen=True, slots=True)
class Maintenance(Sequence[Span]):
    """A KPI's maintenance over a range: per input series, and (as a sequence of spans) their union.

    Availability is summed target-time, so a window on one link excludes only
    that link's time (``of``). A figure that treats its inputs as one, such as
    a sum of capacities, is excluded while any input is in maintenance (the
    union). A series not among the inputs has the union.
    """

    spans: tuple[Span, ...] = ()
    by_series: Mapping[str, tuple[Span, ...]] = field(default_factory=dict)

    def of(self, series: str) -> Sequence[Span]:
        return self.by_series.get(series, self.spans)

    @overload
    def __getitem__(self, index: int) -> Span: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Span]: ...

    def __getitem__(self, index: int | slice) -> Span | Sequence[Span]:
        return self.spans[index]

    def __len__(self) -> int:
        return len(self.spans)


class LedgerReader(Protocol):
    """The part of agent.ledger.Ledger that evaluators read."""

    def segments(self, names: Sequence[str], start: float, end: float) -> Mapping[str, Sequence[Segment]]: ...

    def state_seconds(self, names: Sequence[str], start: float, end: float) -> tuple[float, float]:
        """Known up and down seconds (sli.is_up) in ``[start, end)``, summed over ``names``; no maintenance."""
        ...

    def summed(self, names: Sequence[str], start: float, end: float) -> list[Segment]:
        """The instant-by-instant sum of ``names`` over ``[start, end)`` (sli.sum_series)."""
        ...

    def having(self, names: Sequence[str], start: float, end: float, *, below: float | None = None,
               at_least: float | None = None) -> set[str]:
        """Those of ``names`` with a value < ``below`` (or >= ``at_least``) in ``[start, end)``."""
        ...


class SegmentSums:
    """``state_seconds`` and ``summed`` from ``segments``, for readers without a faster way (the ledger has one)."""

    def segments(self, names: Sequence[str], start: float, end: float) -> Mapping[str, Sequence[Segment]]:
        raise NotImplementedError

    def state_seconds(self, names: Sequence[str], start: float, end: float) -> tuple[float, float]:
        totals = Totals()
        for found in self.segments(names, start, end).values():
            totals = totals + sli.classify(found, start, end, (), sli.is_up)
        return totals.good, totals.bad

    def summed(self, names: Sequence[str], start: float, end: float) -> list[Segment]:
        return sli.sum_named(self.segments(names, start, end), names, start, end)

    def having(self, names: Sequence[str], start: float, end: float, *, below: float | None = None,
               at_least: float | None = None) -> set[str]:
        def hit(value: float | None) -> bool:
            if value is None:
                return False
            return value < below if below is not None else at_least is not None and value >= at_least

        return {name for name, found in self.segments(names, start, end).items() if any(hit(v) for _, _, v in found)}


class Evaluator(Protocol):
    """Computes one KPI kind over ``[period.start, end)`` from the ledger (no writes)."""

    def __call__(
        self, kpi: Plan, ledger: LedgerReader, period: periods.Period, end: float, maintenance: Maintenance
    ) -> KpiResult: ...
