"""Config models of the website security scans (the ``security_scans:`` section, a list of scans).

A scan is a directory into which a scanner (OWASP ZAP) drops its reports, one
JSON file per run; the agent reads the directory, it never runs the scanner.
Same conventions as the other sources: frozen models that reject unknown keys,
durations as ``5m`` / ``8d``, sizes as ``32MiB``; a relative ``directory`` is
relative to the config file's directory.
"""

from __future__ import annotations

from typing import Annotated, Sequence

from pydantic import AfterValidator

from agent.config_sections import Duration as Minimum, KpiSelector, NamedList, unique
from agent.schema import BodyLimit, ConfigPath, Duration, Items, Model, Name, TimeZoneName


def _no_colon(value: str) -> str:
    # Scan names are part of the ledger series ``scan:<name>:findings``.
    if ":" in value:
        raise ValueError(f"{value!r}: scan names may not contain ':'")
    return value


ScanName = Annotated[Name, AfterValidator(_no_colon)]

DEFAULT_MAX_REPORT = 32 * 2**20  # room for a large site's report with every instance listed


class SecurityScan(Model):
    """One scanner's report directory, read on its own interval; its newest report is the current state."""

    name: ScanName
    directory: ConfigPath
    interval: Duration = 300.0
    # A larger report file is rejected unread (too_large): parsing is bounded in time and memory.
    max_report_bytes: BodyLimit = DEFAULT_MAX_REPORT
    # A newest report older than this is flagged (sla_scan_report_stale, SlaSecurityScanStale); none: never.
    stale_after: Duration | None = None
    # The zone of a report's ``@generated`` (ZAP writes its host's local time without an offset); none: the agent's.
    timezone: TimeZoneName | None = None

    @property
    def poll_timeout(self) -> float:
        return min(self.interval, POLL_TIMEOUT)


# One poll lists the directory and parses the reports it has not seen yet; reports parsed before a
# timeout stay cached, so a first poll over a large backlog finishes over the next polls.
POLL_TIMEOUT = 60.0


def check_scans(scans: Sequence[SecurityScan]) -> list[tuple[str, str]]:
    """Problems across scans (duplicate names)."""
    return unique(scans, "security_scans")


# -- the section, for agent.config ------------------------------------------------------------------

MIN_SCAN_INTERVAL = (10.0, "each poll lists the report directory and stats every report in it")


def _minimums(where: str, scan: SecurityScan) -> list[Minimum]:
    return [(f"{where}.interval", scan.interval, MIN_SCAN_INTERVAL)]


SECTION = NamedList(
    key="security_scans", model=SecurityScan, what="security scan",
    needs="needs at least one entry in security_scans",
    selector=KpiSelector("scans", Items[str] | None, "security scans"), check=check_scans, minimums=_minimums,
).section()

__all__ = ["DEFAULT_MAX_REPORT", "POLL_TIMEOUT", "SECTION", "SecurityScan", "check_scans"]
