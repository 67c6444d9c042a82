"""Units, colours and value mappings shared by the generated dashboards."""

from __future__ import annotations

from agent.generators import grafana as g
from agent.generators.queries import KpiQueries

# Base unit -> (factor to the displayed unit, Grafana unit).
UNITS = {
    "bytes_per_second": (8, "bps"),  # links are sold in bit/s
    "bytes": (1, "bytes"),  # Grafana's "bytes" is IEC (KiB, MiB): the cloud's own units
    "count": (1, "short"),
    "ratio": (1, "percentunit"),
    "seconds": (1, "s"),
}
UP = g.value_mappings({0: ("中断 down", g.RED), 1: ("正常 up", g.GREEN)})
MET = g.value_mappings({0: ("未达标 not met", g.RED), 1: ("达标 met", g.GREEN)})
INSUFFICIENT = 2  # the status value of 数据不足 (insufficient data)
STATUS = g.value_mappings({0: ("未达标 not met", g.RED), 1: ("达标 met", g.GREEN),
                           INSUFFICIENT: ("数据不足 insufficient data", g.ORANGE)})
STATUS_STEPS = g.thresholds((None, g.RED), (1, g.GREEN), (INSUFFICIENT, g.ORANGE))
DELIVERED = g.value_mappings({0: ("未送达 not delivered", g.RED), 1: ("送达 delivered", g.GREEN)})
RESOURCE_ZH = {"vcpu": "vCPU", "memory": "内存", "storage": "存储"}


def scaled(expr: str, unit: str) -> str:
    factor = UNITS.get(unit, (1, "none"))[0]
    return expr if factor == 1 else f"{factor} * {expr}"


def traffic_light(q: KpiQueries) -> g.Json:
    """Red: target missed; yellow: met with little margin; green: comfortably met."""
    factor = UNITS.get(q.definition.unit, (1, "none"))[0]
    target = q.target.value * factor
    if q.target.op in (">=", ">"):
        margin = target + (1 - target) / 2 if q.definition.unit == "ratio" else target * 1.1
        return g.thresholds((None, g.RED), (round(target, 9), g.YELLOW), (round(margin, 9), g.GREEN))
    if target <= 0:  # "at most 0" (faults, findings): green at 0, red from the first one
        return g.thresholds((None, g.GREEN), (round(target + 1, 9) if q.definition.unit == "count" else 1e-9, g.RED))
    return g.thresholds((None, g.GREEN), (round(target * 0.9, 9), g.YELLOW), (round(target, 9), g.RED))


def status(sel: str) -> str:
    """A KPI's status as the monthly export judges it: 1 met, 0 not met, 2 insufficient data.

    sla_kpi_met judges the figure alone; the export says 数据不足 while the
    coverage is below min_coverage (agent/kpi_types.py ``sufficient``), and so
    does this: met / not met only where coverage >= sla_kpi_min_coverage_ratio,
    else 2 (also for a KPI with no figure at all, whose sla_kpi_met is absent).
    """
    return (f"(sla_kpi_met{sel} and sla_kpi_coverage_ratio{sel} >= sla_kpi_min_coverage_ratio{sel})\n"
            f"or\n{INSUFFICIENT} + 0 * sla_kpi_coverage_ratio{sel}")


def pace(sel: str) -> str:
    """A yearly target pro-rated by the share of the (UTC) year elapsed; the agent's own
    pace check (sla_kpi_met) uses the configured time zone."""
    return f"max(sla_kpi_target{sel}) * (day_of_year() - 1 + hour() / 24) / 365"
