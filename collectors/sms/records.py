"""Delivery records as the gateway sends them -> validated :class:`Record` values (pure).

A page of the pull feed (``GET /v1/delivery-records``) and a pushed batch of
delivery reports (the webhook) share one record shape; see docs/sms.md. The
page itself must be well-formed JSON of the documented shape, else the whole
page is refused (:class:`PageError`) and the cursor stays where it was. A bad
*record* inside a good page is skipped and counted by reason, so one odd
record cannot stall the feed.

Timestamps are the gateway's own (submit accepted, delivery report received),
in integer Unix milliseconds or RFC 3339 strings. SMPP receipts' ``submit
date`` / ``done date`` are minute-resolution and are not used for latency.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from collectors.parsing import JsonProblem, loads

# Outcomes, also stored in the ledger (collectors/sms/store.py).
PENDING, DELIVERED, FAILED, EXPIRED = 0, 1, 2, 3
OUTCOMES = {DELIVERED: "delivered", FAILED: "failed", EXPIRED: "expired"}

# Vendor spellings accepted for ``status`` (case-insensitive): ours, SMPP 3.4
# message states (DELIVRD, UNDELIV, ...) and the SUCCESS / FAIL of Chinese cloud SMS APIs.
STATUS = {
    "pending": PENDING, "enroute": PENDING, "accepted": PENDING, "acceptd": PENDING, "submitted": PENDING,
    "sent": PENDING,
    "delivered": DELIVERED, "delivrd": DELIVERED, "success": DELIVERED,
    "failed": FAILED, "fail": FAILED, "undeliv": FAILED, "undelivered": FAILED, "rejectd": FAILED,
    "rejected": FAILED, "deleted": FAILED, "unknown": FAILED,
    "expired": EXPIRED,
}

# A gateway clock a little ahead of ours is normal; beyond this a time is bogus.
MAX_FUTURE_MS = 300_000
MAX_ID = 128
MAX_CODE = 32
_CODE_UNSAFE = re.compile(r"[^A-Za-z0-9_.:+-]")

# Reasons a record is skipped (label values of sla_sms_records_skipped_total).
MALFORMED, BAD_TIMESTAMP = "malformed", "bad_timestamp"


class PageError(ValueError):
    """The page as a whole cannot be used (not JSON, wrong shape); the message is one line."""


@dataclass(frozen=True, slots=True)
class Record:
    """One message's state as the gateway reports it."""

    id: str
    outcome: int  # PENDING, DELIVERED, FAILED or EXPIRED
    submitted_ms: int | None  # None only in a report that does not repeat the submit time
    reported_ms: int | None  # when the gateway received the final report; None while pending
    code: str | None  # error code of a failed / expired message

    @property
    def event_ms(self) -> int:
        """When the record entered the feed, as far as its own times tell."""
        return self.reported_ms if self.reported_ms is not None else (self.submitted_ms or 0)


@dataclass(slots=True)
class Page:
    """One answer of the pull feed."""

    records: list[Record]
    next_cursor: str | None
    has_more: bool
    epoch: str | None
    skipped: Counter[str] = field(default_factory=Counter)


class _Bad(Exception):
    def __init__(self, reason: str):
        self.reason = reason


def _millis(value: Any) -> int | None:
    """Unix milliseconds from a number (ms) or an RFC 3339 string; None when absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise _Bad(MALFORMED)
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise _Bad(BAD_TIMESTAMP)
        return int(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _Bad(MALFORMED) from None
        if moment.tzinfo is None:
            raise _Bad(MALFORMED)  # a time without offset is ambiguous across zones
        return round(moment.timestamp() * 1000)
    raise _Bad(MALFORMED)


def clean_code(value: Any) -> str | None:
    """An error code safe as a label value: at most 32 characters of ``[A-Za-z0-9_.:+-]``."""
    if value is None or isinstance(value, bool):
        return None
    text = _CODE_UNSAFE.sub("_", str(value).strip())[:MAX_CODE]
    return text or None


def parse_record(item: Any, now_ms: int) -> Record:
    """One record; raises _Bad with the reason it must be skipped."""
    if not isinstance(item, dict):
        raise _Bad(MALFORMED)
    raw_id = item.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
        raise _Bad(MALFORMED)
    message_id = str(raw_id)
    if not message_id or len(message_id) > MAX_ID:
        raise _Bad(MALFORMED)
    status = item.get("status")
    outcome = STATUS.get(status.strip().lower()) if isinstance(status, str) else None
    if outcome is None:
        raise _Bad(MALFORMED)
    submitted = _millis(item.get("submitted_at"))
    reported = _millis(item.get("reported_at")) if outcome != PENDING else None
    if outcome == PENDING and submitted is None:
        raise _Bad(MALFORMED)
    if outcome == DELIVERED and reported is None:
        raise _Bad(MALFORMED)  # a delivery without its report time has no latency
    if submitted is None and reported is None:
        raise _Bad(MALFORMED)  # nothing to place it in time
    for moment in (submitted, reported):
        if moment is not None and (moment <= 0 or moment > now_ms + MAX_FUTURE_MS):
            raise _Bad(BAD_TIMESTAMP)
    if submitted is not None and reported is not None and reported < submitted:
        raise _Bad(BAD_TIMESTAMP)
    code = clean_code(item.get("error_code")) if outcome in (FAILED, EXPIRED) else None
    return Record(message_id, outcome, submitted, reported, code)


def parse_records(items: list[Any], now_ms: int, skipped: Counter[str]) -> list[Record]:
    """The usable records of ``items``; the others are counted into ``skipped`` by reason."""
    records: list[Record] = []
    for item in items:
        try:
            records.append(parse_record(item, now_ms))
        except _Bad as bad:
            skipped[bad.reason] += 1
    return records


def _document(body: bytes) -> Any:
    try:
        return loads(body)  # NaN is let through: a NaN time is one record's bad_timestamp, not a bad page
    except JsonProblem as exc:
        raise PageError(str(exc)) from None


def parse_page(body: bytes, now_ms: int) -> Page:
    """A feed page: ``{"records": [...], "next_cursor": str, "has_more": bool, "epoch": str}``."""
    document = _document(body)
    if not isinstance(document, dict) or not isinstance(document.get("records"), list):
        raise PageError("not a delivery-record page (no 'records' list)")
    cursor = document.get("next_cursor")
    if isinstance(cursor, bool) or (cursor is not None and not isinstance(cursor, (str, int))):
        raise PageError("'next_cursor' is not a string")
    epoch = document.get("epoch")
    if isinstance(epoch, bool) or (epoch is not None and not isinstance(epoch, (str, int))):
        raise PageError("'epoch' is not a string")
    has_more = document.get("has_more", False)
    if not isinstance(has_more, bool):
        raise PageError("'has_more' is not true or false")
    skipped: Counter[str] = Counter()
    records = parse_records(document["records"], now_ms, skipped)
    return Page(records, None if cursor is None else str(cursor), has_more,
                None if epoch is None else str(epoch), skipped)


def parse_reports(body: bytes, now_ms: int) -> tuple[list[Record], Counter[str]]:
    """A pushed batch: a list of records, one record, or ``{"records": [...]}``."""
    document = _document(body)
    if isinstance(document, dict) and isinstance(document.get("records"), list):
        items = document["records"]
    elif isinstance(document, list):
        items = document
    elif isinstance(document, dict):
        items = [document]
    else:
        raise PageError("expected a report object or a list of them")
    skipped: Counter[str] = Counter()
    return parse_records(items, now_ms, skipped), skipped
