"""The contract every collector fulfils.

A collector polls one kind of source (SNMP devices, a cloud API, an SMS
gateway, ...). The scheduler owns timing, timeouts, concurrency and the ledger;
a collector only turns one poll of one target into a :class:`PollResult`.
Adding a source is one module implementing :class:`Collector`, one config
model, and its tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, Sequence, runtime_checkable

from agent.metrics import METRICS


class CollectorError(Exception):
    """The one error type a poll raises.

    The message is a single line that names the problem and never contains a
    secret (community, key, token): it is logged and shown as-is. It names
    where the poll failed (``10.0.0.1:161: ...``, ``placement GET URL: ...``),
    not the target: the scheduler's log line (``KIND target NAME is unknown:
    MESSAGE``) and the target's status already carry the name.
    """


# Observation and Sample are NamedTuples, not frozen dataclasses: a poll of the
# full fleet builds about 600,000 of them every 30 s, and a tuple is built in half the time.
class Observation(NamedTuple):
    """The value of one ledger series at poll time.

    ``value`` is None when the poll could not tell (unknown): unknown time is
    neither up nor down and is accounted separately as lack of coverage.
    """

    series: str
    value: float | None


Labels = tuple[tuple[str, str], ...]


class Sample(NamedTuple):
    """One metric sample for /metrics; ``name`` must be in agent.metrics.METRICS."""

    name: str
    labels: Labels
    value: float


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one successful poll of one target produced."""

    observations: tuple[Observation, ...] = ()
    samples: tuple[Sample, ...] = ()
    # Counted into sla_collector_discontinuities_total (counter resets, reboots).
    discontinuities: int = 0


@runtime_checkable
class Target(Protocol):
    """What the scheduler needs to know about a target."""

    @property
    def name(self) -> str: ...

    @property
    def interval(self) -> float:
        """Seconds between polls."""

    @property
    def poll_timeout(self) -> float:
        """Upper bound for one whole poll, retries included, in seconds."""


@runtime_checkable
class Collector(Protocol):
    """One source kind. ``kind`` becomes the ``collector`` label."""

    kind: str

    def targets(self) -> Sequence[Target]:
        """The targets to poll, each on its own interval."""

    async def poll(self, target: Target) -> PollResult:
        """Poll one target once; raise CollectorError on any failure."""

    def unknown(self, target: Target) -> tuple[Observation, ...]:
        """Observations that a failed poll of ``target`` turns unknown."""

    async def close(self) -> None:
        """Release sockets and engines."""

    # Optional: ``def shared_samples(self) -> tuple[Sample, ...]`` - samples that belong to
    # no one target (e.g. replies discarded across all devices); read after each poll.


@dataclass(frozen=True, slots=True)
class Samples:
    """Helper to build label tuples in a fixed order without repetition."""

    name: str
    label_names: tuple[str, ...] = field(default_factory=tuple)

    def __call__(self, *label_values: str, value: float) -> Sample:
        return Sample(self.name, tuple(zip(self.label_names, label_values)), float(value))


def sampler(name: str) -> Samples:
    """A sample builder for metric ``name`` with the label order agent.metrics declares."""
    return Samples(name, METRICS[name].labels)


def samplers(*names: str) -> dict[str, Samples]:
    return {name: sampler(name) for name in names}
