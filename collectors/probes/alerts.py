"""The HTTP probes' own alerts (generators only): a probe failing, a certificate near expiry, a system below target.

The KPIs' burn-rate and coverage alerts come from the core generators like any
ratio KPI's; these cover what a pooled ratio cannot show: one endpoint failing
every probe, a certificate about to expire (its probes still succeed until it
does), and one business system of a platform below the target while the
others carry the pooled figure.
"""

from __future__ import annotations

from typing import Any

from agent.config import Config, kpi_definition
from agent.generators.alert_texts import runbook
from agent.generators.alerting import prom_duration
from agent.generators.queries import selector

PROBE_FAILING, CERTIFICATE_EXPIRING, PART_BELOW_TARGET = (
    "SlaProbeFailing", "SlaProbeCertificateExpiring", "SlaKpiPartBelowTarget")
CERTIFICATE_WARNING_DAYS = 14  # days before notAfter: time to order, deploy and check a new certificate

TEXTS: dict[str, tuple[str, str]] = {
    PROBE_FAILING: (
        "拨测持续失败 / HTTP probe failing",
        "拨测 {{ $labels.probe }}（业务系统 {{ $labels.system }}）最近 {window} 内每次都失败，已持续 {for_}："
        "服务超时、拒绝连接、证书无效或应答不符合预期；失败原因见 sla_probe_failures_total 的 reason 标签与代理日志。"
        " / Every probe of {{ $labels.probe }} (business system {{ $labels.system }}) failed in the last {window}, "
        "for {for_}: the service times out, refuses connections, has an invalid certificate or answers wrongly; "
        "the reason is the reason label of sla_probe_failures_total and in the agent's log.",
    ),
    CERTIFICATE_EXPIRING: (
        "服务证书即将过期 / Service certificate expires soon",
        "拨测 {{ $labels.probe }} 所访问服务的 TLS 证书将在 {{ $value | humanizeDuration }} 后过期"
        "（告警阈值 {days} 天）：过期后所有校验证书的客户端都将连接失败，拨测随之计为失败。"
        " / The TLS certificate that probe {{ $labels.probe }} checks expires in "
        "{{ $value | humanizeDuration }} (threshold {days} days): once expired every client that verifies it "
        "fails to connect, and so do the probes.",
    ),
    PART_BELOW_TARGET: (
        "业务系统可用性低于目标 / A business system below its target",
        "{{ $labels.kpi }} 的业务系统 {{ $labels.part }} 本月至今低于目标，已持续 {for_}：该指标要求每个业务系统"
        "都达标，月报中整行即为未达标（各系统数值见 sla_kpi_part_value）。"
        " / Business system {{ $labels.part }} of {{ $labels.kpi }} is below the target month-to-date, for {for_}: "
        "the indicator needs every system to meet it, so the monthly report's row is not met "
        "(each system's figure: sla_kpi_part_value).",
    ),
}
SEVERITY = {PROBE_FAILING: "ticket", CERTIFICATE_EXPIRING: "ticket", PART_BELOW_TARGET: "ticket"}
FOR = {PROBE_FAILING: "5m", CERTIFICATE_EXPIRING: "1h", PART_BELOW_TARGET: "30m"}


def failing_window(config: Config) -> float:
    """How far back "every probe failed" looks: at least 5 minutes and three of the slowest probe's intervals."""
    return max(300.0, *(3 * probe.interval for probe in config.probes))


def _texts(name: str, runbooks: str, **fields: str) -> dict[str, str]:
    summary, description = TEXTS[name]
    for key, value in {"for_": FOR[name], **fields}.items():
        description = description.replace("{" + key + "}", value)  # str.format would trip over the templates
    return {"summary": summary, "description": description, "runbook_url": runbook(runbooks, name)}


def _alert(name: str, expr: str, kpi: str, runbooks: str, **fields: str) -> dict[str, Any]:
    return {"alert": name, "expr": expr, "for": FOR[name], "labels": {"severity": SEVERITY[name], "kpi": kpi},
            "annotations": _texts(name, runbooks, **fields)}


def alerts(config: Config, job: str, runbooks: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """The probe alert group (none without probes)."""
    if not config.probes:
        return []
    sel = selector(job=job)
    window = prom_duration(failing_window(config))
    seconds = CERTIFICATE_WARNING_DAYS * 86400
    found = [
        # A single failed probe is the KPI's business; a probe that fails throughout the window is an outage.
        _alert(PROBE_FAILING, f"max_over_time(sla_probe_success{sel}[{window}]) == 0", "all", runbooks, window=window),
        _alert(CERTIFICATE_EXPIRING, f"sla_probe_tls_certificate_expiry_timestamp_seconds{sel} - time() < {seconds}",
               "all", runbooks, days=str(CERTIFICATE_WARNING_DAYS)),
    ]
    for kpi in config.kpis:  # each KPI judged system by system
        if kpi_definition(kpi).kind == "worst_availability":
            part_sel = selector(job=job, kpi=kpi.id)
            found.append(_alert(PART_BELOW_TARGET, f"sla_kpi_part_met{part_sel} == 0", kpi.id, runbooks))
    return [("sla-agent.probe-alerts", found)]
