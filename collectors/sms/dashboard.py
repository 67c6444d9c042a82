"""The SMS dashboard (sla-sms.json) with its canary panels, built like agent/generators/dashboards.py."""

from __future__ import annotations

from typing import Sequence

from agent.generators import grafana as g
from agent.generators.dashboards_common import DELIVERED, pace, traffic_light
from agent.generators.queries import KpiQueries, selector
from agent.generators.rules import error_ratio
from collectors.sms.alerts import CanaryQueries


def sms(queries: list[KpiQueries], job: str, canaries: Sequence[CanaryQueries] = ()) -> g.Json:
    grid = g.Grid()
    sel = selector(job=job, gateway="~$gateway")
    by_kind = {q.definition.kind: q for q in queries if q.definition.source == "sms"}
    rate = "[$__rate_interval]"
    if (q := by_kind.get("delivery_rate")) is not None:
        grid.row("送达率 Delivery")
        grid.add(g.stat("本月送达率", f"Delivered / finished messages submitted this month. Target {q.target.text}.",
                        g.targets((f"sla_kpi_value{q.kpi_selector()}", "")), "percentunit", traffic_light(q),
                        decimals=2), 6, 8)
        series = [(f"sum(rate(sla_sms_{s}_total{sel}{rate}))", f"{zh} {s}")
                  for s, zh in (("delivered", "送达"), ("failed", "失败"), ("expired", "过期"))]
        grid.add(g.timeseries("消息结果", "Messages reaching a final status per second, by outcome.",
                              g.targets(*series), "short", minimum=0), 9, 8)
        if q.ratio is not None:
            ksel = selector(kpi=q.id)
            grid.add(g.timeseries("送达率（滚动）", "Delivery rate over 5 minutes and 1 hour, by report time "
                                  "(recording rules); the month figure counts by submit time.",
                                  g.targets((f"1 - {error_ratio(300)}{ksel}", "5m"),
                                            (f"1 - {error_ratio(3600)}{ksel}", "1h")), "percentunit", maximum=1),
                     9, 8)
        grid.add(g.timeseries("失败原因", "Failed and expired messages per second by error code.",
                              g.targets((f"sum by (code) (rate(sla_sms_errors_total{sel}{rate}))", "{{code}}")),
                              "short", minimum=0), 24, 7)
    if (q := by_kind.get("latency_within")) is not None:
        grid.row("发送速度 Send speed")
        bucket = f"sla_sms_send_latency_seconds_bucket{sel}"
        grid.add(g.heatmap("发送耗时分布", "Submit-to-delivery-report time of delivered messages (histogram "
                           "buckets, messages per interval).", f"sum by (le) (increase({bucket}{rate}))"), 12, 9)
        grid.add(g.timeseries("发送耗时分位数", f"Median and 95th percentile over the interval, against the "
                              f"{q.target.text} target; the month's p95 as the agent computes it.",
                              g.targets((f"histogram_quantile(0.5, sum by (le) (rate({bucket}{rate})))", "p50"),
                                        (f"histogram_quantile(0.95, sum by (le) (rate({bucket}{rate})))", "p95"),
                                        (f"sla_kpi_value{q.kpi_selector()}", "本月 p95 month"),
                                        (f"sla_kpi_target{q.kpi_selector()}", "目标 target")), "s", minimum=0), 12, 9)
        share = [(f"sla_kpi_compliance_ratio{q.kpi_selector()}", "本月 month"),
                 (f"sla_kpi_objective_ratio{q.kpi_selector()}", "目标 objective")]
        if q.ratio is not None:
            share.insert(0, (f"1 - {error_ratio(3600)}{selector(kpi=q.id)}", "1h"))
        grid.add(g.timeseries(f"{q.target.text.lstrip('<=≤ ')} 内送达占比", "Share of delivered messages reported "
                              "within the target time, against the objective.", g.targets(*share), "percentunit",
                              maximum=1), 24, 7)
    if (q := by_kind.get("annual_volume")) is not None:
        grid.row("发送量 Volume")
        grid.add(g.stat("年累计发送量", f"Messages submitted this year. Target {q.target.text} for the year; met "
                        "when on pace.", g.targets((f"sla_kpi_value{q.kpi_selector()}", "")), "short",
                        g.thresholds((None, g.BLUE))), 6, 8)
        grid.add(g.timeseries("年累计 vs 进度", "Year-to-date messages against the yearly target pro-rated by "
                              "the share of the year elapsed.",
                              g.targets((f"sla_kpi_value{q.kpi_selector()}", "年累计 year to date"),
                                        (pace(q.kpi_selector()), "进度目标 pace")), "short", minimum=0), 9, 8)
        grid.add(g.timeseries("每日发送量", "Messages submitted in the last 24 hours, against the daily average "
                              "the yearly target needs.",
                              g.targets((f"sum(increase(sla_sms_submitted_total{sel}[1d]))", "24h"),
                                        (f"max(sla_kpi_target{q.kpi_selector()}) / 365", "所需日均 needed")),
                              "short", minimum=0), 9, 8)
    if canaries:
        _canary_panels(grid, canaries, selector(job=job, gateway="~$gateway"))
    grid.row("网关 Gateway")
    grid.add(g.timeseries("待定与积压", "Messages awaiting a final status, and reports waiting for their submit.",
                          g.targets((f"sla_sms_pending{sel}", "{{gateway}} 待定 pending"),
                                    (f"sla_sms_unmatched_reports{sel}", "{{gateway}} 未匹配 unmatched")),
                          "short", minimum=0), 12, 7)
    grid.add(g.timeseries("记录流延迟", "How far behind the agent's clock the delivery-record feed has been read.",
                          g.targets((f"sla_sms_feed_lag_seconds{sel}", "{{gateway}}")), "s", minimum=0), 12, 7)
    variables = [g.datasource_variable(),
                 g.query_variable("gateway", "短信网关 Gateway",
                                  f"label_values(sla_sms_submitted_total{selector(job=job)}, gateway)")]
    return g.dashboard("sla-sms", "SLA 短信 SMS", "SMS delivery rate, send speed and yearly volume per gateway.",
                       grid, variables, ["sla-agent"])


