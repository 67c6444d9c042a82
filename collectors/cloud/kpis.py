"""The cloud source's rows of the KPI catalogue (agent/catalogue.py)."""

from __future__ import annotations

from agent.kpi_definition import KpiDefinition

def _cloud_capacity(resource: str, name_en: str, unit: str, target: str, target_text: str) -> KpiDefinition:
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
KPIS: tuple[KpiDefinition, ...] = (
    _cloud_capacity("vcpu", "Government cloud capacity: vCPU cores", "count", ">= 15000", "≥15000核"),
    _cloud_capacity("memory", "Government cloud capacity: memory", "bytes", ">= 100000GiB", "≥100000GB"),
    _cloud_capacity("storage", "Government cloud capacity: storage", "bytes", ">= 4000TiB", "≥4000TB"),
)
