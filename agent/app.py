"""Wires config, collectors, scheduler, ledger, KPI engine and HTTP together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Callable, Sequence

from aiohttp import web

from agent.config import Config
from agent.exposition import make_app
from agent.kpi import KpiEngine
from agent.ledger import Ledger, LedgerError
from agent.scheduler import PollOutcome, Scheduler
from agent.state import AgentState
from collectors.base import Collector

log = logging.getLogger(__name__)

LEDGER_FILE = "ledger.sqlite"
FLUSH_INTERVAL = 1.0
# Observations kept for retry while the ledger cannot be written (about an
# hour of a few hundred links); beyond that the oldest go, loudly.
MAX_PENDING = 200_000

Entry = tuple[str, float | None, float, float]


def build_collectors(config: Config, ledger: Ledger) -> list[Collector]:
    """One collector per configured source kind.

    ``ledger`` is for collectors that keep more than series observations
    (records, cursors) and must write them in the same transaction.
    """
    collectors: list[Collector] = []
    if config.snmp.devices:
        from collectors.snmp import SnmpCollector

        collectors.append(SnmpCollector(config))
    if config.clouds:
        from collectors.cloud import CloudCollector

        collectors.append(CloudCollector(config.clouds))
    if config.sms:
        from collectors.sms import SmsCollector

        collectors.append(SmsCollector(config.sms, ledger))
    if any(gateway.canary is not None for gateway in config.sms):
        from collectors.sms import SmsCanaryCollector

        collectors.append(SmsCanaryCollector(config.sms))
    return collectors


class Agent:
    def __init__(
        self,
        config: Config,
        collectors: Sequence[Collector] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.config = config
        self.clock = clock
        self.state = AgentState()
        self.ledger = Ledger(config.agent.data_dir / LEDGER_FILE)
        self.collectors = list(collectors) if collectors is not None else build_collectors(config, self.ledger)
        self.engine = KpiEngine(config, self.ledger)
        self.scheduler = Scheduler(self.collectors, self._on_outcome, config.snmp.max_concurrency, clock)
        self._shared = {c.kind: c.shared_samples for c in self.collectors if hasattr(c, "shared_samples")}
        self._pending: list[Entry] = []
        self._ledger_failing = False
        self._overflowed = 0  # observations dropped from the full buffer during the current ledger outage
        self._clock_went_back = False
        # Until the start-up cut (Ledger.begin_run) is written nothing else may be: a new
        # observation within an old segment's validity would extend it across the dead time.
        self._run_begun = False
        with contextlib.suppress(LedgerError):  # a locked or full ledger: retried by every flush
            self._begin_run()

    def _begin_run(self) -> None:
        cut = self.ledger.begin_run(self.clock())
        self._run_begun = True
        if cut is not None:
            log.warning(
                "the last run did not stop cleanly: open ledger segments cut back to its last heartbeat "
                "(%.0f s before this start); the time since reads as unknown", max(0.0, self.clock() - cut))

    def _on_outcome(self, outcome: PollOutcome) -> None:
        self.state.apply(outcome)
        shared = self._shared.get(outcome.collector)
        if shared is not None:
            self.state.shared[outcome.collector] = shared()
        self._pending.extend((o.series, o.value, outcome.at, outcome.validity) for o in outcome.observations)

    async def flush(self) -> None:
        """Write pending observations and the heartbeat to the ledger; keep them for retry on failure.

        Runs every FLUSH_INTERVAL even with nothing pending: the heartbeat is
        what a start after a crash cuts open segments back to.
        """
        batch, self._pending = self._pending, []
        try:
            if not self._run_begun:
                await asyncio.to_thread(self._begin_run)
            dropped = await asyncio.to_thread(self.ledger.record, batch, self.clock())
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
        self.state.kpis = tuple(await asyncio.to_thread(self.engine.month_to_date, now))
        self.state.kpi_evaluated_at = now

    async def _every(self, seconds: float, job: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(seconds)
            await job()  # type: ignore[misc]

    async def run(self, started: asyncio.Event | None = None) -> None:
        """Serve /metrics and poll until cancelled; always leaves the ledger consistent."""
        runner = web.AppRunner(make_app(self.state, self.config.agent.kpi_interval), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.agent.host, self.config.agent.port)
        try:
            await site.start()
            await self.evaluate()
            if started is not None:
                started.set()
            async with asyncio.TaskGroup() as group:
                group.create_task(self.scheduler.run())
                group.create_task(self._every(FLUSH_INTERVAL, self.flush))
                group.create_task(self._every(self.config.agent.kpi_interval, self._flush_and_evaluate))
        finally:
            await self._shutdown(runner)

    async def _flush_and_evaluate(self) -> None:
        await self.flush()
        await self.evaluate()

    async def _shutdown(self, runner: web.AppRunner) -> None:
        with contextlib.suppress(Exception):
            await self.flush()
        try:
            if self._pending or not self._run_begun:
                # Not all was written: leave the run unclean, so the next start cuts
                # back to the last heartbeat as after a crash.
                log.error("stopping with %d observations not written: the next start reads the time since "
                          "the last successful ledger write as unknown", len(self._pending))
            else:
                self.ledger.end_run(self.clock())
        except Exception as exc:  # the file stays consistent; the next start cuts back to the heartbeat
            log.warning("could not close open ledger segments: %s", exc)
        for collector in self.collectors:
            with contextlib.suppress(Exception):
                await collector.close()
        self.ledger.close()
        await runner.cleanup()
