"""The SMS source's rows of the KPI catalogue (agent/catalogue.py)."""

from __future__ import annotations

from agent.kpi_definition import KpiDefinition

# The government SMS platform (政务短信平台). Counts are by submit time: a report
# that arrives after the month ended still counts for the month of the submit.
KPIS: tuple[KpiDefinition, ...] = (
    KpiDefinition(
        id="sms_delivery_rate",
        name_zh="短信送达率",
        name_en="SMS delivery rate",
        level1="产出指标",
        level2="质量指标",
        kind="delivery_rate",
        unit="ratio",
        target=">= 98%",
        target_text="≥98%",
        objective=None,
        source="sms",
        description=(
            "Delivered / (delivered + failed + expired) over messages submitted in the period whose "
            "status is final; messages still pending within the grace period are left out until final."
        ),
    ),
    KpiDefinition(
        id="sms_send_latency",
        name_zh="短信发送速度",
        name_en="SMS send speed",
        level1="产出指标",
        level2="时效",
        kind="latency_within",
        unit="seconds",
        target="<= 10s",
        target_text="≤10秒",
        objective=0.95,
        source="sms",
        description=(
            "Submit-to-delivery-report time of delivered messages (gateway clock, ms). Value: the latency "
            "at the objective's percentile (p95); compliance: share delivered within 10 s; met when that "
            "share reaches the objective."
        ),
    ),
    KpiDefinition(
        id="sms_annual_volume",
        name_zh="短信年发送总量",
        name_en="SMS messages sent per year",
        level1="产出指标",
        level2="数量指标",
        kind="annual_volume",
        unit="count",
        target=">= 170000000",
        target_text="≥17000万条",
        objective=None,
        source="sms",
        description=(
            "Messages submitted year to date (calendar year in the configured time zone); met when on "
            "pace: at least the target pro-rated by the share of the year elapsed."
        ),
    ),
)
