"""The power source's row of the KPI catalogue (agent/catalogue.py): the data center's power supply."""

from __future__ import annotations

from agent.kpi_definition import KpiDefinition

KPIS: tuple[KpiDefinition, ...] = (
    # Table 12 writes the indicator as 保障设备高效、稳定、安全运行 (有效保障); the budget's text
    # states what it asks of the power supply: 数据中心供电零故障. The row's name is the table's, so the
    # export fills that row when the KPI is configured (and leaves it to the manual file when not).
    KpiDefinition(
        id="power_faults",
        name_zh="保障设备高效、稳定、安全运行",
        name_en="Efficient, stable and safe equipment operation: zero power-supply faults",
        level1="效益",
        level2="社会效益",
        kind="fault_count",
        unit="count",
        target="<= 0",
        target_text="有效保障（数据中心供电零故障）",
        objective=None,
        source="power",
        description=(
            "Power faults that began in the period, over the configured UPS and distribution cabinets (SNMP: "
            "UPS-MIB or the unit's profile). A fault is an event: a stretch of time in which any condition of "
            "a unit's profile holds (on battery, bypass, no output, battery low, alarms, input failure, breaker "
            "open, phase loss); conditions that overlap are one fault. A fault still going on from the period "
            "before is not counted again, nor one entirely inside a maintenance window. Coverage: unit-time "
            "with a known state / unit-time of the period."
        ),
    ),
)
