"""The SMS-gateway collector: reads each gateway's delivery-record feed incrementally.

One target per gateway. A poll reads pages from the stored cursor until the
feed is caught up (or the poll's page / time budget is spent: the rest waits
for the next poll, nothing is lost), and each page is parsed, deduplicated,
aggregated and committed together with the next cursor in one ledger
transaction, off the event loop. A poll that fails (5xx after retries,
unreachable, malformed page) commits nothing of the failed page, so the next
poll asks for the same page again: no gap and no double count.

A cursor the gateway no longer knows (``410 Gone``, or a page from another
feed ``epoch``) is a reset: the feed is re-read by time from ``margin`` before
where it stood, and the per-message dedup state drops what was already counted.

Each committed page also extends the feed time known read without a gap, and a
reset breaks it (collectors/sms/coverage.py): that record, not poll success,
is the SMS KPIs' coverage. Ledger series ``sms:<gateway>:feed`` (1.0 when the
poll succeeded; the scheduler records None for a failed poll) stays a record of
the polls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Sequence

from prometheus_client.utils import floatToGoString
from yarl import URL

from agent.ledger import LedgerError
from collectors.sms.series import sms_feed
from collectors.base import (
    CollectorError,
    Observation,
    PollResult,
    Sample,
    Target,
    samplers,
)
from collectors.http import HttpClients, JsonHttp, Response
from collectors.sms import coverage, latency
from collectors.sms.config import SmsGateway, check_gateways, max_page_body
from collectors.sms.records import BAD_TIMESTAMP, MALFORMED, PageError, parse_page
from collectors.sms.store import (
    DUPLICATE,
    KEEP,
    STALE,
    UNMATCHED,
    LedgerLike,
    Policy,
    SmsStore,
)
from collectors.sms.webhook import WebhookServer

log = logging.getLogger(__name__)

POLL_SLACK = 1.0  # seconds beyond the gateway's timeout for the scheduler's own bound
USER_AGENT = "sla-agent sms collector"
FEED_PATH = "/v1/delivery-records"
SKIP_REASONS = (MALFORMED, BAD_TIMESTAMP, DUPLICATE, STALE, UNMATCHED)


@dataclass(frozen=True, slots=True, eq=False)
class SmsTarget:
    """One gateway's feed, or its canary (implements collectors.base.Target)."""

    name: str
    interval: float
    poll_timeout: float
    gateway: SmsGateway = field(repr=False)


_S = samplers(
    "sla_sms_submitted_total", "sla_sms_delivered_total", "sla_sms_failed_total", "sla_sms_expired_total",
    "sla_sms_errors_total", "sla_sms_pending", "sla_sms_unmatched_reports", "sla_sms_records_skipped_total",
    "sla_sms_cursor_resets_total", "sla_sms_feed_lag_seconds",
)
_HIST = "sla_sms_send_latency_seconds"
_LE_LABELS = tuple(floatToGoString(bound) for bound in latency.LE_BOUNDS) + ("+Inf",)  # "10.0" as Prometheus writes it


def policy_of(gateway: SmsGateway) -> Policy:
    return Policy(int(gateway.grace * 1000), int(gateway.margin * 1000), gateway.max_error_codes)


