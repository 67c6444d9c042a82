"""The scans' KPI inputs and their own kind, latest_count: the findings of each scan's latest report.

A report is a state, not an event: its findings stand until the next report
replaces them, however long ago it was made. So the figure of a period is,
per scan, the last value the agent observed in it (a report from before the
period counts as long as it was still the newest), summed over the scans;
not a mean over time, nor a total of the period's reports. Maintenance
windows do not apply: a vulnerability does not pause.

A scan without any known observation in the period is left out of the sum and
lowers the coverage, the share of scans with a figure: the report then says
数据不足 below the KPI's min_coverage rather than 达标 on the other scans' word.

The details give the summed counts by risk (high, medium, low,
informational), and the newest and oldest of the latest reports' times with
their UTC offsets in the configured zone, for the export's note
(collectors/scans/notes.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Sequence
from zoneinfo import ZoneInfo

from agent import periods
from agent.config import Config, KpiConfig
from agent.config_sections import selected
from agent.kpi_definition import KpiDefinition
from agent.kpi_types import KpiResult, LedgerReader, Maintenance, Plan
from agent.sli import Segment
from agent.sources import Inputs
from collectors.scans.config import SecurityScan
from collectors.scans.series import FIELDS, RISKS, scan_findings, scan_of, scan_series

# The note needs the configured zone, which the evaluator's signature does not carry: as the SMS
# kinds do (collectors/sms/kpi.py), it rides among the plan's inputs as "tz:<zone>", never a ledger series.
ZONE_INPUT = "tz:"


def chosen(kpi: KpiConfig, config: Config) -> list[SecurityScan]:
    """The scans a KPI names (``scans:``), every configured scan when it names none."""
    return selected(config.security_scans, getattr(kpi, "scans", None))


def scan_inputs(definition: KpiDefinition, kpi: KpiConfig, config: Config) -> Inputs:
    """Each chosen scan's findings series and the zone; none without scans (a shard that owns none)."""
    names = tuple(scan_findings(s.name) for s in chosen(kpi, config))
    return names + (ZONE_INPUT + config.agent.timezone,) if names else ()


def _zone(plan: Plan) -> ZoneInfo:
    return ZoneInfo(next((i[len(ZONE_INPUT):] for i in plan.inputs if i.startswith(ZONE_INPUT)), "UTC"))


def last_known(segments: Sequence[Segment]) -> float | None:
    """The value of the latest segment with one (segments oldest first)."""
    return next((value for _, _, value in reversed(segments) if value is not None), None)


def _offset(zone: ZoneInfo, at: float) -> float:
    offset = datetime.fromtimestamp(at, zone).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def latest_count(kpi: Plan, ledger: LedgerReader, period: periods.Period, end: float,
                 maintenance: Maintenance) -> KpiResult:
    """Σ over scans of the last findings observed in ``[period.start, end)``; coverage: scans known / scans."""
    scans = [name for name in map(scan_of, kpi.inputs) if name is not None]
    wanted = [scan_series(scan, f) for scan in scans for f in ("findings", *FIELDS)]
    found = ledger.segments(wanted, period.start, end) if scans and end > period.start else {}
    latest = {scan: {f: last_known(found.get(scan_series(scan, f), ())) for f in ("findings", *FIELDS)}
              for scan in scans}
    known = {scan: values for scan, values in latest.items() if values["findings"] is not None}
    value = sum(v["findings"] or 0.0 for v in known.values()) if known else None
    details: dict[str, float] = {"scans": float(len(scans)), "scans_known": float(len(known))}
    if known:
        details.update({risk: sum(v[risk] or 0.0 for v in known.values()) for risk in reversed(RISKS)})
        times = [v["report_time"] for v in known.values() if v["report_time"] is not None]
        if times:
            zone = _zone(kpi)
            details.update(report_time=max(times), report_time_utc_offset=_offset(zone, max(times)),
                           oldest_report_time=min(times), oldest_report_time_utc_offset=_offset(zone, min(times)))
    return KpiResult(
        definition=kpi.definition, target=kpi.target, period=period, until=end, value=value,
        met=None if value is None else kpi.target.met_by(value),
        coverage=len(known) / len(scans) if scans else 0.0, min_coverage=kpi.config.min_coverage, details=details,
    )


__all__ = ["ZONE_INPUT", "chosen", "last_known", "latest_count", "scan_inputs"]
