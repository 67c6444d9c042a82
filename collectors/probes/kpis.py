"""The HTTP probes' rows of the KPI catalogue (agent/catalogue.py): the 深i您 app's service levels."""

from __future__ import annotations

from agent.kpi_definition import KpiDefinition

KPIS: tuple[KpiDefinition, ...] = (
    KpiDefinition(
        id="app_code_display_stability",
        name_zh="深 i 您亮码稳定率",
        name_en="Stability of the Shen-i-Nin health-code display",
        level1="产出指标",
        level2="质量指标",
        kind="availability",
        unit="ratio",
        target=">= 99%",
        target_text="≥99%",
        objective=None,
        source="probe",
        description=(
            "Share of successful probes of the code-display endpoint: probe-time with a successful last probe / "
            "probe-time with any outcome (each outcome holds for the probe's interval, so at a steady interval "
            "this is successes / probes). A probe that failed for the agent's own reasons is unknown, not down."
        ),
    ),
    KpiDefinition(
        id="epidemic_platform_availability",
        name_zh="深 i 您-疫情管控平台各业务系统可用性",
        name_en="Availability of each Shen-i-Nin epidemic-control business system",
        level1="产出指标",
        level2="质量指标",
        kind="worst_availability",
        unit="ratio",
        target=">= 90%",
        target_text="≥90%",
        objective=None,
        source="probe",
        description=(
            "Per business system (a probe's system): probe-time successful / probe-time known over its probes. "
            "Value: the worst system's; met only when every system meets the target. Each system's figure is "
            "exposed (sla_kpi_part_value) and exported as a sub-row."
        ),
    ),
)
