"""The Alertmanager webhook receiver: pushed alerts into the ledger's incident table (collectors/incidents/store.py).

``POST {path}`` with ``Authorization: Bearer <token>`` (there is no
unauthenticated mode) and Alertmanager's JSON notification. Answers 200
``{"stored": n, "skipped": m}``, 400 for a body that is not a notification
(nothing of it is stored), 401 unauthenticated, 413 over ``max_body``, 503 when
the ledger cannot take it (Alertmanager retries). Started by the collector's
polls; a port that cannot be bound is logged once and tried again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

from aiohttp import web

from agent.ledger import LedgerError
from collectors.base import Sample, samplers
from collectors.http import size_text
from collectors.push import PushListener, PushReceiver, PushTexts
from collectors.incidents import store
from collectors.incidents.config import AlertWebhook
from collectors.incidents.payload import PayloadError, parse
from collectors.sms.push_auth import TokenCheck

log = logging.getLogger(__name__)

RESULTS = ("stored", "unauthorized", "too_large", "malformed", "not_stored")
_S = samplers("sla_incident_webhook_up", "sla_incident_webhook_pushes_total")


class AlertReceiver(PushReceiver):
    def __init__(self, settings: AlertWebhook, ledger: Any):
        self._settings = settings
        self._check = TokenCheck(settings.token.get_secret_value())
        self._ledger = ledger
        self._listener = PushListener(
            "alertmanager webhook", settings.host, settings.port, settings.listen, settings.path, settings.max_body,
            self._receive,
            PushTexts("incidents: the Alertmanager webhook cannot listen on %s (%s); tried again on every poll",
                      "incidents: the Alertmanager webhook listening on %s again",
                      "incidents: receiving Alertmanager notifications on http://%s%s"), log)
        self.results: Counter[str] = Counter()

    def samples(self) -> tuple[Sample, ...]:
        return (_S["sla_incident_webhook_up"](value=1 if self.running else 0),
                *(_S["sla_incident_webhook_pushes_total"](result, value=self.results[result]) for result in RESULTS))

    def _answer(self, result: str, status: int, document: dict[str, object]) -> web.Response:
        self.results[result] += 1
        return web.json_response(document, status=status)

    async def _receive(self, request: web.Request) -> web.Response:
        refusal = self._check.check(request.headers, b"", 0.0)
        if refusal is not None:
            return self._answer("unauthorized", 401, {"error": refusal.message})
        limit = self._settings.max_body
        too_large = {"error": f"body larger than {size_text(limit)}"}
        if (request.content_length or 0) > limit:
            return self._answer("too_large", 413, too_large)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._answer("too_large", 413, too_large)
        try:
            alerts, skipped = parse(body, self._settings.network_labels, self._settings.skip_labels)
        except PayloadError as exc:
            return self._answer("malformed", 400, {"error": str(exc)})
        try:
            await asyncio.to_thread(self._ledger.ensure_schema, store.SCHEMA)
            stored = await asyncio.to_thread(self._ledger.write, lambda db: store.save(db, alerts))
        except LedgerError as exc:
            log.warning("incidents: pushed alerts not stored (answering 503): %s", str(exc).splitlines()[0])
            return self._answer("not_stored", 503, {"error": "not stored, retry later"})
        return self._answer("stored", 200, {"stored": stored, "skipped": skipped})
