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
        self._dropped = 0  # observations dropped during the current ledger outage

    def _on_outcome(self, outcome: PollOutcome) -> None:
        self.state.apply(outcome)
        shared = self._shared.get(outcome.collector)
        if shared is not None:
            self.state.shared[outcome.collector] = shared()
        self._pending.extend((o.series, o.value, outcome.at, outcome.validity) for o in outcome.observations)

    async def flush(self) -> None:
        """Write pending observations to the ledger; keep them for retry on failure."""
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        try:
            await asyncio.to_thread(self.ledger.record, batch)
        except LedgerError as exc:
            self.state.ledger.failures += 1
            if not self._ledger_failing:
                log.error("ledger write failed, keeping observations for retry: %s", exc)
                self._ledger_failing = True
            self._pending = batch + self._pending
            if len(self._pending) > MAX_PENDING:
                dropped = len(self._pending) - MAX_PENDING
                del self._pending[:dropped]
                if not self._dropped:  # once per outage, not on every flush (every second)
                    log.error("ledger still failing: dropping the oldest observations beyond %d "
                              "(that time will read as unknown)", MAX_PENDING)
                self._dropped += dropped
            return
        self.state.ledger.writes += 1
        self.state.ledger.last_write = self.clock()
        if self._ledger_failing:
            lost = f"; {self._dropped} observations were dropped meanwhile" if self._dropped else ""
            log.info("ledger writes recovered%s", lost)
            self._ledger_failing = False
            self._dropped = 0

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
            self.ledger.truncate_open(self.clock())
        except Exception as exc:  # the file stays consistent; the open segments just keep their validity
            log.warning("could not close open ledger segments: %s", exc)
        for collector in self.collectors:
            with contextlib.suppress(Exception):
                await collector.close()
        self.ledger.close()
        await runner.cleanup()
