"""What the security scan source exposes, per scan (collectors/scans)."""

from __future__ import annotations

from agent.metric_spec import MetricSpec

METRICS = (
    # Security scans, per scan directory, from its newest report; refreshed on each poll. While the newest
    # report cannot be used (or there is none) they are absent and sla_target_up is 0.
    MetricSpec("sla_scan_findings", "gauge", ("scan", "risk"),
               "Alerts (vulnerability types, counted per site) of the newest report by risk: high, medium, low, "
               "informational; the KPI counts high and medium."),
    MetricSpec("sla_scan_finding_instances", "gauge", ("scan", "risk"),
               "Instances (URLs) of those alerts by risk, from each alert's count."),
    MetricSpec("sla_scan_report_timestamp_seconds", "gauge", ("scan",),
               "Unix time the newest report was made (its created or @generated, else its file's modification time)."),
    MetricSpec("sla_scan_report_stale", "gauge", ("scan",),
               "1 if the newest report is older than the scan's stale_after, else 0; only with stale_after."),
    MetricSpec("sla_scan_reports_rejected_total", "counter", ("scan", "reason"),
               "Report files not used, each version once, since the agent started, by reason: malformed (not "
               "JSON, truncated), shape (not a ZAP report), too_large (over max_report_bytes), unreadable."),
)
