"""The security scans dashboard (sla-scans.json), built like agent/generators/dashboards.py."""

from __future__ import annotations

from agent.generators import grafana as g
from agent.generators.queries import KpiQueries, kpis_matching, selector


def scans(queries: list[KpiQueries], job: str) -> g.Json:
    grid = g.Grid()
    sel = selector(job=job, scan="~$scan")
    risky = selector(job=job, scan="~$scan", risk="~high|medium")
    grid.row("最新报告 Newest reports")
    grid.add(g.stat("中高危漏洞", "Medium and high alerts (vulnerability types per site) of each scan's newest "
                    "report; the KPI allows none.",
                    g.targets((f"sum by (scan) (sla_scan_findings{risky})", "{{scan}}"), instant=True), "none",
                    g.thresholds((None, g.GREEN), (1, g.RED)), decimals=0), 12, 6)
    grid.add(g.stat("报告距今", "Age of each scan's newest report (its created or @generated time).",
                    g.targets((f"time() - sla_scan_report_timestamp_seconds{sel}", "{{scan}}"), instant=True), "s",
                    g.thresholds((None, g.GREEN), (7 * 86400, g.YELLOW), (30 * 86400, g.RED))), 12, 6)
    grid.add(g.timeseries("各风险等级告警数", "Alerts of the newest report by risk (high, medium, low, informational); "
                          "a step is a new report.",
                          g.targets((f"sla_scan_findings{sel}", "{{scan}} {{risk}}")), "short", minimum=0), 12, 8)
    grid.add(g.timeseries("受影响 URL 数", "Instances (URLs) of those alerts by risk.",
                          g.targets((f"sla_scan_finding_instances{sel}", "{{scan}} {{risk}}")), "short", minimum=0),
             12, 8)
    grid.row("指标与报告文件 KPI and report files")
    scanned = [q for q in queries if q.definition.source == "security_scan"]
    if scanned:
        ids = kpis_matching(scanned)
        grid.add(g.timeseries("网站安全检测结果（本月）", "The KPI month-to-date: medium and high alerts of each selected "
                              "scan's latest report, summed (sla_kpi_value), against the target.",
                              g.targets((f"sla_kpi_value{selector(job=job, kpi=ids)}", "{{kpi}}"),
                                        (f"sla_kpi_target{selector(job=job, kpi=ids)}", "目标 target")),
                              "short", minimum=0), 12, 8)
    grid.add(g.timeseries("未采用的报告文件", "Report files not used, per hour by reason (malformed, shape, too_large, "
                          "unreadable); a bad newest report also makes the scan unknown (sla_target_up 0).",
                          g.targets((f"sum by (scan, reason) (increase(sla_scan_reports_rejected_total{sel}[1h]))",
                                     "{{scan}} {{reason}}")), "short", minimum=0), 12 if scanned else 24, 8)
    variables = [g.datasource_variable(),
                 g.query_variable("scan", "扫描 Scan",
                                  f"label_values(sla_scan_report_timestamp_seconds{selector(job=job)}, scan)")]
    return g.dashboard("sla-scans", "SLA 网站安全检测 Website security scans",
                       "OWASP ZAP reports read from each scan's directory: findings of the newest report by risk, "
                       "its age, the KPI and report files that could not be used.", grid, variables, ["sla-agent"],
                       time_from="now-30d")
