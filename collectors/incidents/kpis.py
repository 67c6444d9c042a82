"""Incident accounting's rows of the KPI catalogue (agent/catalogue.py)."""

from __future__ import annotations

from agent.kpi_definition import KpiDefinition

KPIS: tuple[KpiDefinition, ...] = (
    KpiDefinition(
        id="fault_handling_rate",
        name_zh="综合运维项目故障处理率",
        name_en="Fault resolution rate",
        level1="产出指标",
        level2="质量指标",
        kind="incident_resolution",
        unit="ratio",
        target=">= 99%",
        target_text="≥99%",
        objective=None,
        source="incidents",
        description=(
            "Incidents raised in the period (a down run of a link, probe or power unit outside maintenance, or an "
            "alert Alertmanager pushed) that were resolved by its end / incidents raised; 100 % when none was "
            "raised. Unknown time is never an incident."
        ),
    ),
    KpiDefinition(
        id="network_fault_timeliness",
        name_zh="网络故障处理及时性",
        name_en="Timeliness of network fault handling",
        level1="产出指标",
        level2="时效",
        kind="incident_timeliness",
        unit="ratio",
        target=">= 100%",
        target_text="及时",
        objective=None,
        source="incidents",
        description=(
            "Network incidents (links, alerts labelled as network) raised in the period and resolved within the "
            "KPI's `within` bound (default 4 h) / network incidents raised; 100 % when none was raised."
        ),
    ),
)
