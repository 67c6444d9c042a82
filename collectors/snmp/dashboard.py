"""The network links dashboard (sla-links.json), built like agent/generators/dashboards.py."""

from __future__ import annotations

from agent.generators import grafana as g
from agent.generators.dashboards_common import UP
from agent.generators.queries import KpiQueries, selector
from agent.generators.rules import error_ratio


def links(queries: list[KpiQueries], job: str) -> g.Json:
    grid = g.Grid()
    sel = selector(job=job, group="~$group")
    grid.row("链路状态 Link state")
    grid.add(g.state_timeline("链路状态", "ifOperStatus of every link: up, down; gaps are unknown (not polled, "
                              "poll failed, interface not found).",
                              g.targets((f"sla_link_up{sel}", "{{group}} / {{link}}")), UP,
                              g.thresholds((None, g.RED), (1, g.GREEN))), 24, 8)
    availability = [q for q in queries if q.ratio is not None and "group" in q.labels]
    if availability:
        grid.row("可用率 Availability")
        rsel = selector(group="~$group")
        grid.add(g.timeseries("链路可用率", "Link-time up / link-time known per KPI over 5 minutes and 1 hour "
                              "(recording rules kpi:sla_error:ratio_rate*).",
                              g.targets((f"1 - {error_ratio(300)}{rsel}", "{{kpi}} 5m"),
                                        (f"1 - {error_ratio(3600)}{rsel}", "{{kpi}} 1h")),
                              "percentunit", maximum=1), 16, 8)
        grid.add(g.stat("30 天可用率", "Rolling 30-day availability per KPI, from Prometheus.",
                        g.targets((f"1 - {error_ratio(30 * 86400)}{rsel}", "{{kpi}}")), "percentunit",
                        g.thresholds((None, g.RED), (availability[0].objective, g.GREEN)), decimals=3), 8, 8)
    grid.row("流量与容量 Traffic and capacity")
    rx, tx = (f"rate(sla_link_{way}_bytes_total{sel}[$__rate_interval])" for way in ("receive", "transmit"))
    grid.add(g.timeseries("流量", "Receive and transmit rate of each link, from its HC octet counters.",
                          g.targets((f"8 * {rx}", "{{link}} 入 in"), (f"8 * {tx}", "{{link}} 出 out")), "bps"),
             12, 8)
    grid.add(g.timeseries("利用率", "Traffic / link capacity (contracted, else ifHighSpeed), each direction.",
                          g.targets((f"{rx} / sla_link_capacity_bytes_per_second{sel}", "{{link}} 入 in"),
                                    (f"{tx} / sla_link_capacity_bytes_per_second{sel}", "{{link}} 出 out")),
                          "percentunit", minimum=0, steps=g.thresholds((None, g.GREEN), (0.8, g.YELLOW), (0.9, g.RED)),
                          threshold_style="line"), 12, 8)
    capacity = [(f"8 * sum by (group) (sla_link_capacity_bytes_per_second{sel} * sla_link_up{sel})",
                 "{{group}} 可用 available")]
    capacity += [(f"8 * sla_kpi_target{q.kpi_selector()}", f"{q.id} 目标 target")
                 for q in queries if q.capacity is not None and "group" in q.labels]
    grid.add(g.timeseries("可用带宽", "Summed capacity of the links that are up, per group, against the "
                          "bandwidth KPI's target.", g.targets(*capacity), "bps", minimum=0), 12, 8)
    grid.add(g.timeseries("链路容量", "Capacity of each link: the contracted capacity if configured, else ifHighSpeed.",
                          g.targets((f"8 * sla_link_capacity_bytes_per_second{sel}", "{{link}}")), "bps", minimum=0),
             12, 8)
    grid.add(g.timeseries("错误与丢弃", "Interface errors and discards per second (ifInErrors, ifOutErrors, "
                          "ifInDiscards, ifOutDiscards).",
                          g.targets(*[(f"rate(sla_link_{m}_total{sel}[$__rate_interval])", f"{{{{link}}}} {m}")
                                      for m in ("receive_errors", "transmit_errors", "receive_discards",
                                                "transmit_discards")]), "pps", minimum=0), 24, 7)
    variables = [g.datasource_variable(),
                 g.query_variable("group", "链路组 Link group", f"label_values(sla_link_up{selector(job=job)}, group)")]
    return g.dashboard("sla-links", "SLA 网络链路 Network links",
                       "Egress link state, availability, traffic, utilisation and capacity per link group.",
                       grid, variables, ["sla-agent"])
