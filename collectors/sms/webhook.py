"""Optional receiver for delivery reports the gateway pushes (aiohttp server route).

Pushed reports go through the same parse -> dedup -> aggregate -> ledger path
as the pull feed, so a report that arrives both ways counts once. The feed
cursor is not touched: pushes are a faster path, the feed stays the record.

``POST {path}`` with a JSON list of records (or ``{"records": [...]}``, or
one record), authenticated by a Bearer token or an HMAC signature
(collectors/sms/push_auth.py); there is no unauthenticated mode. Answers 200
``{"accepted": n, "skipped": {...}}``, 400 for a body that is not JSON of that
shape, 401 unauthenticated, 409 a replayed signature, 413 a body over the
webhook's ``max_body``, 503 when the ledger cannot take it (the gateway should
retry then). The body is parsed in a parsing thread, never on the event loop.

The listener is started by the feed's polls and its failure is its own: a
port that cannot be bound leaves ``sla_sms_webhook_up`` at 0, is logged once
(and once when it binds again), is tried again on the next poll, and never
fails the feed poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import TYPE_CHECKING, Callable

from aiohttp import web

from agent.ledger import LedgerError
from collectors.base import Sample, samplers
from collectors.http import size_text
from collectors.push import PushListener, PushReceiver, PushTexts
from collectors.parsing import off_loop
from collectors.sms.config import SmsGateway
from collectors.sms.push_auth import BUSY, REPLAYED, UNAUTHORIZED, push_check
from collectors.sms.records import PageError, parse_reports

if TYPE_CHECKING:
    from collectors.sms.store import SmsStore

log = logging.getLogger(__name__)

ACCEPTED, TOO_LARGE, MALFORMED, NOT_STORED = "accepted", "too_large", "malformed", "not_stored"
RESULTS = (ACCEPTED, UNAUTHORIZED, REPLAYED, TOO_LARGE, MALFORMED, NOT_STORED, BUSY)

_S = samplers("sla_sms_webhook_up", "sla_sms_webhook_pushes_total")


class WebhookServer(PushReceiver):
    """The listener of one gateway's pushed reports; started by the collector's polls."""

    def __init__(self, gateway: SmsGateway, store: "SmsStore", clock: Callable[[], float]):
        assert gateway.webhook is not None
        self._gateway = gateway
        self._settings = gateway.webhook
        self._check = push_check(gateway.webhook)  # ValueError without authentication: never listen open
        self._store = store
        self._clock = clock
        name = gateway.name
        self._listener = PushListener(
            f"sms gateway {name} webhook", self._settings.host, self._settings.port, self._settings.listen,
            self._settings.path, self._settings.max_body, self._receive,
            PushTexts(f"sms gateway {name}: webhook cannot listen on %s (%s); the feed is still read, and the "
                      "webhook is tried again on every poll",
                      f"sms gateway {name}: webhook listening on %s again",
                      f"sms gateway {name}: receiving pushed reports on http://%s%s"), log)
        self._store_failing = False
        self.results: Counter[str] = Counter()
        self.received = 0  # batches accepted, for tests and diagnostics

    def samples(self) -> tuple[Sample, ...]:
        name = self._gateway.name
        return (_S["sla_sms_webhook_up"](name, value=1 if self.running else 0),
                *(_S["sla_sms_webhook_pushes_total"](name, result, value=self.results[result]) for result in RESULTS))

    def _answer(self, result: str, status: int, document: dict[str, object]) -> web.Response:
        self.results[result] += 1
        return web.json_response(document, status=status)

    async def _receive(self, request: web.Request) -> web.Response:
        now = self._clock()
        limit = self._settings.max_body
        if not self._check.needs_body and (refusal := self._check.check(request.headers, b"", now)) is not None:
            return self._answer(refusal.reason, refusal.status, {"error": refusal.message})
        too_large = {"error": f"body larger than {size_text(limit)}"}
        if (request.content_length or 0) > limit:
            return self._answer(TOO_LARGE, 413, too_large)  # refused before reading it
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._answer(TOO_LARGE, 413, too_large)
        if self._check.needs_body and (refusal := self._check.check(request.headers, body, now)) is not None:
            return self._answer(refusal.reason, refusal.status, {"error": refusal.message})
        try:
            records, skipped = await off_loop(parse_reports, body, int(now * 1000))
        except PageError as exc:
            return self._answer(MALFORMED, 400, {"error": str(exc)})
        try:
            result = await asyncio.to_thread(self._store.ingest, self._gateway.name, records, now, skipped=skipped)
        except LedgerError as exc:  # the ledger refused: the gateway should push again later
            self._check.forget(request.headers)  # so the same signed push may come again
            if not self._store_failing:
                log.warning("sms gateway %s: pushed reports not stored (answering 503 until the ledger takes "
                            "them again): %s", self._gateway.name, str(exc).splitlines()[0])
                self._store_failing = True
            return self._answer(NOT_STORED, 503, {"error": "not stored, retry later"})
        if self._store_failing:
            log.info("sms gateway %s: pushed reports stored again", self._gateway.name)
            self._store_failing = False
        self.received += 1
        return self._answer(ACCEPTED, 200, {"accepted": result.accepted, "skipped": dict(result.skipped)})
