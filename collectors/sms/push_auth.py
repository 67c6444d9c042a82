"""Who may push delivery reports: a Bearer token, or an HMAC signature with a timestamp window.

Token: ``Authorization: Bearer <token>``, compared in constant time.

HMAC (docs/sms.md has the scheme for gateway vendors): the gateway sends
``X-Timestamp: <Unix seconds>`` and ``X-Signature: sha256=<hex>``, the hex
HMAC-SHA256 with the shared secret of ``<timestamp>.<body>`` (the header's
digits, a dot, the body's exact bytes). A push signed more than ``window``
away from the agent's clock is refused, so a captured push cannot be replayed
later; one whose signature was already accepted within the window is
refused as a replay (409), so it cannot be replayed sooner either.

Refusals are values, not log lines: a flood of forged pushes is counted
(sla_sms_webhook_pushes_total), never logged one by one.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import re
from dataclasses import dataclass
from typing import Mapping

from collectors.sms.config import Webhook, WebhookHmac

# Signatures remembered for replay detection: far more than a gateway pushes
# in a window; a forger cannot add any (an entry needs a valid signature).
MAX_REMEMBERED = 100_000
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^sha256=([0-9a-fA-F]{64})$")

UNAUTHORIZED, REPLAYED, BUSY = "unauthorized", "replayed", "busy"


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int  # HTTP status to answer
    reason: str  # UNAUTHORIZED, REPLAYED or BUSY (a result label)
    message: str  # for the gateway's operator; never a secret or the expected signature


def _unauthorized(message: str) -> Refusal:
    return Refusal(401, UNAUTHORIZED, message)


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The ``X-Signature`` value for ``body`` pushed at ``timestamp`` (also what the lab and tests send)."""
    return "sha256=" + hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


class TokenCheck:
    """``Authorization: Bearer <token>``; decided before the body is read."""

    needs_body = False

    def __init__(self, token: str):
        self._expected = ("Bearer " + token).encode()

    def check(self, headers: Mapping[str, str], body: bytes, now: float) -> Refusal | None:
        given = headers.get("Authorization", "").encode("utf-8", "surrogateescape")
        return None if hmac.compare_digest(given, self._expected) else _unauthorized("missing or wrong token")

    def forget(self, headers: Mapping[str, str]) -> None:
        """Nothing is remembered for a token."""


class HmacCheck:
    """Signed pushes within a timestamp window, each signature accepted once."""

    needs_body = True

    def __init__(self, settings: WebhookHmac, limit: int = MAX_REMEMBERED):
        self._secret = settings.secret.get_secret_value().encode()
        self._header = settings.header
        self._timestamp_header = settings.timestamp_header
        self._window = settings.window
        self._limit = limit
        self._expiry: list[tuple[float, str]] = []  # heap of (when the entry may go, signature)
        self._seen: set[str] = set()

    def check(self, headers: Mapping[str, str], body: bytes, now: float) -> Refusal | None:
        stamp = headers.get(self._timestamp_header, "").strip()
        if not _TIMESTAMP.match(stamp):
            return _unauthorized(f"missing or malformed {self._timestamp_header} (Unix seconds)")
        if abs(now - int(stamp)) > self._window:
            return _unauthorized(f"{self._timestamp_header} is more than {self._window:g}s from the agent's clock "
                                 "(sign each push, and each retry, when it is sent)")
        match = _SIGNATURE.match(headers.get(self._header, "").strip())
        if match is None:
            return _unauthorized(f"missing or malformed {self._header} (sha256=<64 hex digits>)")
        given = match.group(1).lower()
        expected = sign(self._secret, stamp, body).removeprefix("sha256=")
        if not hmac.compare_digest(given, expected):
            return _unauthorized("signature does not match")
        self._forget_expired(now)
        if given in self._seen:
            return Refusal(409, REPLAYED, "this signature was already accepted (a replay)")
        if len(self._seen) >= self._limit:
            return Refusal(503, BUSY, "too many signed pushes within the window; push again later")
        # Remembered until the timestamp has left the window: after that the window refuses it anyway.
        self._seen.add(given)
        heapq.heappush(self._expiry, (int(stamp) + self._window, given))
        return None

    def forget(self, headers: Mapping[str, str]) -> None:
        """A checked push that was not stored may be pushed again with the same signature."""
        match = _SIGNATURE.match(headers.get(self._header, "").strip())
        if match is not None:
            self._seen.discard(match.group(1).lower())  # its heap entry expires harmlessly

    def _forget_expired(self, now: float) -> None:
        while self._expiry and self._expiry[0][0] < now:
            _, signature = heapq.heappop(self._expiry)
            self._seen.discard(signature)


PushCheck = TokenCheck | HmacCheck


def push_check(settings: Webhook) -> PushCheck:
    """The check of a webhook's config; ValueError for an endpoint without authentication."""
    if settings.hmac is not None:
        return HmacCheck(settings.hmac)
    if settings.token is not None:
        return TokenCheck(settings.token.get_secret_value())
    raise ValueError("refusing to start a push endpoint without authentication (webhook.token or webhook.hmac)")