class SmsCollector:
    """Polls SMS gateways' delivery-record feeds (collectors.base.Collector); kind ``sms``."""

    kind = "sms"

    def __init__(
        self,
        gateways: Sequence[SmsGateway],
        ledger: LedgerLike,
        *,
        clock: Callable[[], float] = time.time,
        backoff_base: float = 0.5,
    ) -> None:
        problems = check_gateways(gateways)
        if problems:
            raise ValueError("; ".join(f"{path}: {message}" for path, message in problems))
        self._clock = clock
        self._backoff = backoff_base
        self.store = SmsStore(ledger, {g.name: policy_of(g) for g in gateways})
        self._targets = tuple(
            SmsTarget(g.name, g.interval, g.timeout + POLL_SLACK, g) for g in gateways
        )
        self._webhooks = {
            g.name: WebhookServer(g, self.store, clock) for g in gateways if g.webhook is not None
        }
        self._http = HttpClients(USER_AGENT, limit=16)

    def targets(self) -> Sequence[SmsTarget]:
        return self._targets

    def unknown(self, target: Target) -> tuple[Observation, ...]:
        return (Observation(sms_feed(target.name), None),)

    async def close(self) -> None:
        for webhook in self._webhooks.values():
            await webhook.stop()
        await self._http.close()

    async def forget(self, target: Target) -> None:
        """A reload stopped polling ``target``: free its webhook's address for the gateway's new definition."""
        webhook = self._webhooks.get(target.name)
        if webhook is not None:
            await webhook.stop()

    async def poll(self, target: Target) -> PollResult:
        """Read the feed until caught up or out of budget; CollectorError (prefixed with the gateway) on failure."""
        if not isinstance(target, SmsTarget):
            raise CollectorError(f"not an SMS target: {target.name}")
        gateway = target.gateway
        webhook = self._webhooks.get(gateway.name)
        if webhook is not None:
            await webhook.ensure_started()  # its own state (sla_sms_webhook_up): never fails the feed poll
        try:
            async with asyncio.timeout(gateway.timeout + POLL_SLACK / 2):
                await self._read_feed(gateway)
        except TimeoutError:
            # The scheduler's log line names the target; the message says only what went wrong.
            raise CollectorError(f"poll did not finish within {gateway.timeout:g}s") from None
        except LedgerError as exc:  # e.g. the disk is full: an expected fault, logged once by the scheduler
            raise CollectorError(f"ledger cannot store the page: {str(exc).splitlines()[0]}") from None
        webhook_samples = webhook.samples() if webhook is not None else ()
        return PollResult((Observation(sms_feed(gateway.name), 1.0),), self.samples(gateway.name) + webhook_samples)

    async def _read_feed(self, gateway: SmsGateway) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        http = JsonHttp(
            self._http.session(), deadline=started + gateway.timeout, timeout=gateway.timeout,
            retries=gateway.retries, ssl=self._http.ssl_for(gateway.name, gateway.verify_tls, gateway.ca_file), backoff_base=self._backoff,
            max_body=max_page_body(gateway),
        )
        headers = {"Accept": "application/json"}
        if gateway.api_key is not None:
            headers["Authorization"] = "Bearer " + gateway.api_key.get_secret_value()
        base = URL(gateway.url + FEED_PATH)
        for page_number in range(gateway.max_pages):
            # Start another page only while half the budget is left: a poll that
            # made progress ends as a success, and the next poll goes on from the cursor.
            if page_number and loop.time() - started > gateway.timeout / 2:
                return
            feed = self.store.feed(gateway.name)
            # Taken before the request: a caught-up answer has every record that entered before it.
            asked_ms = int(self._clock() * 1000)
            query = {"limit": str(gateway.page_size)}
            since: int | None = None
            if feed.cursor is not None:
                query["after"] = feed.cursor
            else:
                since = (feed.feed_time_ms - int(gateway.margin * 1000) if feed.feed_time_ms is not None
                         else asked_ms - int(gateway.backfill * 1000))
                query["since"] = str(since)
            response = await http.request("sms", "GET", base.with_query(query), headers)
            if response.status == 410 and feed.cursor is not None:
                await self._reset(gateway, "the gateway no longer knows the cursor (HTTP 410)",
                                  coverage.Reset(coverage.GONE, asked_ms))
                continue
            check_status(response)
            done = await asyncio.to_thread(self._ingest_page, gateway, response, feed.cursor, asked_ms, since)
            if done:
                return

    def _ingest_page(self, gateway: SmsGateway, response: Response, cursor_used: str | None,
                     asked_ms: int, since: int | None) -> bool:
        """Parse and commit one page (worker thread); True when the feed is caught up."""
        now = self._clock()
        try:
            page = parse_page(response.body, int(now * 1000))
        except PageError as exc:
            raise CollectorError(f"{response.where}: {exc}") from None
        feed = self.store.feed(gateway.name)
        new_epoch = feed.epoch is not None and page.epoch is not None and page.epoch != feed.epoch
        if cursor_used is not None and new_epoch:
            # Another feed behind the same URL (rebuilt, failed over): the cursor
            # means nothing there, so this page cannot be placed. Re-read by time.
            log.warning("sms gateway %s: feed epoch changed; re-reading from %gs before the last position",
                        gateway.name, gateway.margin)
            self.store.ingest(gateway.name, [], now, cursor=None, epoch=page.epoch,
                              progress=coverage.Reset(coverage.EPOCH, asked_ms))
            return False
        read = coverage.read_of(asked_ms, since, [r.event_ms for r in page.records], not page.has_more, new_epoch)
        result = self.store.ingest(
            gateway.name, page.records, now, skipped=page.skipped,
            cursor=page.next_cursor if page.next_cursor is not None else cursor_used,
            epoch=page.epoch if page.epoch is not None else KEEP, feed_time_ms=read.complete_ms, progress=read,
        )
        if result.gap is not None:
            start, end = result.gap
            log.warning("sms gateway %s: %.3fs of feed time not known complete (%s to %s): its records may be lost",
                        gateway.name, (end - start) / 1000, _iso(start), _iso(end))
        return not page.has_more or (page.next_cursor is None)

    async def _reset(self, gateway: SmsGateway, why: str, reset: coverage.Reset) -> None:
        log.warning("sms gateway %s: cursor reset (%s); re-reading from %gs before the last position",
                    gateway.name, why, gateway.margin)
        await asyncio.to_thread(self.store.ingest, gateway.name, [], self._clock(), cursor=None, progress=reset)

    def samples(self, gateway: str) -> tuple[Sample, ...]:
        """Counters and gauges of one gateway from the store's lifetime totals (survive restarts)."""
        snap = self.store.snapshot(gateway)
        totals = snap.totals
        out = [
            _S["sla_sms_submitted_total"](gateway, value=totals.get("submitted", 0)),
            _S["sla_sms_delivered_total"](gateway, value=totals.get("delivered", 0)),
            _S["sla_sms_failed_total"](gateway, value=totals.get("failed", 0)),
            _S["sla_sms_expired_total"](gateway, value=totals.get("expired", 0)),
            _S["sla_sms_pending"](gateway, value=snap.pending),
            _S["sla_sms_unmatched_reports"](gateway, value=snap.waiting_reports),
            _S["sla_sms_cursor_resets_total"](gateway, value=totals.get("cursor_resets", 0)),
        ]
        for key in sorted(k for k in totals if k.startswith("code:")):
            out.append(_S["sla_sms_errors_total"](gateway, key[5:], value=totals[key]))
        for reason in SKIP_REASONS:
            out.append(_S["sla_sms_records_skipped_total"](gateway, reason, value=totals.get("skipped:" + reason, 0)))
        feed_time = self.store.feed(gateway).feed_time_ms
        if feed_time is not None:
            out.append(_S["sla_sms_feed_lag_seconds"](gateway, value=max(0.0, self._clock() - feed_time / 1000)))
        running = 0.0
        for i, le in enumerate(_LE_LABELS):
            running += totals.get(f"le:{i}", 0)
            out.append(Sample(_HIST + "_bucket", (("gateway", gateway), ("le", le)), running))
        out.append(Sample(_HIST + "_sum", (("gateway", gateway),), totals.get("latency_ms", 0) / 1000.0))
        out.append(Sample(_HIST + "_count", (("gateway", gateway),), running))
        return tuple(out)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds")


def check_status(response: Response) -> None:
    """Raise the one-line CollectorError for a refused key or a non-2xx answer."""
    if response.status in (401, 403):
        raise CollectorError(f"{response.where}: HTTP {response.status}: API key rejected (check api_key)")
    if not 200 <= response.status < 300:
        raise CollectorError(f"{response.where}: HTTP {response.status} {response.reason}".rstrip())
