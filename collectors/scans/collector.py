"""The security scan collector: one target per configured scan directory (collectors.base.Collector, kind ``scan``).

Each poll lists the directory, reads the reports it has not seen (off the event
loop, collectors/scans/directory.py) and takes the newest as the scan's
state: its medium and high alerts are the observation the KPI reads. A
directory that cannot be listed, holds no report yet, or whose newest report
cannot be used fails the poll, and the scan is unknown until that changes,
never 0: no report is no evidence of no vulnerability.

Ledger series (collectors/scans/series.py): ``scan:<name>:findings`` and, for
the export's note, ``scan:<name>:{informational,low,medium,high,report_time}``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

from collectors.base import CollectorError, Observation, PollResult, Sample, Target, samplers
from collectors.scans.config import SecurityScan, check_scans
from collectors.scans.directory import Newest, ReportDirectory
from collectors.scans.report import REASONS
from collectors.scans.series import RISKS, all_series, scan_findings, scan_series

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, eq=False)
class ScanTarget:
    """One scan directory (implements collectors.base.Target)."""

    name: str
    interval: float
    poll_timeout: float
    scan: SecurityScan = field(repr=False)


_S = samplers("sla_scan_findings", "sla_scan_finding_instances", "sla_scan_report_timestamp_seconds",
              "sla_scan_report_stale", "sla_scan_reports_rejected_total")


class ScanCollector:
    """Reads the configured scan directories."""

    kind = "scan"

    def __init__(self, scans: Sequence[SecurityScan], zone: ZoneInfo, *, clock: Callable[[], float] = time.time) -> None:
        problems = check_scans(scans)
        if problems:
            raise ValueError("; ".join(f"{path}: {message}" for path, message in problems))
        self._targets = tuple(ScanTarget(s.name, s.interval, s.poll_timeout, s) for s in scans)
        self._directories = {s.name: ReportDirectory(s.name, s.directory, s.max_report_bytes,
                                                     ZoneInfo(s.timezone) if s.timezone else zone) for s in scans}
        self._clock = clock
        self._newest: dict[str, tuple[Path, float]] = {}  # for logging a new report once, not every poll
        self._stale: dict[str, bool] = {}

    def targets(self) -> Sequence[ScanTarget]:
        return self._targets

    def unknown(self, target: Target) -> tuple[Observation, ...]:
        return tuple(Observation(name, None) for name in all_series(target.name))

    async def close(self) -> None:
        return None  # nothing held open between polls

    async def poll(self, target: Target) -> PollResult:
        if not isinstance(target, ScanTarget):
            raise CollectorError(f"not a scan target: {target.name}")
        newest = await self._directories[target.name].newest()
        return self._result(target.scan, newest)

    def shared_samples(self) -> tuple[Sample, ...]:
        # Counters of every scan, kept while a poll fails (a failed poll drops its target's own samples),
        # which is when the operator looks for them.
        return tuple(_S["sla_scan_reports_rejected_total"](name, reason, value=directory.rejected[reason])
                     for name, directory in self._directories.items() for reason in REASONS)

    def _result(self, scan: SecurityScan, newest: Newest) -> PollResult:
        name, report = scan.name, newest.report
        if self._newest.get(name) != (newest.path, newest.time):
            self._newest[name] = (newest.path, newest.time)
            dated = report.dated_by or "file modification time"
            log.info("scan %s: newest report %s of %s (%s): %s", name, newest.path.name,
                     datetime.fromtimestamp(newest.time, self._directories[name].zone).isoformat(timespec="seconds"), dated,
                     ", ".join(f"{risk} {count}" for risk, count in zip(reversed(RISKS), reversed(report.alerts))))
        samples: list[Sample] = [_S["sla_scan_report_timestamp_seconds"](name, value=newest.time)]
        for risk, alerts, instances in zip(RISKS, report.alerts, report.instances):
            samples.append(_S["sla_scan_findings"](name, risk, value=alerts))
            samples.append(_S["sla_scan_finding_instances"](name, risk, value=instances))
        if scan.stale_after is not None:
            stale = self._clock() - newest.time > scan.stale_after
            if stale != self._stale.get(name, False):
                if stale:
                    log.warning("scan %s: the newest report (%s) is older than stale_after (%gs)",
                                name, newest.path.name, scan.stale_after)
                else:
                    log.info("scan %s: a fresh report again (%s)", name, newest.path.name)
            self._stale[name] = stale
            samples.append(_S["sla_scan_report_stale"](name, value=1 if stale else 0))
        observations = (
            Observation(scan_findings(name), float(report.findings)),
            *(Observation(scan_series(name, risk), float(count)) for risk, count in zip(RISKS, report.alerts)),
            Observation(scan_series(name, "report_time"), newest.time),
        )
        return PollResult(observations, tuple(samples))
