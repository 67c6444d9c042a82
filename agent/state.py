"""The agent's in-memory view of the world, read by /metrics.

Writers (the scheduler sink, the KPI loop, the ledger writer) replace whole
immutable entries; the exposition only copies and reads them, so a scrape
never waits for a poll and never sees a half-updated target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Protocol

from agent import exposed, textformat
from agent.formatter import TargetFormatter
from agent.kpi import KpiResult
from agent.scheduler import KindStats, PollOutcome
from agent.sharding import ALL, Shard
from collectors.base import Sample


class LiveCounters(Protocol):
    """Series a source counts from poll outcomes as they come (the SNMP source's link-state seconds).

    Fresh at every scrape, so written apart from the targets' cached lines.
    """

    def observe(self, outcome: PollOutcome) -> None: ...

    def reconfigure(self, config: Any) -> None: ...

    def iter_chunks(self) -> Iterator[list[bytes]]: ...

    def series(self) -> Iterator[exposed.Series]: ...


@dataclass(frozen=True, slots=True)
class TargetStatus:
    collector: str
    target: str
    up: bool
    duration: float
    last_success: float | None
    polls: int
    failures: int
    discontinuities: int
    samples: tuple[Sample, ...]
    error: str | None
    # This target's /metrics lines by family (agent/textformat.py), formatted once per poll:
    # by the agent's formatter thread soon after the poll (agent/formatter.py), or by the
    # first scrape that shows this poll if it comes first (or there is no formatter).
    _text: textformat.Fragments | None = field(default=None, compare=False, repr=False)

    @property
    def text(self) -> textformat.Fragments:
        if self._text is None:
            object.__setattr__(self, "_text", textformat.target_fragments(self))
        assert self._text is not None
        return self._text

    def settle(self) -> None:
        """Format this poll's lines, then let go of its samples: only the formatting needed them.

        For the agent's formatter thread (agent/formatter.py): at 60,000 links
        the samples held until each target's next poll were about 33 MB. A
        settled target's registry view (agent/exposition.py, for tests and
        introspection) has its health series only.
        """
        self.text  # noqa: B018 - formats and keeps the lines
        object.__setattr__(self, "samples", ())


@dataclass(slots=True)
class LedgerStatus:
    writes: int = 0
    failures: int = 0
    last_write: float | None = None


@dataclass(slots=True)
class AgentState:
    targets: dict[tuple[str, str], TargetStatus] = field(default_factory=dict)
    kpis: tuple[KpiResult, ...] = ()
    kpi_evaluated_at: float | None = None
    ledger: LedgerStatus = field(default_factory=LedgerStatus)
    # Per collector kind: samples that belong to no one target (collectors.base.Collector.shared_samples).
    shared: dict[str, tuple[Sample, ...]] = field(default_factory=dict)
    # The last (re)load of the config: whether it was applied, and when one last was.
    config_reload_ok: bool = True
    config_loaded_at: float | None = None
    shard: Shard = ALL  # this agent's part of a sharded fleet (agent/sharding.py)
    # The scheduler's per-kind figures (agent.scheduler.KindStats), read live.
    scheduling: Mapping[str, KindStats] = field(default_factory=dict)
    # The sources' live counters (SourceSpec.live), fed by apply().
    live: tuple[LiveCounters, ...] = ()
    # Formats each polled target's lines off the event loop (agent/formatter.py); None: scrapes do.
    formatter: TargetFormatter | None = None

    def config_loaded(self, at: float) -> None:
        self.config_reload_ok, self.config_loaded_at = True, at

    def config_failed(self) -> None:
        self.config_reload_ok = False

    def apply(self, outcome: PollOutcome) -> None:
        """Fold one poll outcome into the target's status."""
        key = (outcome.collector, outcome.target)
        previous = self.targets.get(key)
        ok = outcome.result is not None
        status = TargetStatus(
            collector=outcome.collector,
            target=outcome.target,
            up=ok,
            duration=outcome.duration,
            last_success=outcome.at if ok else (previous.last_success if previous else None),
            polls=(previous.polls if previous else 0) + 1,
            failures=(previous.failures if previous else 0) + (0 if ok else 1),
            discontinuities=(previous.discontinuities if previous else 0)
            + (outcome.result.discontinuities if outcome.result else 0),
            # A failed poll drops the target's samples: stale values must not look fresh.
            samples=outcome.result.samples if outcome.result else (),
            error=outcome.error,
        )
        self.targets[key] = status
        if self.formatter is not None:
            self.formatter.submit(status)
        for counters in self.live:
            counters.observe(outcome)

    def scheduler_series(self) -> Iterator[exposed.Series]:
        for kind, stats in list(self.scheduling.items()):
            yield exposed.labelled("sla_scheduler_lag_seconds", stats.lag, collector=kind)
            yield exposed.labelled("sla_scheduler_skipped_ticks_total", stats.skipped_ticks, collector=kind)

    def _pieces(self) -> Iterator[list[bytes]]:
        """The /metrics text as lists of pieces: this state's own series, every target's preformatted lines, link states."""
        parts = [textformat.fragments(exposed.agent_series(self))]
        parts.extend(target.text for target in self.target_list())
        yield textformat.render_chunks(parts)
        for counters in self.live:
            yield from counters.iter_chunks()

    def render_chunks(self) -> list[bytes]:
        """The /metrics text in pieces, not joined."""
        return [piece for pieces in self._pieces() for piece in pieces]

    def render(self) -> bytes:
        return b"".join(self.render_chunks())

    def render_batches(self, size: int) -> Iterator[bytes]:
        """The /metrics text in joined batches of about ``size`` bytes, made as they are asked for.

        A scrape of the full fleet then holds one batch, not the list of every
        piece (the link states' alone were about 9 MB at 60,000 links).
        """
        batch: list[bytes] = []
        held = 0
        for pieces in self._pieces():
            for piece in pieces:
                batch.append(piece)
                held += len(piece)
                if held >= size:
                    yield b"".join(batch)
                    batch, held = [], 0
        if batch:
            yield b"".join(batch)

    def target_list(self) -> list[TargetStatus]:
        return list(self.targets.values())
