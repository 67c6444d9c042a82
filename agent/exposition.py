"""The /metrics, /healthz and /-/reload endpoints, and a prometheus_client view of the state.

/metrics is :meth:`AgentState.render` (agent/textformat.py): no I/O, what the
scheduler and the KPI loop last stored. :class:`StateCollector` serialises the
same series (agent/exposed.py) as prometheus_client families, for tests and
introspection. Both follow the table in agent.metrics, so a name, type or
label set cannot drift from the docs.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Awaitable, Callable, Iterable, Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)

from agent import exposed
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


class StateCollector:
    """prometheus_client custom collector over the agent's state (the same series as /metrics)."""

    def __init__(self, state: AgentState):
        self._state = state

    def collect(self) -> Iterator[Metric]:
        out = _Families()
        state = self._state
        for name, labels, value in exposed.agent_series(state):
            out.add_labelled(name, labels, value)
        for target in state.target_list():
            for name, labels, value in exposed.target_series(target):
                out.add_labelled(name, labels, value)
        for counters in state.live:
            for name, labels, value in counters.series():
                out.add_labelled(name, labels, value)
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


WRITE_BATCH = 256 * 1024  # bytes of /metrics written at a time
ReloadHook = Callable[[], Awaitable[list[str]]]  # problems of the new config; [] when applied


def make_app(state: AgentState, kpi_interval: Callable[[], float], reload: ReloadHook | None = None) -> web.Application:
    """/metrics, /healthz, / and (``reload`` given: the lifecycle flag is on) ``POST /-/reload``."""
    # Rendering has a thread of its own: it reads only the in-memory state, and
    # must never queue behind ledger or other blocking work in the default pool.
    renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics-render")

    async def metrics(request: web.Request) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        # Made batch by batch in the renderer's thread, so neither the poll loop
        # renders nor the whole text (or the list of its pieces) is ever held.
        batches = state.render_batches(WRITE_BATCH)
        batch = await loop.run_in_executor(renderer, next, batches, None)
        response = web.StreamResponse(headers={"Content-Type": CONTENT_TYPE_LATEST})
        await response.prepare(request)
        while batch is not None:
            await response.write(batch)
            batch = await loop.run_in_executor(renderer, next, batches, None)
        await response.write_eof()
        return response

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
