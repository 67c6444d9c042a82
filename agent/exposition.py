"""Snapshot -> Prometheus metric families, and the /metrics and /healthz endpoints.

``collect()`` does no I/O: it renders what the scheduler and the KPI loop
last stored in :class:`AgentState`. Families are built from the table in
agent.metrics, so a name, type or label set cannot drift from the docs.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Awaitable, Callable, Iterable, Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)

from agent import __version__
from agent.kpi import KpiResult
from agent.metrics import METRICS
from agent.state import AgentState


class _Families:
    """Lazily created families keyed by metric name, with labels in spec order."""

    def __init__(self) -> None:
        self._families: dict[str, Metric] = {}

    def add(self, metric: str, value: float, /, **labels: str) -> None:
        spec = METRICS[metric]
        if spec.type == "histogram":
            # Not a gauge: its family is built from the samples, which add_labelled routes.
            raise ValueError(f"{metric} is a histogram: add its _bucket, _sum and _count samples")
        family = self._families.get(metric)
        if family is None:
            if spec.type == "counter":
                family = CounterMetricFamily(metric, spec.help, labels=spec.labels)
            else:
                family = GaugeMetricFamily(metric, spec.help, labels=spec.labels)
            self._families[metric] = family
        # Only histograms are plain Metric families, and they never get here.
        assert isinstance(family, (CounterMetricFamily, GaugeMetricFamily))
        family.add_metric([labels[label] for label in spec.labels], value)

    def add_labelled(self, name: str, labels: Iterable[tuple[str, str]], value: float) -> None:
        base = _histogram_of(name)
        if base is not None:
            # A histogram arrives as its _bucket (with le), _sum and _count samples, already cumulative.
            family = self._families.get(base)
            if family is None:
                family = self._families[base] = Metric(base, METRICS[base].help, "histogram")
            family.add_sample(name, dict(labels), value)
            return
        self.add(name, value, **dict(labels))

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._families.values())


def _histogram_of(sample_name: str) -> str | None:
    """The histogram metric a ``_bucket`` / ``_sum`` / ``_count`` sample belongs to, if any."""
    for suffix in ("_bucket", "_sum", "_count"):
        if sample_name.endswith(suffix):
            spec = METRICS.get(sample_name[: -len(suffix)])
            if spec is not None and spec.type == "histogram":
                return spec.name
    return None


def _kpi_families(out: _Families, results: Iterable[KpiResult]) -> None:
    for result in results:
        kpi = result.definition
        out.add("sla_kpi_info", 1, kpi=kpi.id, name=kpi.name_zh, level1=kpi.level1, level2=kpi.level2,
                unit=kpi.unit, target_text=kpi.target_text)
        out.add("sla_kpi_target", result.target.value, kpi=kpi.id)
        out.add("sla_kpi_coverage_ratio", result.coverage, kpi=kpi.id)
        out.add("sla_kpi_min_coverage_ratio", result.min_coverage, kpi=kpi.id)
        if result.totals is not None:
            totals = result.totals
            for cls, seconds in (("good", totals.good), ("bad", totals.bad),
                                 ("unknown", totals.unknown), ("maintenance", totals.maintenance)):
                out.add("sla_kpi_period_seconds", seconds, kpi=kpi.id, **{"class": cls})
        if kpi.objective is not None and kpi.kind != "availability":
            out.add("sla_kpi_objective_ratio", kpi.objective, kpi=kpi.id)
        if result.value is None:
            continue  # no data: absent, never a made-up 0 or 1
        out.add("sla_kpi_value", result.value, kpi=kpi.id)
        out.add("sla_kpi_met", 1 if result.met else 0, kpi=kpi.id)
        if result.minimum is not None:
            out.add("sla_kpi_minimum", result.minimum, kpi=kpi.id)
        if result.compliance is not None:
            out.add("sla_kpi_compliance_ratio", result.compliance, kpi=kpi.id)


class StateCollector:
    """prometheus_client custom collector over the agent's state."""

    def __init__(self, state: AgentState):
        self._state = state

    def collect(self) -> Iterator[Metric]:
        out = _Families()
        state = self._state
        out.add("sla_agent_info", 1, version=__version__)
        _kpi_families(out, state.kpis)
        if state.kpi_evaluated_at is not None:
            out.add("sla_kpi_last_evaluation_timestamp_seconds", state.kpi_evaluated_at)
        for target in state.target_list():
            ids = {"collector": target.collector, "target": target.target}
            out.add("sla_target_up", 1 if target.up else 0, **ids)
            out.add("sla_target_poll_duration_seconds", target.duration, **ids)
            if target.last_success is not None:
                out.add("sla_target_last_success_timestamp_seconds", target.last_success, **ids)
            out.add("sla_target_polls_total", target.polls, **ids)
            out.add("sla_target_poll_failures_total", target.failures, **ids)
            out.add("sla_counter_discontinuities_total", target.discontinuities, **ids)
            for sample in target.samples:
                out.add_labelled(sample.name, sample.labels, sample.value)
        for samples in list(state.shared.values()):
            for sample in samples:
                out.add_labelled(sample.name, sample.labels, sample.value)
        out.add("sla_ledger_writes_total", state.ledger.writes)
        out.add("sla_ledger_write_failures_total", state.ledger.failures)
        if state.ledger.last_write is not None:
            out.add("sla_ledger_last_write_timestamp_seconds", state.ledger.last_write)
        out.add("sla_config_last_reload_successful", 1 if state.config_reload_ok else 0)
        if state.config_loaded_at is not None:
            out.add("sla_config_last_reload_success_timestamp_seconds", state.config_loaded_at)
        yield from out


