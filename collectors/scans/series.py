"""Ledger series of the security scans: the contract between the scan collector and the KPI engine.

Each poll writes, for the newest report of a scan's directory, its medium + high
findings (the KPI's input), each risk level's count and the report's time; all
None while the newest report cannot be read (unknown).
"""

from __future__ import annotations

import sys

RISKS = ("informational", "low", "medium", "high")  # by ZAP riskcode 0..3
# The series of one scan besides ``findings``: each risk's alerts, and the report's Unix time.
FIELDS = (*RISKS, "report_time")


def scan_series(scan: str, field: str) -> str:
    """``scan:<scan>:<field>``; ``field`` is ``findings`` or one of :data:`FIELDS`."""
    return sys.intern(f"scan:{scan}:{field}")


def scan_findings(scan: str) -> str:
    """Medium + high alerts of the scan's newest report; None when it cannot be read."""
    return scan_series(scan, "findings")


def scan_of(series: str) -> str | None:
    """The scan a ``scan:<name>:findings`` series belongs to, else None."""
    kind, _, rest = series.partition(":")
    name, _, field = rest.partition(":")
    return name if kind == "scan" and field == "findings" and name else None


def all_series(scan: str) -> tuple[str, ...]:
    """Every series the collector writes for ``scan``."""
    return (scan_findings(scan), *(scan_series(scan, field) for field in FIELDS))
