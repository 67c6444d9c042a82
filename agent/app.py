"""Wires config, collectors, scheduler, ledger, KPI engine and HTTP together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence, TypeVar

from agent import reload as reloading
from agent import sources
from agent.config import Config
from agent.exposition import make_app
from agent.formatter import TargetFormatter
from agent.kpi import KpiEngine
from agent.ledger import Ledger, LedgerError
from agent.runtime import Runtime, exposure_warnings
from agent.scheduler import PollOutcome, Scheduler
from agent.schema import ConfigError
from agent.state import AgentState
from agent.web import Listener
from agent.webconfig import NO_SECURITY
from collectors.base import Collector, Labels, Sample

log = logging.getLogger(__name__)

LEDGER_FILE = "ledger.sqlite"
FLUSH_INTERVAL = 1.0
# Observations kept for retry while the ledger cannot be written (about an
# hour of a few hundred links); beyond that the oldest go, loudly.
MAX_PENDING = 200_000

Entry = tuple[str, float | None, float, float]
T = TypeVar("T")


def build_collectors(config: Config, ledger: Ledger) -> list[Collector]:
    """Every registered source's collectors for ``config`` (agent/sources.py), in registry order.

    ``ledger`` is for collectors that keep more than series observations
    (records, cursors) and must write them in the same transaction.
    """
    return [collector for source in sources.sources() for collector in source.collectors(config, ledger)]


class Agent:
    def __init__(
        self,
        config: Config | Runtime,
        collectors: Sequence[Collector] | None = None,
        clock: Callable[[], float] = time.time,
        *,
        loader: Callable[[], Runtime] | None = None,
        reload_endpoint: bool = False,
    ):
        runtime = config if isinstance(config, Runtime) else Runtime(config, NO_SECURITY)
        self.runtime = runtime
        self.config = runtime.config
        self.clock = clock
        self.state = AgentState(shard=runtime.shard, formatter=TargetFormatter())
        # Counted from here (the link states: before the first poll, unknown).
        self.state.live = tuple(spec.live(self.config, clock) for spec in sources.sources() if spec.live is not None)
        self.ledger = Ledger(self.config.agent.data_dir / LEDGER_FILE)
        # Ledger work has a thread of its own: a write blocked on a locked file
        # (sqlite waits out its busy timeout) delays only other ledger work.
        self._ledger_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger")
        self.collectors = (list(collectors) if collectors is not None
                           else build_collectors(self.config, self.ledger))
        self.engine = KpiEngine(self.config, self.ledger)
        self.scheduler = Scheduler(self.collectors, self._on_outcome, sources.concurrency(self.config), clock)
        self.state.scheduling = self.scheduler.stats
        self._pending: list[Entry] = []
        self._ledger_failing = False
        self._overflowed = 0  # observations dropped from the full buffer during the current ledger outage
        self._clock_went_back = False
        # Until the start-up cut (Ledger.begin_run) is written nothing else may be: a new
        # observation within an old segment's validity would extend it across the dead time.
        self._run_begun = False
        with contextlib.suppress(LedgerError):  # a locked or full ledger: retried by every flush
            self._begin_run()
        self._loader = loader
        self._reload_endpoint = reload_endpoint
        self._reload_lock = asyncio.Lock()
        self._reloads: set[asyncio.Task[list[str]]] = set()
        self.listener: Listener | None = None

    async def _in_ledger(self, work: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._ledger_thread, work, *args)

    def _begin_run(self) -> None:
        cut = self.ledger.begin_run(self.clock())
        self._run_begun = True
        if cut is not None:
            log.warning(
                "the last run did not stop cleanly: open ledger segments cut back to its last heartbeat "
                "(%.0f s before this start); the time since reads as unknown", max(0.0, self.clock() - cut))

    def _on_outcome(self, outcome: PollOutcome) -> None:
        self.state.apply(outcome)
        shared = self._shared_samples(outcome.collector)
        if shared is not None:
            self.state.shared[outcome.collector] = shared
        self._pending.extend((o.series, o.value, outcome.at, outcome.validity) for o in outcome.observations)

    def _shared_samples(self, kind: str) -> tuple[Sample, ...] | None:
        """The shared samples of a kind, summed over its collectors (after a reload there may be several)."""
        sources = [c for c in self.collectors if c.kind == kind and hasattr(c, "shared_samples")]
        if not sources:
            return None
        totals: dict[tuple[str, Labels], float] = {}
        for collector in sources:
            for sample in collector.shared_samples():  # type: ignore[attr-defined]
                key = (sample.name, sample.labels)
                totals[key] = totals.get(key, 0.0) + sample.value
        return tuple(Sample(name, labels, value) for (name, labels), value in totals.items())

    async def flush(self) -> None:
        """Write pending observations and the heartbeat to the ledger; keep them for retry on failure.

        Runs every FLUSH_INTERVAL even with nothing pending: the heartbeat is
        what a start after a crash cuts open segments back to.
        """
        batch, self._pending = self._pending, []
        try:
            if not self._run_begun:
                await self._in_ledger(self._begin_run)
            dropped = await self._in_ledger(self.ledger.record, batch, self.clock())
        except LedgerError as exc:
            self.state.ledger.failures += 1
            if not self._ledger_failing:
                log.error("ledger write failed, keeping observations for retry: %s", exc)
                self._ledger_failing = True
            self._pending = batch + self._pending
            if len(self._pending) > MAX_PENDING:
                over = len(self._pending) - MAX_PENDING
                del self._pending[:over]
                if not self._overflowed:  # once per outage, not on every flush (every second)
                    log.error("ledger still failing: dropping the oldest observations beyond %d "
                              "(that time will read as unknown)", MAX_PENDING)
                self._overflowed += over
            return
        self.state.ledger.writes += 1
        self.state.ledger.last_write = self.clock()
        if self._ledger_failing:
            lost = f"; {self._overflowed} observations were dropped meanwhile" if self._overflowed else ""
            log.info("ledger writes recovered%s", lost)
            self._ledger_failing = False
            self._overflowed = 0
        self._note_dropped(dropped, len(batch))

    def _note_dropped(self, dropped: int, written: int) -> None:
        """Say once per episode that the wall clock went back and observations were dropped."""
        if dropped and not self._clock_went_back:
            log.warning("the wall clock went back: %d observations older than what the ledger holds were dropped; "
                        "until the clock passes the ledger's newest data that time reads as unknown", dropped)
            self._clock_went_back = True
        elif written and not dropped:
            self._clock_went_back = False

    async def evaluate(self) -> None:
        """Recompute the month-to-date KPI figures from the ledger."""
        now = self.clock()
        self.state.kpis = tuple(await self._in_ledger(self.engine.month_to_date, now))
        self.state.kpi_evaluated_at = now

    async def _every(self, seconds: Callable[[], float], job: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(seconds())  # read each time: a reload may change it
            await job()  # type: ignore[misc]

    async def run(self, started: asyncio.Event | None = None) -> None:
        """Serve /metrics and poll until cancelled; always leaves the ledger consistent."""
        settings = self.config.agent
        app = make_app(self.state, lambda: self.config.agent.kpi_interval,
                       self.reload if self._reload_endpoint else None)
        self.listener = Listener(app, settings.host, settings.port, limits=self.runtime.limits,
                                 security=self.runtime.security, name=f"agent.listen {settings.listen}")
        for warning in exposure_warnings(self.runtime):
            log.warning("%s", warning)
        self.state.config_loaded(self.clock())
        assert self.state.formatter is not None
        self.state.formatter.start()
        try:
            await self.listener.start()
            await self.evaluate()
            if started is not None:
                started.set()
            async with asyncio.TaskGroup() as group:
                group.create_task(self.scheduler.run())
                group.create_task(self._every(lambda: FLUSH_INTERVAL, self.flush))
                group.create_task(self._every(lambda: self.config.agent.kpi_interval, self._flush_and_evaluate))
        finally:
            await self._shutdown(self.listener)

    async def _flush_and_evaluate(self) -> None:
        await self.flush()
        await self.evaluate()

    def request_reload(self) -> None:
        """Reload in the background (the SIGHUP handler)."""
        task = asyncio.ensure_future(self.reload())
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def reload(self) -> list[str]:
        """Re-read the config; apply it if valid, else keep running as before. Returns the problems."""
        async with self._reload_lock:
            if self._loader is None:
                return self._reload_failed(["reload: this agent was not started from a config file"])
            log.info("reloading the configuration")
            try:
                runtime = await asyncio.to_thread(self._loader)
                collectors = await self._in_ledger(build_collectors, runtime.config, self.ledger)
            except ConfigError as exc:
                return self._reload_failed(exc.problems)
            except (LedgerError, ValueError) as exc:
                return self._reload_failed([f"reload: {str(exc).splitlines()[0]}"])
            await self._apply(runtime, collectors)
            self.state.config_loaded(self.clock())
            return []

    def _reload_failed(self, problems: list[str]) -> list[str]:
        for problem in problems:
            log.error("%s", problem)
        log.error("configuration not reloaded: %d problem%s; still running the previous one",
                  len(problems), "" if len(problems) == 1 else "s")
        self.state.config_failed()
        return problems

    async def _apply(self, runtime: Runtime, collectors: list[Collector]) -> None:
        config, notes = reloading.restart_only(self.config, runtime.config)
        for note in notes:
            log.warning("%s", note)
        running = self.scheduler.running()
        plan = reloading.plan(running, collectors)
        for key in plan.stop:
            await self.scheduler.remove(key)
            collector, target = running[key]
            forget = getattr(collector, "forget", None)  # optional: release what only this target used
            if forget is not None:
                await forget(target)
        for key in plan.removed:
            self.state.targets.pop(key, None)
        if plan.retired_series:
            await self.flush()
            try:
                await self._in_ledger(self.ledger.end_series, sorted(plan.retired_series), self.clock())
            except Exception as exc:  # as at a stop: the segments then end at their validity
                log.warning("could not close the open segments of removed targets: %s", exc)
        for counters in self.state.live:  # before the new targets' first polls: they count from now
            counters.reconfigure(config)
        for collector, target in plan.start:
            self.scheduler.add(collector, target)
        in_use = {id(c) for c, _ in self.scheduler.running().values()}
        for collector in {id(c): c for c in [*self.collectors, *collectors]}.values():
            if id(collector) not in in_use:
                await collector.close()
        self.collectors = list({id(c): c for c, _ in self.scheduler.running().values()}.values())
        self.runtime = Runtime(config, runtime.security, runtime.shard)
        self.state.shard = runtime.shard
        self.config = config
        self.engine = KpiEngine(config, self.ledger)
        if sources.concurrency(config) != self.scheduler.max_concurrency:
            self.scheduler.set_concurrency(sources.concurrency(config))
        if self.listener is not None:
            self.listener.update(self.runtime.limits, runtime.security)
        log.info("configuration reloaded: %d targets unchanged, %d started, %d stopped",
                 len(plan.keep), len(plan.start), len(plan.stop))
        try:
            await self.evaluate()
        except LedgerError as exc:
            log.warning("KPIs not recomputed after the reload (next try in %gs): %s", config.agent.kpi_interval, exc)

    async def _shutdown(self, listener: Listener) -> None:
        with contextlib.suppress(Exception):
            await self.flush()
        try:
            if self._pending or not self._run_begun:
                # Not all was written: leave the run unclean, so the next start cuts
                # back to the last heartbeat as after a crash.
                log.error("stopping with %d observations not written: the next start reads the time since "
                          "the last successful ledger write as unknown", len(self._pending))
            else:
                await self._in_ledger(self.ledger.end_run, self.clock())
        except Exception as exc:  # the file stays consistent; the next start cuts back to the heartbeat
            log.warning("could not close open ledger segments: %s", exc)
        for collector in self.collectors:
            with contextlib.suppress(Exception):
                await collector.close()
        await self._in_ledger(self.ledger.close)
        self._ledger_thread.shutdown(wait=False)
        await listener.stop()
        if self.state.formatter is not None:
            self.state.formatter.stop()
