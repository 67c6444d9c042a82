"""The SNMP source (link groups)'s rows of the KPI catalogue (agent/catalogue.py)."""

from __future__ import annotations

from agent.kpi_definition import KpiDefinition

KPIS: tuple[KpiDefinition, ...] = (
    KpiDefinition(
        id="egress_bandwidth",
        name_zh="出口可用宽带",
        name_en="Available internet egress bandwidth",
        level1="产出指标",
        level2="数量指标",
        kind="capacity_sum",
        unit="bytes_per_second",
        target=">= 15Gbit/s",
        target_text="≥15G",
        objective=0.99,
        source="link_group",
        description=(
            "Sum of the capacities (contracted, else ifHighSpeed) of the group's links whose "
            "ifOperStatus is up; unknown while any link of the group is unknown."
        ),
    ),
    KpiDefinition(
        id="egress_link_availability",
        name_zh="政务外网统一互联网出口链路可用率",
        name_en="Unified internet egress link availability",
        level1="产出指标",
        level2="质量指标",
        kind="availability",
        unit="ratio",
        target=">= 99%",
        target_text="≥99%",
        objective=None,
        source="link_group",
        description="Link-time up / (link-time up + link-time down) over the group's links (ifOperStatus).",
    ),
    KpiDefinition(
        id="mobile_office_link_availability",
        name_zh="政务外网移动办公出口链路可用率",
        name_en="Mobile-office egress link availability",
        level1="产出指标",
        level2="质量指标",
        kind="availability",
        unit="ratio",
        target=">= 99%",
        target_text="≥99%",
        objective=None,
        source="link_group",
        description="Link-time up / (link-time up + link-time down) over the group's links (ifOperStatus).",
    ),
)
