"""The SNMP source's alert texts (generators only): a link group's bandwidth below its target."""

from __future__ import annotations

from agent.generators.alert_texts import AlertSpec

# A link group's available bandwidth is a page: below target the centre's
# egress is degraded now, and the next link failure is an outage.
BANDWIDTH_ALERT = AlertSpec(
    "SlaBandwidthBelowTarget", "page", "5m",
    "{name_zh}低于目标 / {name_en} below target",
    "链路组 {group} 中在线链路的容量之和为 {value}，低于目标 {target}，已持续 5 分钟；"
    "无法轮询的链路按 0 计（全部无法轮询时即为 0），若同时有 SlaTargetDown，先排查监控可达性。"
    " / The summed capacity of the links of group {group} that are up is {value}, below the "
    "{target} target for 5 minutes; links that cannot be polled count as zero (all of them unknown: 0), "
    "so if SlaTargetDown fires too, check monitoring reach first.",
)
