"""The SMS canary's alerts (generators only): one gateway's synthetic probe, its PromQL and bilingual texts.

SlaSmsCanaryFailing stands in for the KPIs between their monthly figures: a
canary message not delivered, or delivered only slowly, over a window of
several probes (collectors/sms/canary.py sends them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.catalogue import BY_ID
from agent.config import Config, kpi_definition
from agent.generators.alert_texts import runbook
from agent.generators.alerting import prom_duration
from agent.generators.queries import DEFAULT_JOB, selector
from agent.generators.rules import MISSED
from agent.units import Target, parse_target

CANARY_LATENCY_KPI = "sms_send_latency"  # whose bound (10 s) the canary's latency is held to


@dataclass(frozen=True, slots=True)
class CanaryQueries:
    """One SMS gateway's synthetic canary (collectors/sms/canary.py), for its alerts and panels."""

    gateway: str
    interval: float  # seconds between probes
    timeout: float  # seconds a probe waits for a final status before it fails (target down)
    bound: Target  # the send-speed target, e.g. <= 10 s
    job: str

    def selector(self, **labels: str) -> str:
        return selector(job=self.job, gateway=self.gateway, **labels)


def canary_bound(config: Config) -> Target:
    """The send-speed bound: the configured sms_send_latency KPI's target, else the catalogue's."""
    for kpi in config.kpis:
        definition = kpi_definition(kpi)
        if definition.kind == "latency_within" and definition.source == "sms":
            return parse_target(definition.target, definition.unit)
    definition = BY_ID[CANARY_LATENCY_KPI]
    return parse_target(definition.target, definition.unit)


def canary_queries(config: Config, job: str = DEFAULT_JOB) -> list[CanaryQueries]:
    """Every configured gateway with a ``canary:``, in config order (none: no canary alerts or panels)."""
    bound = canary_bound(config)
    return [CanaryQueries(gateway.name, gateway.canary.interval, gateway.canary.timeout, bound, job)
            for gateway in getattr(config, "sms", ()) if gateway.canary is not None]


CANARY_ALERT = "SlaSmsCanaryFailing"
# symptom -> (kpi it stands in for, summary, description); {window} is the look-back
# window, {for_} the rule's hold, {bound} the send-speed bound (10s).
CANARY_SYMPTOMS: dict[str, tuple[str, str, str]] = {
    "undelivered": (
        "sms_delivery_rate",
        "短信拨测未送达 / SMS canary messages not delivered",
        "短信网关 {gateway} 的拨测短信在最近 {window} 内无一送达（其间 {{{{ $value | printf \"%.0f\" }}}} 次拨测未能送达："
        "失败、过期、超时或提交失败），已持续 {for_}：网关接受了拨测短信，但运营商没有送达。提交失败或超时未得到最终状态的拨测"
        "使采集对象 {gateway}/canary 中断，由 SlaTargetDown 报告。"
        " / No canary message of SMS gateway {gateway} was delivered in the last {window} "
        "({{{{ $value | printf \"%.0f\" }}}} probes did not end delivered meanwhile: failed, expired, timed out or "
        "not submitted), for {for_}: the gateway "
        "takes the messages but they do not reach the handset. Probes whose submit fails or that get no final "
        "status in time take the target {gateway}/canary down, which SlaTargetDown reports.",
    ),
    "slow": (
        "sms_send_latency",
        "短信拨测送达过慢 / SMS canary deliveries too slow",
        "短信网关 {gateway} 最近 {window} 内送达的拨测短信最快也用了 {{{{ $value | humanizeDuration }}}}，"
        "超过 {bound} 的发送速度目标，已持续 {for_}（以代理自身时钟，从提交前到状态查询显示送达）。"
        " / Even the fastest canary message SMS gateway {gateway} delivered in the last {window} took "
        "{{{{ $value | humanizeDuration }}}}, above the {bound} send-speed target, for {for_} (on the agent's own "
        "clock, from just before the submit to the status answer showing it delivered).",
    ),
}
CANARY_SEVERITY = "ticket"
CANARY_FOR = "5m"


def canary_texts(symptom: str, gateway: str, window: str, bound: str, runbooks: str) -> dict[str, str]:
    _, summary, description = CANARY_SYMPTOMS[symptom]
    fields = {"gateway": gateway, "window": window, "for_": CANARY_FOR, "bound": bound}
    return {"summary": summary, "description": description.format(**fields),
            "runbook_url": runbook(runbooks, CANARY_ALERT)}


def canary_window(c: CanaryQueries) -> float:
    """How far back the canary alerts look: at least 10 minutes and three probes."""
    return max(600.0, 3 * c.interval)


def canary_alerts(c: CanaryQueries, runbooks: str) -> list[dict[str, Any]]:
    """SlaSmsCanaryFailing for one gateway's canary: nothing delivered, or only slowly.

    Both look back over a window of several probes rather than at the last
    one, so one lost or slow test message opens no ticket. The canary's
    gauges hold the last probe with a *final* status; a probe that fails to
    submit or gets no final status within its timeout makes the poll fail,
    and the canary's samples vanish until the next good probe (the target is
    down: SlaTargetDown). Over a window those gaps are skipped, so failed
    probes interleaved with timed-out ones still fire; a canary down the
    whole time is SlaTargetDown's alone.
    """
    window = prom_duration(canary_window(c))
    sel = c.selector()
    delivered = f"max_over_time(sla_sms_canary_delivered{sel}[{window}])"
    ids = "on (instance, job, gateway)"
    exprs = {
        # The value: probes that did not end delivered within the window (counters
        # survive the gaps of timed-out probes; increase() handles agent restarts).
        "undelivered": (f"sum by (instance, job, gateway) (increase(sla_sms_canary_failures_total{sel}[{window}]))\n"
                        f"and {ids}\n{delivered} == 0\n"),
        # The value: the fastest delivery of the window; only while some probe
        # was delivered (the gauge keeps the last delivered latency while later
        # probes fail, which the undelivered rule reports).
        "slow": (f"min_over_time(sla_sms_canary_latency_seconds{sel}[{window}]) {MISSED[c.bound.op]} "
                 f"{c.bound.value:g}\nand {ids}\n{delivered} == 1\n"),
    }
    bound = c.bound.text.lstrip("<>= ")
    alerts = []
    for symptom, (kpi, _, _) in CANARY_SYMPTOMS.items():
        alerts.append({
            "alert": CANARY_ALERT,
            "expr": exprs[symptom],
            "for": CANARY_FOR,
            "labels": {"severity": CANARY_SEVERITY, "kpi": kpi, "gateway": c.gateway, "symptom": symptom},
            "annotations": canary_texts(symptom, c.gateway, window, bound, runbooks),
        })
    return alerts


def alerts(config: Config, job: str, runbooks: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """The canary alert group (none when no gateway has a canary)."""
    found = [a for c in canary_queries(config, job) for a in canary_alerts(c, runbooks)]
    return [("sla-agent.canary-alerts", found)] if found else []
