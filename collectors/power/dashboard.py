"""The data-center power dashboard (sla-power.json), built like agent/generators/dashboards.py."""

from __future__ import annotations

from agent.generators import grafana as g
from agent.generators.queries import KpiQueries, kpis_matching, selector

FAULT = g.value_mappings({0: ("正常 normal", g.GREEN), 1: ("故障 fault", g.RED)})
# UPS-MIB upsOutputSource (RFC 1628).
OUTPUT_SOURCE = g.value_mappings({1: ("其他 other", g.BLUE), 2: ("无输出 none", g.RED), 3: ("市电 normal", g.GREEN),
                                  4: ("旁路 bypass", g.ORANGE), 5: ("电池 battery", g.RED),
                                  6: ("升压 booster", g.YELLOW), 7: ("降压 reducer", g.YELLOW)})
# Zero faults is the target: any fault is red (the overview's traffic light has no room below 0).
COUNT_STEPS = g.thresholds((None, g.GREEN), (1, g.RED))


def power(queries: list[KpiQueries], job: str) -> g.Json:
    grid = g.Grid()
    sel = selector(job=job, unit="~$unit")
    grid.row("供电状态 Power state")
    counted = [q for q in queries if q.definition.kind == "fault_count"]
    grid.add(g.state_timeline("各单元故障状态", "Per unit: fault while any condition of its profile holds; gaps are "
                              "unknown (the unit could not be read).",
                              g.targets((f"max by (unit) (sla_power_fault{sel})", "{{unit}}")), FAULT,
                              g.thresholds((None, g.GREEN), (1, g.RED))), 16 if counted else 24, 8)
    if counted:
        ids = kpis_matching(counted)
        kpi = selector(job=job, kpi=ids)
        grid.add(g.stat("本月供电故障次数", "Power faults that began this month (sla_kpi_value), maintenance "
                        "excluded; the target is 0.", g.targets((f"sla_kpi_value{kpi}", "{{kpi}}")), "none",
                        COUNT_STEPS, decimals=0), 4, 8)
        grid.add(g.stat("各单元本月故障", "Each unit's faults this month (sla_kpi_part_value).",
                        g.targets((f"sla_kpi_part_value{kpi}", "{{part}}")), "none", COUNT_STEPS, decimals=0), 4, 8)
    grid.add(g.state_timeline("故障条件", "Each condition of each unit (sla_power_fault): on_battery, bypass, "
                              "output_off, battery_low, alarm, input_failure (one poll per input failure the "
                              "device counted), breaker_open, phase_loss, ...",
                              g.targets((f"sla_power_fault{sel}", "{{unit}} {{condition}}")), FAULT,
                              g.thresholds((None, g.GREEN), (1, g.RED))), 24, 10)
    grid.row("UPS 与配电柜 UPS and cabinets")
    grid.add(g.state_timeline("UPS 输出来源", "UPS-MIB upsOutputSource: normal (mains), battery, bypass, none; "
                              "booster / reducer are the UPS correcting the mains, not faults.",
                              g.targets((f"sla_power_output_source{sel}", "{{unit}}")), OUTPUT_SOURCE,
                              g.thresholds((None, g.GREEN))), 12, 8)
    grid.add(g.timeseries("当前告警数", "Alarms each unit reports at present (upsAlarmsPresent, or the cabinet "
                          "profile's count).", g.targets((f"sla_power_alarms_present{sel}", "{{unit}}")),
                          "short", minimum=0), 12, 8)
    grid.add(g.timeseries("市电输入异常次数", "Input failures the devices counted per hour "
                          "(upsInputLineBads, or the cabinet profile's counter).",
                          g.targets((f"increase(sla_power_input_line_bads_total{sel}[1h])", "{{unit}}")),
                          "short", minimum=0), 24, 8)
    variables = [g.datasource_variable(),
                 g.query_variable("unit", "供电单元 Unit", f"label_values(sla_power_fault{selector(job=job)}, unit)")]
    return g.dashboard("sla-power", "SLA 数据中心供电 Data-center power",
                       "UPS and power distribution cabinets over SNMP: fault conditions per unit, the UPS output "
                       "source, alarms, input failures and the zero-fault KPI month to date.", grid, variables,
                       ["sla-agent"])
