"""The SMS canary: a real test message sent through the gateway's submit API, timed end to end.

One target per gateway with a ``canary:`` block, named ``<gateway>/canary``,
under its own collector kind (``sms_canary``), so the scheduler runs it on the
canary's interval like any other target and gives it ``sla_target_up``, the
poll duration and the once-per-change log lines.

A probe submits ``{"to", "text"}`` to ``POST {url}/v1/messages`` (retried on
5xx / 429 / connection errors per the gateway's ``retries``, within the
gateway's ``timeout``), then asks ``GET {url}/v1/messages/{id}`` every
:data:`STEP` seconds until the answer shows a final status or the canary's
``timeout`` has passed since the submit. The latency is the agent's own
(monotonic) clock from just before the submit request to the first answer
showing the message delivered, so its resolution is the poll step.

Outcomes: delivered (the poll succeeds, latency recorded); failed / expired
(the poll succeeds: the gateway answered, the message did not get through,
``sla_sms_canary_delivered`` is 0, logged once on change); a refused or
failing submit, a failing status API, or no final status within the timeout
are failed probes: the poll fails (target up 0) with one line naming the
problem. The probe number is only ever in the submit request's body: never
in a URL, an error, a log line or a sample.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence
from urllib.parse import quote

from yarl import URL

from collectors.base import (
    CollectorError,
    Observation,
    PollResult,
    Sample,
    Target,
    samplers,
)
from collectors.http import KIB, HttpClients, JsonHttp, decode_json
from collectors.sms.collector import SmsTarget, check_status
from collectors.sms.config import SmsGateway
from collectors.sms.records import (
    DELIVERED,
    EXPIRED,
    FAILED,
    MAX_ID,
    OUTCOMES,
    PENDING,
    STATUS,
    clean_code,
)

log = logging.getLogger(__name__)

SUBMIT_PATH = "/v1/messages"
STEP = 0.5  # seconds between status requests: the latency's resolution
POLL_SLACK = 1.0  # seconds beyond the canary's timeout for the scheduler's own bound
LAST_ANSWER = 0.4  # seconds the status request sent at the deadline may take to answer
USER_AGENT = "sla-agent sms canary"
MAX_ANSWER = 64 * KIB  # a submit or status answer is one record: well under a kilobyte
SERVICE = "sms canary"
TARGET_SUFFIX = "/canary"
SUBMIT, STATUS_API, TIMEOUT = "submit", "status", "timeout"
REASONS = (SUBMIT, STATUS_API, TIMEOUT, OUTCOMES[FAILED], OUTCOMES[EXPIRED])


def target_name(gateway: str) -> str:
    return gateway + TARGET_SUFFIX


@dataclass(slots=True)
class _State:
    probes: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    latency: float | None = None  # of the last delivered probe
    last_final: str | None = None  # delivered / failed / expired, of the last probe with a final status


@dataclass(frozen=True, slots=True)
class Probe:
    """A probe that got a final status."""

    message_id: str
    outcome: int  # DELIVERED, FAILED or EXPIRED
    latency: float  # agent-clock seconds from before the submit to the answer showing the final status
    code: str | None
    status_requests: int


class _Failed(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


_S = samplers(
    "sla_sms_canary_latency_seconds", "sla_sms_canary_delivered",
    "sla_sms_canary_probes_total", "sla_sms_canary_failures_total",
)


class SmsCanaryCollector:
    """Synthetic canaries of SMS gateways (collectors.base.Collector); kind ``sms_canary``."""

    kind = "sms_canary"

    def __init__(self, gateways: Sequence[SmsGateway], *, backoff_base: float = 0.5, step: float = STEP) -> None:
        self._backoff = backoff_base
        self._step = step
        self._targets = tuple(
            SmsTarget(target_name(g.name), g.canary.interval, g.canary.timeout + POLL_SLACK, g)
            for g in gateways if g.canary is not None
        )
        self._state = {t.gateway.name: _State() for t in self._targets}
        self._http = HttpClients(USER_AGENT, limit=8, limit_per_host=4)

    def targets(self) -> Sequence[SmsTarget]:
        return self._targets

    def unknown(self, target: Target) -> tuple[Observation, ...]:
        return ()  # the canary writes no ledger series: the SMS KPIs come from the feed

    async def close(self) -> None:
        await self._http.close()

    async def poll(self, target: Target) -> PollResult:
        """One probe; CollectorError (one line, where it failed) when it could not show a final status."""
        if not isinstance(target, SmsTarget):
            raise CollectorError(f"not an SMS canary target: {target.name}")
        gateway = target.gateway
        assert gateway.canary is not None
        state = self._state[gateway.name]
        state.probes += 1
        try:
            async with asyncio.timeout(gateway.canary.timeout + POLL_SLACK / 2):
                probe = await self.probe(gateway)
        except _Failed as exc:
            state.failures[exc.reason] += 1
            raise CollectorError(str(exc)) from None  # the scheduler's line names the target
        except TimeoutError:
            state.failures[TIMEOUT] += 1
            raise CollectorError(f"probe did not finish within {gateway.canary.timeout:g}s") from None
        outcome = OUTCOMES[probe.outcome]
        if probe.outcome == DELIVERED:
            state.latency = probe.latency
            if state.last_final not in (None, outcome):
                log.info("sms gateway %s canary: delivered again (message %s, %.1fs)",
                         gateway.name, probe.message_id, probe.latency)
        else:
            state.failures[outcome] += 1
            if state.last_final != outcome:
                log.warning("sms gateway %s canary: message %s %s (code %s) after %.1fs",
                            gateway.name, probe.message_id, outcome, probe.code or "none", probe.latency)
        state.last_final = outcome
        return PollResult((), self.samples(gateway.name))

    async def probe(self, gateway: SmsGateway) -> Probe:
        """Submit one canary message and wait for its final status; _Failed on any failure."""
        canary = gateway.canary
        assert canary is not None
        loop = asyncio.get_running_loop()
        session = self._http.session()
        try:
            ssl = self._http.ssl_for(gateway.name, gateway.verify_tls, gateway.ca_file)
        except CollectorError as exc:
            raise _Failed(SUBMIT, str(exc)) from None
        headers = {"Accept": "application/json"}
        if gateway.api_key is not None:
            headers["Authorization"] = "Bearer " + gateway.api_key.get_secret_value()
        base = gateway.url + SUBMIT_PATH

        started = loop.time()  # just before the submit request: the latency's zero
        deadline = started + canary.timeout
        submit_budget = min(canary.timeout, gateway.timeout)
        http = JsonHttp(session, deadline=started + submit_budget, timeout=submit_budget, retries=gateway.retries,
                        max_body=MAX_ANSWER, ssl=ssl, backoff_base=self._backoff)
        body = {"to": canary.to.get_secret_value(), "text": canary.text}
        try:
            response = await http.request(SERVICE, "POST", URL(base), headers, json_body=body)
            check_status(response)
            message_id = _message_id(await decode_json(response), response.where)
        except CollectorError as exc:
            raise _Failed(SUBMIT, f"submit failed: {exc}") from None

        status_url = URL(base + "/" + quote(message_id, safe=""), encoded=True)
        max_requests = math.ceil(canary.timeout / self._step) + 1
        problem: str | None = None
        answers = 0
        requests = 0
        next_at = started + self._step
        while requests < max_requests:
            at = min(next_at, deadline)  # the last request goes out at the deadline
            now = loop.time()
            if at > now:
                await asyncio.sleep(at - now)
            requests += 1
            http = JsonHttp(session, deadline=min(deadline + LAST_ANSWER, loop.time() + gateway.timeout),
                            timeout=gateway.timeout, retries=0, max_body=MAX_ANSWER, ssl=ssl,
                            backoff_base=self._backoff)
            try:
                response = await http.request(SERVICE, "GET", status_url, headers)
            except CollectorError as exc:  # transient (5xx, 429, connection): ask again on the next step
                problem = str(exc)
            else:
                answered = loop.time()
                try:
                    check_status(response)
                    outcome, code = _status_of(await decode_json(response), response.where)
                except CollectorError as exc:
                    raise _Failed(STATUS_API, f"message {message_id}: {exc}") from None
                answers += 1
                if outcome != PENDING:
                    return Probe(message_id, outcome, answered - started, code, requests)
            if at >= deadline:
                break
            next_at = max(next_at + self._step, loop.time())
        if answers == 0 and problem is not None:
            raise _Failed(STATUS_API, f"message {message_id}: status unavailable for {canary.timeout:g}s ({problem})")
        raise _Failed(TIMEOUT, f"message {message_id}: no final status within {canary.timeout:g}s of the submit")

    def samples(self, gateway: str) -> tuple[Sample, ...]:
        state = self._state[gateway]
        out = [_S["sla_sms_canary_probes_total"](gateway, value=state.probes)]
        out += [_S["sla_sms_canary_failures_total"](gateway, reason, value=state.failures[reason]) for reason in REASONS]
        if state.last_final is not None:
            out.append(_S["sla_sms_canary_delivered"](gateway, value=1 if state.last_final == "delivered" else 0))
        if state.latency is not None:
            out.append(_S["sla_sms_canary_latency_seconds"](gateway, value=state.latency))
        return tuple(out)


def _message_id(document: Any, where: str) -> str:
    """The id of a submit answer ``{"id": ...}``; never echoes the body (it may repeat the number)."""
    value = document.get("id") if isinstance(document, dict) else None
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip() or len(str(value)) > MAX_ID:
        raise CollectorError(f"{where}: the answer has no message id (expected {{\"id\": \"...\"}})")
    return str(value).strip()


def _status_of(document: Any, where: str) -> tuple[int, str | None]:
    """(outcome, error code) of a status answer, in the feed's record shape."""
    status = document.get("status") if isinstance(document, dict) else None
    outcome = STATUS.get(status.strip().lower()) if isinstance(status, str) else None
    if outcome is None:
        shown = repr(status)[:40] if isinstance(status, str) else "missing"
        raise CollectorError(f"{where}: unknown or missing status ({shown})")
    return outcome, clean_code(document.get("error_code")) if outcome in (FAILED, EXPIRED) else None
