"""What the agent exposes, as plain series: one source for the text renderer and the registry.

Each series is ``(sample name, labels in agent.metrics' order, value)``. The
``/metrics`` text (agent/textformat.py) and the prometheus_client registry
(agent/exposition.py, for introspection and tests) both serialise these, so
they cannot expose different things.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator

from agent import __version__, sources
from agent.kpi import KpiResult
from agent.metrics import METRICS
from collectors.base import Labels

if TYPE_CHECKING:
    from agent.state import AgentState, TargetStatus

Series = tuple[str, Labels, float]


def labelled(metric: str, value: float, /, **labels: str) -> Series:
    """A series of ``metric`` with its labels put in the spec's order."""
    return metric, tuple((name, labels[name]) for name in METRICS[metric].labels), float(value)


def kpi_series(results: Iterable[KpiResult]) -> Iterator[Series]:
    for result in results:
        kpi = result.definition
        yield labelled("sla_kpi_info", 1, kpi=kpi.id, name=kpi.name_zh, level1=kpi.level1, level2=kpi.level2,
                       unit=kpi.unit, target_text=kpi.target_text)
        yield labelled("sla_kpi_target", result.target.value, kpi=kpi.id)
        yield labelled("sla_kpi_coverage_ratio", result.coverage, kpi=kpi.id)
        yield labelled("sla_kpi_min_coverage_ratio", result.min_coverage, kpi=kpi.id)
        if result.totals is not None:
            totals = result.totals
            for cls, seconds in (("good", totals.good), ("bad", totals.bad),
                                 ("unknown", totals.unknown), ("maintenance", totals.maintenance)):
                yield labelled("sla_kpi_period_seconds", seconds, kpi=kpi.id, **{"class": cls})
        if kpi.objective is not None and not sources.kind(kpi.kind).states:
            yield labelled("sla_kpi_objective_ratio", kpi.objective, kpi=kpi.id)
        if result.value is None:
            continue  # no data: absent, never a made-up 0 or 1
        yield labelled("sla_kpi_value", result.value, kpi=kpi.id)
        yield labelled("sla_kpi_met", 1 if result.met else 0, kpi=kpi.id)
        if result.minimum is not None:
            yield labelled("sla_kpi_minimum", result.minimum, kpi=kpi.id)
        if result.compliance is not None:
            yield labelled("sla_kpi_compliance_ratio", result.compliance, kpi=kpi.id)
        for part, figure in result.parts.items():
            if figure.value is not None:
                yield labelled("sla_kpi_part_value", figure.value, kpi=kpi.id, part=part)
                yield labelled("sla_kpi_part_met", 1 if figure.met else 0, kpi=kpi.id, part=part)


def agent_series(state: "AgentState") -> Iterator[Series]:
    """Everything but the targets' own series."""
    yield labelled("sla_agent_info", 1, version=__version__)
    if state.shard.count > 1:
        yield labelled("sla_agent_shard_info", 1, shard=str(state.shard.index), shards=str(state.shard.count))
    yield from kpi_series(state.kpis)
    if state.kpi_evaluated_at is not None:
        yield labelled("sla_kpi_last_evaluation_timestamp_seconds", state.kpi_evaluated_at)
    for samples in list(state.shared.values()):
        for sample in samples:
            yield sample.name, sample.labels, sample.value
    yield labelled("sla_ledger_writes_total", state.ledger.writes)
    yield labelled("sla_ledger_write_failures_total", state.ledger.failures)
    if state.ledger.last_write is not None:
        yield labelled("sla_ledger_last_write_timestamp_seconds", state.ledger.last_write)
    yield labelled("sla_config_last_reload_successful", 1 if state.config_reload_ok else 0)
    if state.config_loaded_at is not None:
        yield labelled("sla_config_last_reload_success_timestamp_seconds", state.config_loaded_at)
    yield from state.scheduler_series()


def target_health(target: "TargetStatus") -> Iterator[Series]:
    """One target's health series: up, poll duration, last success, polls, failures, discontinuities."""
    ids = (("collector", target.collector), ("target", target.target))
    yield "sla_target_up", ids, 1.0 if target.up else 0.0
    yield "sla_target_poll_duration_seconds", ids, target.duration
    if target.last_success is not None:
        yield "sla_target_last_success_timestamp_seconds", ids, target.last_success
    yield "sla_target_polls_total", ids, float(target.polls)
    yield "sla_target_poll_failures_total", ids, float(target.failures)
    yield "sla_counter_discontinuities_total", ids, float(target.discontinuities)


def target_series(target: "TargetStatus") -> Iterator[Series]:
    """One target's health series and the samples of its last poll."""
    yield from target_health(target)
    for sample in target.samples:
        yield sample.name, sample.labels, sample.value
