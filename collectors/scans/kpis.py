"""The security scans' row of the KPI catalogue (agent/catalogue.py): 网站安全检测结果."""

from __future__ import annotations

from agent.kpi_definition import KpiDefinition

KPIS: tuple[KpiDefinition, ...] = (
    KpiDefinition(
        id="web_security_findings",
        name_zh="网站安全检测结果",
        name_en="Website security scan result",
        level1="产出指标",
        level2="质量指标",
        kind="latest_count",
        unit="count",
        target="<= 0",
        target_text="无中高危漏洞",
        objective=None,
        source="security_scan",
        description=(
            "Medium and high alerts (vulnerability types, counted per site) of each selected scan's latest "
            "report observed in the period, summed over the scans; met when there are none. A report made "
            "before the period still counts while it is the newest. Coverage: the share of the scans with a "
            "known figure in the period (a scan whose newest report could not be read all period has none)."
        ),
    ),
)
