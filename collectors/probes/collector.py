"""The HTTP probe collector: one target per configured probe (collectors.base.Collector, kind ``probe``).

A probe's outcome is the measurement: a service that times out, refuses the
connection or answers wrongly is down (0), and the poll itself succeeds. Only
what keeps the agent from probing at all (an unreadable ``ca_file``) fails the
poll, and the probe's state is then unknown: the agent cannot vouch for the
service either way.

Ledger series: ``probe:<name>:up``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass, field
from typing import Sequence

import aiohttp

from collectors.base import CollectorError, Observation, PollResult, Sample, Target, samplers
from collectors.probes.config import Probe, check_probes
from collectors.probes.probe import PHASES, REASONS, Outcome, make_session, run_probe, tls_context
from collectors.probes.series import probe_up

log = logging.getLogger(__name__)

POLL_SLACK = 1.0  # seconds beyond the probe's timeout for the scheduler's own bound


@dataclass(frozen=True, slots=True, eq=False)
class ProbeTarget:
    """One probe (implements collectors.base.Target)."""

    name: str
    interval: float
    poll_timeout: float
    probe: Probe = field(repr=False)


_S = samplers("sla_probe_success", "sla_probe_phase_duration_seconds", "sla_probe_http_status_code",
              "sla_probe_tls_certificate_expiry_timestamp_seconds", "sla_probe_successes_total",
              "sla_probe_failures_total")


class ProbeCollector:
    """Runs the configured HTTP probes."""

    kind = "probe"

    def __init__(self, probes: Sequence[Probe]) -> None:
        problems = check_probes(probes)
        if problems:
            raise ValueError("; ".join(f"{path}: {message}" for path, message in problems))
        self._targets = tuple(ProbeTarget(p.name, p.interval, p.timeout + POLL_SLACK, p) for p in probes)
        self._tls: dict[str, ssl.SSLContext | bool] = {}  # per probe, made on its first poll
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        # Counters since the agent started, per probe (and reason): bounded by the config and REASONS.
        self._successes: dict[str, int] = {p.name: 0 for p in probes}
        self._failures: dict[str, dict[str, int]] = {p.name: {} for p in probes}
        self._last_success: dict[str, bool] = {}  # for logging a change of outcome once, not every probe

    def targets(self) -> Sequence[ProbeTarget]:
        return self._targets

    def unknown(self, target: Target) -> tuple[Observation, ...]:
        return (Observation(probe_up(target.name), None),)

    def _client(self) -> aiohttp.ClientSession:
        # Bound to the running loop, as aiohttp requires; shared by every probe (no connection is kept).
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = make_session()
            self._session_loop = loop
        return self._session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def poll(self, target: Target) -> PollResult:
        if not isinstance(target, ProbeTarget):
            raise CollectorError(f"not a probe target: {target.name}")
        probe = target.probe
        tls = self._tls.get(probe.name)
        if tls is None:
            tls = self._tls[probe.name] = tls_context(probe)  # an unreadable ca_file: CollectorError, unknown
        outcome = await run_probe(self._client(), probe, tls)
        return self._result(probe, outcome)

    def _result(self, probe: Probe, outcome: Outcome) -> PollResult:
        name = probe.name
        if self._last_success.get(name, True) != outcome.success:  # the first success is not news
            if outcome.success:
                log.info("probe %s succeeds again", name)
            else:
                log.warning("probe %s fails (%s): %s", name, outcome.reason, outcome.message)
        self._last_success[name] = outcome.success
        if outcome.success:
            self._successes[name] = self._successes.get(name, 0) + 1
        else:
            failures = self._failures.setdefault(name, {})
            failures[outcome.reason] = failures.get(outcome.reason, 0) + 1
        samples: list[Sample] = [
            _S["sla_probe_success"](name, probe.business_system, value=1 if outcome.success else 0),
            _S["sla_probe_http_status_code"](name, value=outcome.status or 0),
            _S["sla_probe_successes_total"](name, value=self._successes.get(name, 0)),
        ]
        samples += [_S["sla_probe_failures_total"](name, reason, value=self._failures[name].get(reason, 0))
                    for reason in REASONS if reason != "ok"]
        samples += [_S["sla_probe_phase_duration_seconds"](name, phase, value=outcome.phases[phase])
                    for phase in PHASES if phase in outcome.phases]
        if outcome.certificate_expiry is not None:
            samples.append(_S["sla_probe_tls_certificate_expiry_timestamp_seconds"](name, value=outcome.certificate_expiry))
        return PollResult((Observation(probe_up(name), 1.0 if outcome.success else 0.0),), tuple(samples))
