"""Parsing of delivery-record pages and pushed reports."""

import json

import pytest

from collectors.sms import records
from collectors.sms.records import (
    DELIVERED,
    EXPIRED,
    FAILED,
    PENDING,
    PageError,
    parse_page,
    parse_reports,
)

NOW = 1_800_000_000_000  # ms (2027-01-15)


def page(items, **extra) -> bytes:
    return json.dumps({"records": items, "next_cursor": "c1", "has_more": False, "epoch": "e1", **extra}).encode()


@pytest.mark.parametrize("status, outcome", [
    ("delivered", DELIVERED), ("DELIVRD", DELIVERED), ("SUCCESS", DELIVERED),
    ("failed", FAILED), ("UNDELIV", FAILED), ("REJECTD", FAILED), ("FAIL", FAILED), ("unknown", FAILED),
    ("EXPIRED", EXPIRED), ("pending", PENDING), ("ENROUTE", PENDING), ("ACCEPTD", PENDING),
])
def test_vendor_status_spellings(status, outcome):
    item = {"id": "m", "status": status, "submitted_at": NOW - 5000, "reported_at": NOW - 1000}
    (record,) = parse_page(page([item]), NOW).records
    assert record.outcome == outcome
    assert record.reported_ms == (None if outcome == PENDING else NOW - 1000)


def test_times_as_milliseconds_or_rfc3339():
    items = [
        {"id": 1, "status": "delivered", "submitted_at": "2026-11-02T09:00:00.250+08:00",
         "reported_at": "2026-11-02T01:00:03.750Z"},
        {"id": "2", "status": "pending", "submitted_at": 1_790_000_000_123.0},
    ]
    first, second = parse_page(page(items), NOW).records
    assert first.id == "1" and first.reported_ms - first.submitted_ms == 3500
    assert second.submitted_ms == 1_790_000_000_123


def test_page_fields():
    parsed = parse_page(page([], has_more=True, next_cursor=42), NOW)
    assert (parsed.next_cursor, parsed.has_more, parsed.epoch) == ("42", True, "e1")
    minimal = parse_page(b'{"records": []}', NOW)
    assert (minimal.next_cursor, minimal.has_more, minimal.epoch) == (None, False, None)


@pytest.mark.parametrize("body, problem", [
    (b"", "malformed or truncated JSON"),
    (b'{"records": [', "malformed or truncated JSON"),
    (b"\xff\xfe", "malformed or truncated JSON"),
    (b"[]", "no 'records' list"),
    (b'{"records": {}}', "no 'records' list"),
    (b'{"records": [], "has_more": "yes"}', "'has_more' is not true or false"),
    (b'{"records": [], "next_cursor": {"a": 1}}', "'next_cursor' is not a string"),
    (b'{"records": [], "next_cursor": true}', "'next_cursor' is not a string"),
    (b'{"records": [], "epoch": []}', "'epoch' is not a string"),
])
def test_malformed_pages_are_refused_whole(body, problem):
    with pytest.raises(PageError, match=problem) as caught:
        parse_page(body, NOW)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("item, reason", [
    ({"id": "m", "status": "pending", "submitted_at": -1}, "bad_timestamp"),
    ({"id": "m", "status": "pending", "submitted_at": NOW + 301_000}, "bad_timestamp"),
    ({"id": "m", "status": "pending", "submitted_at": float("nan")}, "bad_timestamp"),
    ({"id": "m", "status": "failed", "submitted_at": NOW - 10, "reported_at": NOW - 20}, "bad_timestamp"),
    ({"id": "m", "status": "pending"}, "malformed"),
    ({"id": "m", "status": "failed"}, "malformed"),
    ({"id": "m", "status": "delivered", "submitted_at": NOW - 10}, "malformed"),
    ({"id": "m", "status": 3, "submitted_at": NOW}, "malformed"),
    ({"id": "m" * 129, "status": "pending", "submitted_at": NOW}, "malformed"),
    ({"id": ["m"], "status": "pending", "submitted_at": NOW}, "malformed"),
    ({"id": "m", "status": "pending", "submitted_at": "yesterday"}, "malformed"),
    ({"id": "m", "status": "pending", "submitted_at": False}, "malformed"),
    ("m", "malformed"),
])
def test_bad_records_are_skipped_by_reason(item, reason):
    parsed = parse_page(page([item, {"id": "ok", "status": "pending", "submitted_at": NOW}]), NOW)
    assert [r.id for r in parsed.records] == ["ok"]
    assert parsed.skipped == {reason: 1}


def test_a_small_clock_skew_is_accepted():
    (record,) = parse_page(page([{"id": "m", "status": "pending", "submitted_at": NOW + 299_000}]), NOW).records
    assert record.submitted_ms == NOW + 299_000


def test_error_codes_become_safe_bounded_labels():
    assert records.clean_code("  MK:0001 ") == "MK:0001"
    assert records.clean_code('evil"} 1\nx') == "evil___1_x"
    assert records.clean_code("x" * 100) == "x" * 32
    assert records.clean_code(75) == "75"
    assert records.clean_code(None) is None and records.clean_code("") is None
    item = {"id": "m", "status": "delivered", "submitted_at": NOW - 2, "reported_at": NOW, "error_code": "X"}
    assert parse_page(page([item]), NOW).records[0].code is None  # a delivery has no error


def test_pushed_reports_in_three_shapes():
    one = {"id": "m", "status": "DELIVRD", "reported_at": NOW - 5}
    for body in ([one], {"records": [one]}, one):
        parsed, skipped = parse_reports(json.dumps(body).encode(), NOW)
        assert [r.id for r in parsed] == ["m"] and parsed[0].submitted_ms is None and not skipped
    with pytest.raises(PageError):
        parse_reports(b'"just a string"', NOW)
