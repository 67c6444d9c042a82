"""Security scans in the store-based export: the newest report's findings from ``sla_scan_findings``, sampled at the scrape interval."""

from __future__ import annotations

from typing import Any

from agent.export.prometheus_source import label, regex_of
from agent.export.store_sampled import Sampled, SampledStore
from agent.kpi_types import Plan
from collectors.scans.series import scan_findings, scan_of, scan_series


def _families(plan: Plan) -> tuple[Sampled, ...]:
    scans = regex_of(name for name in map(scan_of, plan.inputs) if name is not None)
    findings = f'sla_scan_findings{{scan=~"{scans}"}}'
    report = f'sla_scan_report_timestamp_seconds{{scan=~"{scans}"}}'

    def scan(labels: Any) -> str:
        return label(labels, "scan") or ""

    return (
        # Medium and high: the KPI's figure (max over shards first: a scan counts once).
        Sampled(findings, f'sum by (scan) (max by (scan, risk) ({findings[:-1]}, risk=~"medium|high"}}))',
                lambda labels: scan_findings(scan(labels))),
        Sampled(findings, f"max by (scan, risk) ({findings})",
                lambda labels: scan_series(scan(labels), label(labels, "risk") or "")),
        Sampled(report, f"max by (scan) ({report})", lambda labels: scan_series(scan(labels), "report_time")),
    )


def scan_store(view: Any) -> SampledStore:
    return SampledStore(view, _families)
