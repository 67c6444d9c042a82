"""The service probes dashboard (sla-probes.json), built like agent/generators/dashboards.py."""

from __future__ import annotations

from agent.generators import grafana as g
from agent.generators.dashboards_common import UP
from agent.generators.queries import KpiQueries, kpis_matching, selector
from agent.generators.rules import error_ratio


def probes(queries: list[KpiQueries], job: str) -> g.Json:
    grid = g.Grid()
    sel = selector(job=job, probe="~$probe")
    grid.row("拨测结果 Probe outcomes")
    grid.add(g.state_timeline("拨测结果", "Outcome of each probe: success, failure; gaps are unknown (the agent "
                              "could not run the probe).",
                              g.targets((f"sla_probe_success{sel}", "{{system}} / {{probe}}")), UP,
                              g.thresholds((None, g.RED), (1, g.GREEN))), 24, 8)
    ratio = [q for q in queries if q.ratio is not None and q.definition.source == "probe"]
    if ratio:
        ids = kpis_matching(ratio)
        grid.add(g.timeseries("拨测成功率", "Probe-time successful / known per KPI over 5 minutes and 1 hour "
                              "(recording rules kpi:sla_error:ratio_rate*).",
                              g.targets((f"1 - {error_ratio(300)}{selector(kpi=ids)}", "{{kpi}} 5m"),
                                        (f"1 - {error_ratio(3600)}{selector(kpi=ids)}", "{{kpi}} 1h")),
                              "percentunit", maximum=1), 12, 8)
    parted = [q for q in queries if q.definition.kind == "worst_availability"]
    if parted:
        ids = kpis_matching(parted)
        grid.add(g.timeseries("各业务系统可用性（本月）", "Month-to-date availability of each business system "
                              "(sla_kpi_part_value), against the target every system must meet.",
                              g.targets((f"sla_kpi_part_value{selector(job=job, kpi=ids)}", "{{part}}"),
                                        (f"sla_kpi_target{selector(job=job, kpi=ids)}", "目标 target")),
                              "percentunit", maximum=1), 12 if ratio else 24, 8)
    grid.row("时延与证书 Timings and certificates")
    grid.add(g.timeseries("拨测各阶段耗时", "DNS, TCP connect, TLS handshake, time to first byte and total of the "
                          "last probe.", g.targets((f"sla_probe_phase_duration_seconds{sel}", "{{probe}} {{phase}}")),
                          "s", minimum=0), 12, 8)
    grid.add(g.timeseries("失败原因", "Failed probes per minute by reason.",
                          g.targets((f"sum by (probe, reason) (rate(sla_probe_failures_total{sel}[$__rate_interval])) * 60",
                                     "{{probe}} {{reason}}")), "short", minimum=0), 12, 8)
    grid.add(g.stat("证书剩余天数", "Days until each service's TLS certificate expires (notAfter).",
                    g.targets((f"(sla_probe_tls_certificate_expiry_timestamp_seconds{sel} - time()) / 86400",
                               "{{probe}}")), "none",
                    g.thresholds((None, g.RED), (7, g.YELLOW), (14, g.GREEN)), decimals=0), 12, 6)
    grid.add(g.stat("HTTP 状态码", "Status of the last answer of each probe (0: no answer).",
                    g.targets((f"sla_probe_http_status_code{sel}", "{{probe}}")), "none",
                    g.thresholds((None, g.RED), (200, g.GREEN), (300, g.YELLOW), (400, g.RED))), 12, 6)
    variables = [g.datasource_variable(),
                 g.query_variable("probe", "拨测 Probe", f"label_values(sla_probe_success{selector(job=job)}, probe)")]
    return g.dashboard("sla-probes", "SLA 服务拨测 Service probes",
                       "HTTP probes of the 深i您 app and its business systems: outcomes, success rates, each "
                       "system's availability, timings and certificates.", grid, variables, ["sla-agent"])
