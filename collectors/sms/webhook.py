"""Optional receiver for delivery reports the gateway pushes (aiohttp server route).

Pushed reports go through the same parse -> dedup -> aggregate -> ledger path
as the pull feed, so a report that arrives both ways counts once. The feed
cursor is not touched: pushes are a faster path, the feed stays the record.

``POST {path}`` with a JSON list of records (or ``{"records": [...]}``, or
one record); ``Authorization: Bearer <token>`` when a token is configured.
Answers 200 ``{"accepted": n, "skipped": {...}}``, 400 for a body that is not
JSON of that shape, 401 for a wrong token, 413 for a body over 8 MiB, 503
when the ledger cannot take it (the gateway should retry then).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import TYPE_CHECKING, Callable

from aiohttp import web

from agent.ledger import LedgerError
from collectors.base import CollectorError
from collectors.sms.config import SmsGateway
from collectors.sms.records import PageError, parse_reports

if TYPE_CHECKING:
    from collectors.sms.store import SmsStore

log = logging.getLogger(__name__)

MAX_PUSH = 8 * 2**20


class WebhookServer:
    """The listener of one gateway's pushed reports; started by the collector's first poll."""

    def __init__(self, gateway: SmsGateway, store: "SmsStore", clock: Callable[[], float]):
        assert gateway.webhook is not None
        self._gateway = gateway
        self._settings = gateway.webhook
        self._store = store
        self._clock = clock
        self._runner: web.AppRunner | None = None
        self.received = 0  # batches accepted, for tests and diagnostics

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def ensure_started(self) -> None:
        """Listen if not yet listening; CollectorError (one line) when the address cannot be bound."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=MAX_PUSH)
        app.router.add_post(self._settings.path, self._receive)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._settings.host, self._settings.port).start()
        except OSError as exc:
            await runner.cleanup()
            raise CollectorError(f"webhook cannot listen on {self._settings.listen}: {exc.strerror or exc}") from None
        self._runner = runner
        log.info("sms gateway %s: receiving pushed reports on http://%s%s",
                 self._gateway.name, self._settings.listen, self._settings.path)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def _authorized(self, request: web.Request) -> bool:
        token = self._settings.token
        if token is None:
            return True
        given = request.headers.get("Authorization", "")
        expected = "Bearer " + token.get_secret_value()
        return hmac.compare_digest(given.encode(), expected.encode())

    async def _receive(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"error": f"body larger than {MAX_PUSH} bytes"}, status=413)
        now = self._clock()
        try:
            records, skipped = parse_reports(body, int(now * 1000))
        except PageError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        try:
            result = await asyncio.to_thread(self._store.ingest, self._gateway.name, records, now, skipped=skipped)
        except LedgerError as exc:  # the ledger refused: the gateway should push again later
            log.warning("sms gateway %s: pushed reports not stored: %s", self._gateway.name, type(exc).__name__)
            return web.json_response({"error": "not stored, retry later"}, status=503)
        self.received += 1
        return web.json_response({"accepted": result.accepted, "skipped": dict(result.skipped)})