def _canary_panels(grid: g.Grid, canaries: Sequence[CanaryQueries], sel: str) -> None:
    """The synthetic canary of the gateways that have one (collectors/sms/canary.py)."""
    bound = canaries[0].bound  # the send-speed target, one for all gateways
    gone = ("While a probe cannot be submitted or gets no final status within its timeout, the canary target "
            "is down and its samples are gone (SlaTargetDown; the agent health dashboard).")
    grid.row("拨测 Canary")
    grid.add(g.timeseries("拨测耗时", f"Submit-to-delivered time of each gateway's last delivered canary message, "
                          f"on the agent's own clock (0.5 s resolution), against the {bound.text} target (red "
                          f"line). A failed probe leaves the last delivered value. {gone}",
                          g.targets((f"sla_sms_canary_latency_seconds{sel}", "{{gateway}}")), "s", minimum=0,
                          steps=g.thresholds((None, g.GREEN), (bound.value, g.RED)), threshold_style="line"), 12, 8)
    grid.add(g.state_timeline("拨测结果", f"Whether each gateway's last canary message with a final status was "
                              f"delivered (failed or expired: not delivered). {gone}",
                              g.targets((f"sla_sms_canary_delivered{sel}", "{{gateway}}")), DELIVERED,
                              g.thresholds((None, g.RED), (1, g.GREEN))), 12, 8)
    probes = f"sum by (gateway) (increase(sla_sms_canary_probes_total{sel}[1h]))"
    failures = f"increase(sla_sms_canary_failures_total{sel}[1h])"
    grid.add(g.timeseries("拨测次数（每小时）", "Canary probes in the last hour per gateway: delivered, and those "
                          "that were not by reason (failed, expired: the gateway's final status; timeout: no final "
                          "status in time; submit, status: the gateway's API failed).",
                          g.targets((f"{probes} - sum by (gateway) ({failures})", "{{gateway}} 送达 delivered"),
                                    (f"sum by (gateway, reason) ({failures})", "{{gateway}} 未送达 {{reason}}")),
                          "short", minimum=0), 24, 7)
