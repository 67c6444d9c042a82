"""The cloud source's alert texts (generators only): offered capacity below its target."""

from __future__ import annotations

from agent.generators.alert_texts import AlertSpec

# Cloud capacity moves with procurement and maintenance, not by the
# minute: a ticket, after long enough to ride out a region's restart.
CAPACITY_ALERT = AlertSpec(
    "SlaCloudCapacityBelowTarget", "ticket", "30m",
    "{name_zh}低于目标 / {name_en} below target",
    "各云区域提供的容量之和为 {value}，低于目标 {target}，已持续 30 分钟；"
    "无法读取的区域按 0 计（全部无法读取时即为 0），若同时有 SlaTargetDown，先排查云 API。"
    " / The regions together offer {value}, below the {target} target for 30 minutes; "
    "regions that cannot be read count as zero (none readable: 0), so if SlaTargetDown fires too, "
    "check the cloud API first.",
)
