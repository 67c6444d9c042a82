"""Push authentication (collectors/sms/push_auth.py): the signing scheme of docs/sms.md, the window, replays."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from collectors.sms.config import Webhook, WebhookHmac
from collectors.sms.push_auth import BUSY, REPLAYED, UNAUTHORIZED, HmacCheck, TokenCheck, push_check, sign

SECRET = "push-S3cret-0123456789abcdef"
NOW = 1_800_000_000


def headers(body: bytes, stamp: int, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Timestamp": str(stamp), "X-Signature": f"sha256={digest}"}


def check(limit: int = 100) -> HmacCheck:
    return HmacCheck(WebhookHmac.model_validate({"secret": SECRET, "window": "5m"}), limit=limit)


def test_sign_is_the_documented_scheme():
    assert sign(SECRET.encode(), str(NOW), b"[]") == headers(b"[]", NOW)["X-Signature"]


def test_signatures_are_taken_once_within_the_window_and_forgotten_after_it():
    hmac_check = check()
    signed = headers(b"[]", NOW)
    assert hmac_check.check(signed, b"[]", NOW + 10) is None
    refusal = hmac_check.check(signed, b"[]", NOW + 20)
    assert refusal is not None and (refusal.status, refusal.reason) == (409, REPLAYED)
    later = headers(b"[]", NOW + 400)
    assert hmac_check.check(later, b"[]", NOW + 400) is None
    assert len(hmac_check._seen) == 1  # the first signature left memory with its window


@pytest.mark.parametrize("given, reason", [
    ({}, "missing or malformed X-Timestamp"),
    ({"X-Timestamp": "17e8", "X-Signature": "sha256=" + "0" * 64}, "missing or malformed X-Timestamp"),
    ({"X-Timestamp": str(NOW)}, "missing or malformed X-Signature"),
    ({"X-Timestamp": str(NOW), "X-Signature": "0" * 64}, "missing or malformed X-Signature"),
    ({"X-Timestamp": str(NOW), "X-Signature": "sha256=" + "0" * 64}, "signature does not match"),
    (headers(b"[]", NOW - 301), "X-Timestamp is more than 300s from the agent's clock"),
])
def test_unauthorized_pushes_say_why_without_the_expected_signature(given, reason):
    refusal = check().check(given, b"[]", NOW)
    assert refusal is not None and (refusal.status, refusal.reason) == (401, UNAUTHORIZED)
    assert refusal.message.startswith(reason) and sign(SECRET.encode(), str(NOW), b"[]")[7:] not in refusal.message


def test_upper_case_hex_is_the_same_signature():
    signed = headers(b"[]", NOW)
    signed["X-Signature"] = "sha256=" + signed["X-Signature"][7:].upper()
    assert check().check(signed, b"[]", NOW) is None


def test_memory_is_bounded_and_a_forgotten_signature_may_come_again():
    hmac_check = check(limit=2)
    for i in range(2):
        assert hmac_check.check(headers(b"[%d]" % i, NOW), b"[%d]" % i, NOW) is None
    refusal = hmac_check.check(headers(b"[9]", NOW), b"[9]", NOW)
    assert refusal is not None and (refusal.status, refusal.reason) == (503, BUSY)
    hmac_check.forget(headers(b"[0]", NOW))  # not stored (503): the gateway retries it
    assert hmac_check.check(headers(b"[0]", NOW), b"[0]", NOW) is None


def test_a_token_is_compared_whole():
    token = TokenCheck("T0ken-S3cret")
    assert token.check({"Authorization": "Bearer T0ken-S3cret"}, b"", NOW) is None
    for given in ("Bearer T0ken", "T0ken-S3cret", "Bearer T0ken-S3cret ", "Bearer tóken"):
        assert token.check({"Authorization": given}, b"", NOW) is not None


def test_no_endpoint_without_authentication():
    unauthenticated = Webhook.model_construct(listen="127.0.0.1:1", token=None, hmac=None)
    with pytest.raises(ValueError, match="without authentication"):
        push_check(unauthenticated)
