"""ZAP Traditional JSON reports -> counts by risk (collectors/scans/report.py), against hand-counted reports."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from collectors.scans.report import Report, ReportProblem, parse_generated, parse_report

SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")


def fixture() -> dict[str, Any]:
    text = resources.files("agent.lab").joinpath("data/scans/zap-mixed-2026-11-28.json").read_text(encoding="utf-8")
    return json.loads(text)


def parse(document: Any, zone: ZoneInfo = SH) -> Report:
    return parse_report(json.dumps(document).encode("utf-8"), zone)


def alert(ref: str, risk: Any, instances: int | None = None, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"pluginid": ref.split("-")[0], "alertRef": ref, "alert": f"rule {ref}",
                             "name": f"rule {ref}", "riskcode": risk, "confidence": "2"}
    if instances is not None:
        entry["instances"] = [{"uri": f"https://a.example/{i}", "method": "GET"} for i in range(instances)]
        entry["count"] = str(instances)
    entry.update(extra)
    return entry


def report(*sites: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    return {"@version": "2.16.0", "@generated": "Sat, 6 Dec 2026 10:15:00",
            "site": [{"@name": f"https://s{i}.example", "alerts": alerts} for i, alerts in enumerate(sites)], **top}


def test_the_bundled_mixed_report_counts_alerts_per_site_and_their_instances():
    # Hand-counted from agent/lab/data/scans/zap-mixed-2026-11-28.json:
    #   www:  medium CSP (4 URLs), clickjacking (2); low HSTS (3), X-Content-Type-Options (5); info comments (2)
    #   zwfw: high XSS (1); medium CSP (6); low cookie HttpOnly (2); info modern web app (1)
    #   data: low HSTS (1); info timestamp disclosure (3)
    found = parse(fixture())
    assert found.alerts == (3, 4, 3, 1)  # informational, low, medium, high
    assert found.instances == (2 + 1 + 3, 3 + 5 + 2 + 1, 4 + 2 + 6, 1)
    assert found.findings == 4  # CSP on two sites is two alerts
    assert found.sites == 3
    # created wins over @generated: 02:15:00.4129031Z is 10:15:00 in Shanghai.
    assert found.dated_by == "created"
    assert found.time == pytest.approx(datetime(2026, 11, 28, 10, 15, 0, 412903, tzinfo=SH).timestamp())


def test_generated_is_read_in_the_zone_given_when_there_is_no_created():
    document = report([alert("10038-1", "2", 1)])
    assert parse(document).time == datetime(2026, 12, 6, 10, 15, tzinfo=SH).timestamp()
    assert parse(document).dated_by == "@generated"
    assert parse(document, UTC).time == datetime(2026, 12, 6, 10, 15, tzinfo=UTC).timestamp()
    # A created without an offset is also local time.
    document["created"] = "2026-12-06T10:20:00"
    assert parse(document).time == datetime(2026, 12, 6, 10, 20, tzinfo=SH).timestamp()


def test_a_report_without_a_date_has_no_time_of_its_own():
    document = report([alert("10038-1", "2", 1)])
    del document["@generated"]
    found = parse(document)
    assert (found.time, found.dated_by) == (None, "")


@pytest.mark.parametrize("text,expected", [
    ("Sat, 6 Dec 2026 10:15:00", (2026, 12, 6, 10, 15, 0)),
    ("Fri, 04 Feb 2022 13:04:51", (2022, 2, 4, 13, 4, 51)),
    ("6 Dec 2026 9:05:07", (2026, 12, 6, 9, 5, 7)),  # no weekday: still ZAP's order
    ("Mon, 6 Dec 2026 10:15:00", (2026, 12, 6, 10, 15, 0)),  # a wrong weekday is not checked
])
def test_generated_dates(text, expected):
    assert parse_generated(text, SH) == datetime(*expected, tzinfo=SH).timestamp()


@pytest.mark.parametrize("text", ["2026-12-06 10:15:00", "星期六, 6 十二月 2026 10:15:00", "Sat, 31 Feb 2026 10:15:00",
                                  "Sat, 6 Dec 2026 25:15:00", "Sat, 6 Foo 2026 10:15:00", ""])
def test_what_is_not_a_generated_date(text):
    assert parse_generated(text, SH) is None


def test_instances_come_from_count_else_from_the_list():
    document = report([alert("10038-1", "2", 3), alert("10020-1", "2", 2)])
    document["site"][0]["alerts"][1].pop("count")  # two listed, no count
    document["site"][0]["alerts"][0]["count"] = "7"  # ZAP may list fewer instances than it counted
    found = parse(document)
    assert found.alerts[2] == 2 and found.instances[2] == 7 + 2


def test_one_type_listed_twice_for_a_site_is_one_alert_but_on_two_sites_two():
    twice = [alert("10038-1", "2", 2), alert("10038-1", "2", 3)]
    found = parse(report(twice, [alert("10038-1", "2", 1)]))
    assert found.alerts[2] == 2  # once on site 0, once on site 1
    assert found.instances[2] == 2 + 3 + 1
    # The same rule at two risks is two alerts (ZAP lists each risk separately).
    assert parse(report([alert("10038-1", "2", 1), alert("10038-1", "1", 1)])).alerts[1:3] == (1, 1)


def test_riskcode_may_be_a_number_and_an_alert_without_instances_has_none():
    found = parse(report([alert("40012", 3), alert("10021", 1)]))
    assert found.alerts == (0, 1, 0, 1) and found.instances == (0, 0, 0, 0)


def test_an_empty_report_has_no_findings():
    found = parse(report([], []))
    assert found.alerts == (0, 0, 0, 0) and found.findings == 0 and found.sites == 2
    assert parse(report()).sites == 0


def problem(body: bytes) -> tuple[str, str]:
    with pytest.raises(ReportProblem) as caught:
        parse_report(body, SH)
    assert "\n" not in caught.value.problem
    return caught.value.reason, caught.value.problem


def broken(change) -> bytes:
    document = copy.deepcopy(report([alert("10038-1", "2", 1)], [alert("40012", "3", 1)]))
    change(document)
    return json.dumps(document).encode("utf-8")


def test_malformed_and_truncated_json():
    cut = b'{"site": [{"@name": "https://a.example", "alerts": [{"riskcode": "2'
    assert problem(cut) == (
        "malformed", "malformed or truncated JSON (Unterminated string starting at: line 1 column 66 (char 65))")
    assert problem(b'{"site": [{"@name": "a", "alerts": [') == (
        "malformed", "malformed or truncated JSON (Expecting value: line 1 column 37 (char 36))")
    assert problem(b"") == ("malformed", "malformed or truncated JSON (Expecting value: line 1 column 1 (char 0))")
    assert problem(b"\xff\xfe{}") == ("malformed", "malformed or truncated JSON (not UTF-8)")
    assert problem(b"[" * 100_000) == ("malformed", "JSON nested too deep")
    assert problem(b'{"site": [], "x": NaN}') == ("malformed", "malformed or truncated JSON (NaN is not a JSON number)")


@pytest.mark.parametrize("change,expected", [
    (lambda d: d.clear() or d.update(x=1), "not a ZAP JSON report (no site list)"),
    (lambda d: d.update(site=d["site"][0]), "site is an object, not a list"),
    (lambda d: d.update(site=None), "site is null, not a list"),
    (lambda d: d["site"].append("https://x.example"), "site[2] is a string, not an object"),
    (lambda d: d["site"][1].pop("alerts"), "site[1] has no alerts list"),
    (lambda d: d["site"][1].update(alerts={}), "site[1].alerts is an object, not a list"),
    (lambda d: d["site"][0]["alerts"].append(7), "site[0].alerts[1] is a number, not an object"),
    (lambda d: d["site"][1]["alerts"][0].update(riskcode="4"), "site[1].alerts[0].riskcode is '4', not 0-3"),
    (lambda d: d["site"][1]["alerts"][0].update(riskcode="-1"), "site[1].alerts[0].riskcode is '-1', not 0-3"),
    (lambda d: d["site"][1]["alerts"][0].update(riskcode="High"), "site[1].alerts[0].riskcode is 'High', not 0-3"),
    (lambda d: d["site"][1]["alerts"][0].update(riskcode=True), "site[1].alerts[0].riskcode is True, not 0-3"),
    (lambda d: d["site"][1]["alerts"][0].update(riskcode=2.5), "site[1].alerts[0].riskcode is 2.5, not 0-3"),
    (lambda d: d["site"][0]["alerts"][0].pop("riskcode"), "site[0].alerts[0] has no riskcode"),
    (lambda d: d["site"][0]["alerts"][0].update(instances={}), "site[0].alerts[0].instances is an object, not a list"),
    (lambda d: d["site"][0]["alerts"][0].update(count="-1"), "site[0].alerts[0].count is '-1', not a whole number >= 0"),
    (lambda d: d["site"][0]["alerts"][0].update(count="many"), "site[0].alerts[0].count is 'many', not a whole number >= 0"),
    (lambda d: d.update({"@generated": "yesterday"}), "@generated 'yesterday' is not a date like 'Sat, 6 Dec 2026 10:15:00'"),
    (lambda d: d.update({"@generated": 1764987300}), "@generated 1764987300 is not a date like 'Sat, 6 Dec 2026 10:15:00'"),
    (lambda d: d.update(created="2026-13-01T00:00:00Z"), "created '2026-13-01T00:00:00Z' is not an ISO 8601 time"),
])
def test_wrong_shapes_name_the_place(change, expected):
    assert problem(broken(change)) == ("shape", expected)


def test_a_top_level_that_is_not_an_object():
    assert problem(b"[]") == ("shape", "not a ZAP JSON report (the top level is a list, not an object)")
    assert problem(b'"report"') == ("shape", "not a ZAP JSON report (the top level is a string, not an object)")


def test_a_long_value_is_cut_in_the_message():
    reason, message = problem(broken(lambda d: d["site"][0]["alerts"][0].update(riskcode="x" * 100)))
    assert message == "site[0].alerts[0].riskcode is '" + "x" * 36 + "..., not 0-3"
