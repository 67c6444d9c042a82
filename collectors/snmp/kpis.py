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

# The inventory's counts (综合运维 / 配电柜 / 服务器 / 接入单位): devices known from snmp.devices and the CMDB
# export (snmp.inventory), counted only when they answered in the period, so a device that was
# decommissioned but not removed from the CMDB is not counted as managed.
KPIS += (
    KpiDefinition(
        id="managed_devices",
        name_zh="综合运维项目运维设备数量",
        name_en="Devices under operations and maintenance",
        level1="产出指标",
        level2="数量指标",
        kind="answered_count",
        unit="count",
        target=">= 2499",
        target_text="≥2499台",
        objective=None,
        source="devices",
        description="Configured SNMP devices (YAML and the CMDB export) that answered at least one poll in the period.",
    ),
    KpiDefinition(
        id="servers",
        name_zh="服务器数量",
        name_en="Servers",
        level1="产出指标",
        level2="数量指标",
        kind="answered_count",
        unit="count",
        target=">= 200",
        target_text="200台",
        objective=None,
        source="devices",
        resource="server",
        description="Configured devices of type server that answered at least one poll in the period.",
    ),
    KpiDefinition(
        id="power_cabinets",
        name_zh="配电柜数量",
        name_en="Power distribution cabinets",
        level1="产出指标",
        level2="数量指标",
        kind="answered_count",
        unit="count",
        target=">= 36",
        target_text="36台",
        objective=None,
        source="devices",
        resource="cabinet",
        description="Configured devices of type cabinet (power distribution cabinets) that answered at least one poll in the period.",
    ),
    KpiDefinition(
        id="connected_organisations",
        name_zh="接入单位数量",
        name_en="Connected organisations",
        level1="产出指标",
        level2="数量指标",
        kind="answered_count",
        unit="count",
        target=">= 53",
        target_text="53家",
        objective=None,
        source="organisations",
        description=(
            "Organisations (a device's organisation) with at least one link up at some time in the period, over "
            "the links of the KPI's link_group, or of every group when it names none."
        ),
    ),
)