def make_registry(state: AgentState) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StateCollector(state))
    return registry


def health(state: AgentState, now: float, kpi_interval: float) -> tuple[bool, dict[str, object]]:
    """Healthy while the KPI loop keeps up and the ledger accepts writes."""
    stale_kpis = state.kpi_evaluated_at is None or now - state.kpi_evaluated_at > 3 * kpi_interval + 10
    targets = state.target_list()
    body: dict[str, object] = {
        "kpi_evaluated_at": state.kpi_evaluated_at,
        "targets": len(targets),
        "targets_up": sum(1 for t in targets if t.up),
        "ledger_write_failures": state.ledger.failures,
        "ledger_last_write": state.ledger.last_write,
    }
    ok = not stale_kpis and (state.ledger.failures == 0 or (state.ledger.last_write or 0) > now - 60)
    body["status"] = "ok" if ok else "degraded"
    return ok, body


ReloadHook = Callable[[], Awaitable[list[str]]]  # problems of the new config; [] when applied


def make_app(state: AgentState, kpi_interval: Callable[[], float], reload: ReloadHook | None = None) -> web.Application:
    """/metrics, /healthz, / and (``reload`` given: the lifecycle flag is on) ``POST /-/reload``."""
    registry = make_registry(state)
    # Rendering has a thread of its own: it reads only the in-memory state, and
    # must never queue behind ledger or other blocking work in the default pool.
    renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics-render")

    async def metrics(_: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        payload = await loop.run_in_executor(renderer, generate_latest, registry)
        return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_: web.Request) -> web.Response:
        ok, body = health(state, time.time(), kpi_interval())
        return web.Response(text=json.dumps(body), status=200 if ok else 503, content_type="application/json")

    async def index(_: web.Request) -> web.Response:
        return web.Response(text="sla-agent: see /metrics and /healthz\n")

    async def reload_config(_: web.Request) -> web.Response:
        if reload is None:  # as Prometheus without --web.enable-lifecycle
            return web.Response(status=403, text="Lifecycle API is not enabled (sla-agent run --enable-reload-endpoint).\n")
        problems = await reload()
        if problems:
            return web.Response(status=500, text="failed to reload config:\n" + "\n".join(problems) + "\n")
        return web.Response(text="config reloaded\n")

    async def stop_renderer(_: web.Application) -> None:
        renderer.shutdown(wait=False, cancel_futures=True)

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/", index)
    app.router.add_post("/-/reload", reload_config)
    app.on_cleanup.append(stop_renderer)
    return app
