"""The security scans' own alerts (generators only): medium or high findings, and a scan gone stale.

The KPI is met only with no medium or high alert at all, so one finding is
worth a ticket as soon as its report is read, not at the month's end. A scan
whose newest report is older than its ``stale_after`` still carries its old
findings into the KPI; the alert says the figure is no longer current.
"""

from __future__ import annotations

from typing import Any

from agent.config import Config
from agent.generators.alert_texts import runbook
from agent.generators.queries import selector

FINDINGS, STALE = "SlaSecurityFindings", "SlaSecurityScanStale"

TEXTS: dict[str, tuple[str, str]] = {
    FINDINGS: (
        "网站安全检测发现中高危漏洞 / Medium or high vulnerabilities found",
        "扫描 {{ $labels.scan }} 的最新报告中有 {{ $value | printf \"%.0f\" }} 个中危或高危漏洞（按站点计的告警类型），"
        "网站安全检测结果指标要求无中高危漏洞：请安排修复并重新扫描，新报告无中高危后告警自动恢复。"
        "各风险等级数量见 sla_scan_findings，受影响 URL 数见 sla_scan_finding_instances。"
        " / The newest report of scan {{ $labels.scan }} lists {{ $value | printf \"%.0f\" }} medium or high "
        "vulnerabilities (alert types per site); the website security KPI allows none: have them fixed and the "
        "site scanned again; the alert resolves once a new report has none. Counts by risk: sla_scan_findings; "
        "affected URLs: sla_scan_finding_instances.",
    ),
    STALE: (
        "安全扫描报告过期 / Security scan report out of date",
        "扫描 {{ $labels.scan }} 的最新报告已是 {{ $value | humanizeDuration }} 前生成，超过其 stale_after："
        "扫描任务可能已停止，或报告未再写入该目录；指标仍按这份旧报告计算。"
        " / The newest report of scan {{ $labels.scan }} was made {{ $value | humanizeDuration }} ago, beyond its "
        "stale_after: the scan job may have stopped, or its reports no longer reach the directory; the KPI still "
        "counts this old report.",
    ),
}
SEVERITY = {FINDINGS: "ticket", STALE: "ticket"}
# A report is read once per poll: findings are no flap to wait out; staleness moves slowly.
FOR = {FINDINGS: "5m", STALE: "30m"}


def _alert(name: str, expr: str, runbooks: str) -> dict[str, Any]:
    summary, description = TEXTS[name]
    return {"alert": name, "expr": expr, "for": FOR[name], "labels": {"severity": SEVERITY[name], "kpi": "all"},
            "annotations": {"summary": summary, "description": description, "runbook_url": runbook(runbooks, name)}}


def alerts(config: Config, job: str, runbooks: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """The scan alert group (none without scans); the stale alert only if a scan sets stale_after."""
    if not config.security_scans:
        return []
    sel = selector(job=job)
    risky = selector(job=job, risk="~high|medium")
    found = [_alert(FINDINGS, f"sum by (instance, job, scan) (sla_scan_findings{risky}) > 0", runbooks)]
    if any(scan.stale_after is not None for scan in config.security_scans):
        # The age as the value; the agent judges staleness against each scan's own stale_after.
        found.append(_alert(STALE, f"(time() - sla_scan_report_timestamp_seconds{sel})\n"
                                   f"and on (instance, job, scan)\nsla_scan_report_stale{sel} == 1\n", runbooks))
    return [("sla-agent.scan-alerts", found)]
