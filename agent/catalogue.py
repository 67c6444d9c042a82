"""The KPI catalogue: the one source of truth for every indicator.

Each entry mirrors a row of the evaluation table (table 12 of the center's
budget: 一级指标 / 二级指标 / 三级指标 / 目标值) plus how the agent measures it.
Exposition, the README's KPI table, and later the rules, dashboards and the
monthly export are all derived from here; a config may override a target or
objective, or add a KPI of a known kind, but never restates the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# How a KPI is computed from ledger series (see agent/kpi.py):
#   availability  - up time / (up + down time) of 0/1 state series
#   capacity_sum  - sum of gauge series at each instant; time-weighted mean,
#                   minimum and share of time meeting the target
#   delivery_rate, latency_within, annual_volume - SMS message counts and
#                   latency histograms by submit time (see collectors/sms/kpi.py)
KpiKind = Literal["availability", "capacity_sum", "delivery_rate", "latency_within", "annual_volume"]
Unit = Literal["ratio", "bytes_per_second", "bytes", "seconds", "count"]
# Where a KPI's input series come from (see agent/kpi.py):
#   link_group - the links of one configured link group
#   cloud      - every region of the configured clouds (or those the KPI names)
#   sms        - every configured SMS gateway (or those the KPI names)
Source = Literal["link_group", "cloud", "sms"]
# The source of a KPI the config defines itself (name, kind, unit and target given): availability or
# summed capacity of a link group, the generic kinds.
CUSTOM_KPI_SOURCE: Source = "link_group"


@dataclass(frozen=True, slots=True)
class KpiDefinition:
    id: str
    name_zh: str  # 三级指标, verbatim from the evaluation table
    name_en: str
    level1: str  # 一级指标
    level2: str  # 二级指标
    kind: KpiKind
    unit: Unit
    target: str  # 目标值 as a comparison in config syntax, e.g. ">= 99%"
    target_text: str  # 目标值 as written in the table, e.g. "≥99%"
    objective: float | None  # share of time in compliance needed (gauge kinds)
    source: Source
    description: str
    # For cloud KPIs: the resource whose capacity is summed (vcpu, memory, storage).
    resource: str | None = None


CATALOGUE: tuple[KpiDefinition, ...] = (
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


def _cloud_capacity(resource: str, name_en: str, unit: Unit, target: str, target_text: str) -> KpiDefinition:
    return KpiDefinition(
        id=f"cloud_{resource}_capacity",
        name_zh="云资源服务能力规模",
        name_en=name_en,
        level1="产出指标",
        level2="数量指标",
        kind="capacity_sum",
        unit=unit,
        target=target,
        target_text=target_text,
        objective=0.99,
        source="cloud",
        resource=resource,
        description=(
            f"Sum over the clouds' regions of the offered {resource} capacity: Placement inventories "
            "(total - reserved) x allocation_ratio; storage from Cinder pools (total less reserved %). "
            "Unknown while any region is unknown."
        ),
    )


# One indicator of the table (云资源服务能力规模) with three targets; the table
# writes them "GB" and "TB" and the cloud reports binary units (MiB, GiB), so
# the targets are read as GiB / TiB: the stricter of the two readings.
CATALOGUE += (
    _cloud_capacity("vcpu", "Government cloud capacity: vCPU cores", "count", ">= 15000", "≥15000核"),
    _cloud_capacity("memory", "Government cloud capacity: memory", "bytes", ">= 100000GiB", "≥100000GB"),
    _cloud_capacity("storage", "Government cloud capacity: storage", "bytes", ">= 4000TiB", "≥4000TB"),
)

# The government SMS platform (政务短信平台). Counts are by submit time: a report
# that arrives after the month ended still counts for the month of the submit.
CATALOGUE += (
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

BY_ID: dict[str, KpiDefinition] = {kpi.id: kpi for kpi in CATALOGUE}
