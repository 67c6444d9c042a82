"""Names, severities and bilingual annotations of the generated alerts.

Kept apart from agent/generators/rules.py (which builds the expressions) because these
are what on-call engineers read: summary and description in Chinese and
English, the current value through Prometheus templating, and a
``runbook_url`` pointing at the alert's section of docs/runbooks.md (the
anchor is the alert name in lower case).
"""

from __future__ import annotations

from dataclasses import dataclass

from agent import sources
from agent.generators.alerting import BurnWindow, human_duration, objective_text, prom_duration
from agent.generators.queries import KpiQueries


@dataclass(frozen=True, slots=True)
class AlertSpec:
    name: str
    severity: str
    for_: str
    summary: str
    description: str


def runbook(base: str, alert: str) -> str:
    return f"{base}#{alert.lower()}"


# How the alert's value is shown: the expression is scaled so that a
# Prometheus template function renders it in the unit people use
# (links are sold in bit/s; the cloud reports binary sizes).
_DISPLAY = {
    "bytes_per_second": (8, "{{ $value | humanize }}bit/s"),
    "bytes": (1, "{{ $value | humanize1024 }}B"),
    "count": (1, '{{ $value | printf "%.0f" }}'),
    "ratio": (1, "{{ $value | humanizePercentage }}"),
    "seconds": (1, "{{ $value | humanizeDuration }}"),
}


def display_scale(unit: str) -> float:
    return _DISPLAY.get(unit, (1, ""))[0]


def _value(unit: str) -> str:
    return _DISPLAY.get(unit, (1, "{{ $value }}"))[1]


def _target(q: KpiQueries) -> str:
    """The threshold as written in the catalogue or config, without its operator."""
    return q.target.text.lstrip("<>=≥≤＞＜ ").strip()


def burn(q: KpiQueries, w: BurnWindow, runbooks: str) -> dict[str, str]:
    """Annotations of one SlaErrorBudgetBurn rule."""
    assert q.objective is not None
    d = q.definition
    long, short = prom_duration(w.long), prom_duration(w.short)
    threshold = objective_text(w.threshold(q.objective))
    objective = objective_text(q.objective)
    exhaust = human_duration(w.exhaustion())
    pace = "快速" if w.severity == "page" else "持续"
    pace_en = "fast" if w.severity == "page" else "steadily"
    value = "{{ $value | humanizePercentage }}"
    return {
        "summary": f"{d.name_zh}：错误预算{pace}消耗 / {d.name_en}: error budget burning {pace_en}",
        "description": (
            f"{d.name_zh}（{d.id}）过去 {long} 的错误率为 {value}，{short} 窗口同样高于 {threshold}，"
            f"即目标 {objective} 允许速度的 {w.factor:g} 倍；照此速度 30 天错误预算约 {exhaust} 耗尽。"
            f" / {d.name_en} ({d.id}): the error ratio over the last {long} is {value}, and over {short} "
            f"also above {threshold}: {w.factor:g}x the rate the {objective} objective allows; at this rate "
            f"the 30-day error budget is gone in about {exhaust}."
        ),
        "runbook_url": runbook(runbooks, "SlaErrorBudgetBurn"),
    }


def capacity(q: KpiQueries, spec: AlertSpec, runbooks: str) -> dict[str, str]:
    d = q.definition
    fields = {"name_zh": d.name_zh, "name_en": d.name_en, "group": q.labels.get("group", ""),
              "value": _value(d.unit), "target": _target(q)}
    return {
        "summary": spec.summary.format(**fields),
        "description": spec.description.format(**fields),
        "runbook_url": runbook(runbooks, spec.name),
    }


