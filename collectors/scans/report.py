"""OWASP ZAP "Traditional JSON" reports -> alerts and instances by risk (pure: bytes in, counts out).

The format (ZAP's reports add-on, template ``traditional-json``)::

    {"@programName": "ZAP", "@version": "2.16.0", "@generated": "Sat, 6 Dec 2026 10:15:00",
     "created": "2026-12-06T02:15:00.123456789Z",
     "site": [{"@name": "https://www.example.gov.cn", "@host": ..., "@port": "443", "@ssl": "true",
               "alerts": [{"pluginid": "10038", "alertRef": "10038-1", "name": ..., "riskcode": "2",
                           "confidence": "3", "riskdesc": "Medium (High)", "count": "4",
                           "instances": [{"uri": ..., "method": "GET", ...}, ...], ...}]}]}

``riskcode`` is 0 informational, 1 low, 2 medium, 3 high. An *alert* is one
vulnerability type on one site (ZAP lists each type once per site and risk);
its *instances* are the URLs where it was found (``count``, else the length of
``instances``). Alerts are counted per site, so the same type on two sites is
two alerts; a type listed twice for one site at one risk (a hand-merged report)
is one alert with both entries' instances.

When the report was made: ``created`` (ISO 8601, written since reports add-on
0.41.0, 2025) when present, else ``@generated`` (English day and month names, no
UTC offset: read in the zone given), else none and the caller dates the report
by its file's modification time. A ``@generated`` in another language (a JVM in
another locale) is refused unless ``created`` is there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from collectors.parsing import JsonProblem, loads

# Why a report file is not used: sla_scan_reports_rejected_total's reason label.
REASONS = ("malformed", "shape", "too_large", "unreadable")
RISK_LEVELS = 4  # riskcode 0..3
_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
# "Sat, 6 Dec 2026 10:15:00" (Java's "EEE, d MMM yyyy HH:mm:ss" in an English locale); the weekday is not checked.
_GENERATED = re.compile(r"^\s*(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})\s*$")


class ReportProblem(ValueError):
    """A report file that is not used: ``reason`` (one of REASONS) and a one-line ``problem``."""

    def __init__(self, reason: str, problem: str) -> None:
        super().__init__(problem)
        self.reason = reason
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Report:
    """What one report says, by riskcode (index 0 informational .. 3 high)."""

    time: float | None  # Unix time the report was made; None: it says none (dated by its file)
    dated_by: str  # "created", "@generated" or "" (none)
    alerts: tuple[int, ...]  # distinct alert types per site, summed over sites
    instances: tuple[int, ...]  # the URLs they were found at
    sites: int

    @property
    def findings(self) -> int:
        """Medium and high alerts: what the KPI counts."""
        return self.alerts[2] + self.alerts[3]


def _kind(value: Any) -> str:
    """A JSON value's type as the report's author would say it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _shape(problem: str) -> ReportProblem:
    return ReportProblem("shape", problem)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _risk(alert: dict[str, Any], where: str) -> int:
    if "riskcode" not in alert:
        raise _shape(f"{where} has no riskcode")
    code = alert["riskcode"]
    # ZAP writes "0".."3"; a number is accepted too, a boolean is not (Python's bool is an int).
    if isinstance(code, str) and code.strip() in ("0", "1", "2", "3"):
        return int(code)
    if isinstance(code, int) and not isinstance(code, bool) and 0 <= code < RISK_LEVELS:
        return code
    raise _shape(f"{where}.riskcode is {_short(code)}, not 0-3")


def _instances(alert: dict[str, Any], where: str) -> int:
    listed = alert.get("instances", [])
    if not isinstance(listed, list):
        raise _shape(f"{where}.instances is {_kind(listed)}, not a list")
    if "count" not in alert:
        return len(listed)
    count = alert["count"]
    text = count.strip() if isinstance(count, str) else None
    if text is not None and text.isdigit():
        return int(text)
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        return count
    raise _shape(f"{where}.count is {_short(count)}, not a whole number >= 0")


def _identity(alert: dict[str, Any], index: int) -> tuple[str, str] | int:
    """What makes two entries of one site the same vulnerability type (with the risk)."""
    ref = str(alert.get("alertRef") or alert.get("pluginid") or "")
    name = str(alert.get("alert") or alert.get("name") or "")
    return (ref, name) if ref or name else index  # an entry that names nothing is its own type


def _count(sites: list[Any]) -> tuple[list[int], list[int]]:
    alerts, instances = [0] * RISK_LEVELS, [0] * RISK_LEVELS
    for i, site in enumerate(sites):
        where = f"site[{i}]"
        if not isinstance(site, dict):
            raise _shape(f"{where} is {_kind(site)}, not an object")
        if "alerts" not in site:
            raise _shape(f"{where} has no alerts list")
        entries = site["alerts"]
        if not isinstance(entries, list):
            raise _shape(f"{where}.alerts is {_kind(entries)}, not a list")
        seen: set[tuple[tuple[str, str] | int, int]] = set()
        for j, alert in enumerate(entries):
            at = f"{where}.alerts[{j}]"
            if not isinstance(alert, dict):
                raise _shape(f"{at} is {_kind(alert)}, not an object")
            risk = _risk(alert, at)
            instances[risk] += _instances(alert, at)
            key = (_identity(alert, j), risk)
            if key not in seen:
                seen.add(key)
                alerts[risk] += 1
    return alerts, instances


def parse_generated(text: str, zone: ZoneInfo) -> float | None:
    """``Sat, 6 Dec 2026 10:15:00`` in ``zone`` as Unix time; None if it is not such a date."""
    match = _GENERATED.match(text)
    if match is None:
        return None
    day, month_name, year, hour, minute, second = match.groups()
    month = _MONTHS.get(month_name.lower())
    if month is None:
        return None
    try:
        local = datetime(int(year), month, int(day), int(hour), int(minute), int(second), tzinfo=zone)
    except ValueError:  # 31 Feb, 25:00
        return None
    return local.timestamp()


def _created(text: str, zone: ZoneInfo) -> float | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)).timestamp()


# A report's own time, in order of preference: (key, parser, what a valid value is).
_TIMES = (("created", _created, "an ISO 8601 time"),
          ("@generated", parse_generated, "a date like 'Sat, 6 Dec 2026 10:15:00'"))


def _time(document: dict[str, Any], zone: ZoneInfo) -> tuple[float | None, str]:
    for key, parse, valid in _TIMES:
        if key in document:
            given = document[key]
            moment = parse(given, zone) if isinstance(given, str) else None
            if moment is None:
                raise _shape(f"{key} {_short(given)} is not {valid}")
            return moment, key
    return None, ""


def parse_report(body: bytes, zone: ZoneInfo) -> Report:
    """The counts of one report's text; ReportProblem (malformed or shape) saying what is wrong."""
    try:
        document = loads(body, allow_nan=False)
    except JsonProblem as exc:
        raise ReportProblem("malformed", str(exc)) from None
    if not isinstance(document, dict):
        raise _shape(f"not a ZAP JSON report (the top level is {_kind(document)}, not an object)")
    if "site" not in document:
        raise _shape("not a ZAP JSON report (no site list)")
    sites = document["site"]
    if not isinstance(sites, list):
        raise _shape(f"site is {_kind(sites)}, not a list")
    time, dated_by = _time(document, zone)
    alerts, instances = _count(sites)
    return Report(time, dated_by, tuple(alerts), tuple(instances), len(sites))


__all__ = ["REASONS", "RISK_LEVELS", "Report", "ReportProblem", "parse_generated", "parse_report"]