HEALTH_ALERTS: tuple[AlertSpec, ...] = (
    AlertSpec(
        "SlaAgentDown", "page", "5m",
        "SLA 采集代理无法抓取 / SLA agent cannot be scraped",
        "Prometheus 已 5 分钟无法抓取 {{ $labels.instance }} 上的 sla-agent：期间所有 KPI 没有新数据，"
        "代理停止期间的时间在本月统计中计为未知。"
        " / Prometheus has failed to scrape sla-agent on {{ $labels.instance }} for 5 minutes: no KPI gets new "
        "data, and time the agent is down counts as unknown in the month's figures.",
    ),
    AlertSpec(
        "SlaAgentAbsent", "page", "10m",
        "Prometheus 中没有 SLA 采集代理 / No SLA agent in Prometheus",
        "10 分钟内没有任何 job=\"{{ $labels.job }}\" 的抓取目标：代理未被配置抓取，或服务发现丢失了它。"
        " / No scrape target with job=\"{{ $labels.job }}\" for 10 minutes: the agent is not in the scrape "
        "configuration or service discovery lost it.",
    ),
    AlertSpec(
        "SlaTargetDown", "ticket", "10m",
        "采集对象无响应 / Monitored target not answering",
        # {hints_zh} / {hints_en}: what a target of each source going down means (SourceSpec.target_down_hint).
        "{{ $labels.collector }} 采集对象 {{ $labels.target }} 已 10 分钟轮询失败：其链路或容量在 KPI 中计为未知，"
        "本月覆盖率随之下降{hints_zh}。"
        " / The {{ $labels.collector }} target {{ $labels.target }} has failed its polls for 10 minutes: its "
        "links or capacity count as unknown in the KPIs, and the month's coverage drops{hints_en}.",
    ),
    AlertSpec(
        "SlaTargetStale", "ticket", "5m",
        "采集数据过期 / Monitored data is stale",
        "{{ $labels.target }} 最近一次成功轮询已是 {{ $value | humanizeDuration }} 之前（阈值 {stale_after}），"
        "但并未报告失败：轮询没有在运行。"
        " / The last successful poll of {{ $labels.target }} was {{ $value | humanizeDuration }} ago (limit "
        "{stale_after}) although no poll failed: polls are not running.",
    ),
    AlertSpec(
        "SlaKpiEvaluationStale", "ticket", "5m",
        "KPI 计算停滞 / KPI evaluation has stalled",
        "{{ $labels.instance }} 上的月度 KPI 已 {{ $value | humanizeDuration }} 未重新计算（阈值 {kpi_stale_after}）："
        "sla_kpi_* 显示的是旧数值，/healthz 报告 degraded。"
        " / Month-to-date KPIs on {{ $labels.instance }} were last computed {{ $value | humanizeDuration }} ago "
        "(limit {kpi_stale_after}): sla_kpi_* show old figures and /healthz reports degraded.",
    ),
    AlertSpec(
        "SlaLedgerWriteFailures", "page", "10m",
        "SLA 账本写入失败 / SLA ledger writes failing",
        "{{ $labels.instance }} 上的账本写入持续失败（最近 5 分钟 {{ $value | printf \"%.0f\" }} 次）：观测值暂存在内存中，"
        "积压过多时最早的会被丢弃，本月 SLA 记录将出现缺口。"
        " / Ledger writes on {{ $labels.instance }} keep failing ({{ $value | printf \"%.0f\" }} in the last "
        "5 minutes): observations are held in memory and the oldest are dropped when too many pile up, "
        "leaving gaps in the month's SLA record.",
    ),
    AlertSpec(
        "SlaConfigReloadFailed", "ticket", "10m",
        "SLA 采集代理配置重载失败 / SLA agent config reload failed",
        "{{ $labels.instance }} 上的 sla-agent 拒绝了新的配置文件（SIGHUP 或 POST /-/reload），已持续 10 分钟："
        "仍在按上一份有效配置运行，新增或修改的采集对象与 KPI 均未生效；代理一旦重启将因该配置无法启动。"
        " / sla-agent on {{ $labels.instance }} refused its new config file (SIGHUP or POST /-/reload) and has for "
        "10 minutes: it runs the previous valid config, so added or changed targets and KPIs are not in effect, "
        "and a restart would fail on this config.",
    ),
)


def health(spec: AlertSpec, runbooks: str, stale_after: float, kpi_stale_after: float) -> dict[str, str]:
    def fill(text: str) -> str:
        # str.format would trip over the templates' braces; only these fields.
        hints = [spec.target_down_hint for spec in sources.sources()]
        return (text.replace("{stale_after}", prom_duration(stale_after))
                .replace("{kpi_stale_after}", prom_duration(kpi_stale_after))
                .replace("{hints_zh}", "".join(zh for zh, _ in hints))
                .replace("{hints_en}", "".join(en for _, en in hints)))

    return {"summary": fill(spec.summary), "description": fill(spec.description),
            "runbook_url": runbook(runbooks, spec.name)}


# -- data coverage -----------------------------------------------------------

INSUFFICIENT_DATA = AlertSpec(
    "SlaKpiInsufficientData", "ticket", "6h",
    "{name_zh}：数据不足 / {name_en}: insufficient data",
    "{name_zh}（{id}）本月至今的数据覆盖率为 {{{{ $value | humanizePercentage }}}}，已连续 6 小时低于所需的 "
    "{min}（min_coverage）：若统计期就此结束，月报将显示「数据不足」，而不是达标或未达标（sla_kpi_met 只看数值）。"
    "查看同期的 SlaTargetDown 与 SlaAgentDown。{hint_zh}"
    " / {name_en} ({id}): month-to-date data coverage is {{{{ $value | humanizePercentage }}}}, below the {min} "
    "it needs (min_coverage) for 6 hours: if the period ended now the monthly report would say insufficient "
    "data, not met or missed (sla_kpi_met judges the figure alone). Look for SlaTargetDown and SlaAgentDown "
    "over the same time.{hint_en}",
)

def insufficient_data(q: KpiQueries, runbooks: str) -> dict[str, str]:
    d = q.definition
    hint_zh, hint_en = sources.serving(d.source).coverage_hint
    fields = {"name_zh": d.name_zh, "name_en": d.name_en, "id": d.id, "min": f"{q.config.min_coverage:.0%}",
              "hint_zh": hint_zh, "hint_en": hint_en}
    spec = INSUFFICIENT_DATA
    return {"summary": spec.summary.format(**fields), "description": spec.description.format(**fields),
            "runbook_url": runbook(runbooks, spec.name)}
