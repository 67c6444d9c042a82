"""The cloud capacity dashboard (sla-cloud.json), built like agent/generators/dashboards.py."""

from __future__ import annotations

from agent.generators import grafana as g
from agent.generators.dashboards_common import RESOURCE_ZH, UNITS, traffic_light
from agent.generators.queries import KpiQueries, selector
from agent.generators.rules import CAPACITY


def cloud(queries: list[KpiQueries], job: str) -> g.Json:
    grid = g.Grid()
    sel = selector(job=job, cloud="~$cloud", region="~$region")
    clouds = [q for q in queries if q.definition.source == "cloud" and q.capacity is not None]
    grid.row("容量 vs 目标 Capacity against target")
    for q in clouds:
        resource = q.definition.resource or ""
        unit = UNITS.get(q.definition.unit, (1, "none"))[1]
        grid.add(g.stat(f"{RESOURCE_ZH.get(resource, resource)}总量",
                        f"{q.definition.name_en}: offered now, summed over every configured region "
                        f"(not filtered by the variables). Target {q.target.text}.",
                        g.targets((f"{CAPACITY}{selector(kpi=q.id)}", "")), unit, traffic_light(q)),
                 24 // max(len(clouds), 1), 5)
    for resource, metric, used, unit in (
        ("vcpu", "sla_cloud_vcpu_capacity", "sla_cloud_vcpu_allocated", "short"),
        ("memory", "sla_cloud_memory_capacity_bytes", "sla_cloud_memory_allocated_bytes", "bytes"),
        ("storage", "sla_cloud_storage_capacity_bytes", "sla_cloud_storage_used_bytes", "bytes"),
    ):
        grid.add(g.timeseries(f"{RESOURCE_ZH[resource]}：提供与使用", f"{resource}: offered capacity and "
                              "allocation per cloud and region.",
                              g.targets((f"{metric}{sel}", "{{cloud}}/{{region}} 提供 offered"),
                                        (f"{used}{sel}", "{{cloud}}/{{region}} 已用 used")), unit, minimum=0), 8, 8)
    grid.add(g.timeseries("利用率", "Allocated (vCPU, memory) or used (storage) / offered, per region.",
                          g.targets((f"sla_cloud_utilization_ratio{sel}", "{{cloud}}/{{region}} {{resource}}")),
                          "percentunit", minimum=0, maximum=1), 12, 8)
    grid.add(g.timeseries("资源提供者数量", "Placement resource providers read per region: a drop explains a "
                          "capacity drop.", g.targets((f"sla_cloud_resource_providers{sel}", "{{cloud}}/{{region}}")),
                          "short", minimum=0), 12, 8)
    if clouds:
        ids = "|".join(q.id for q in clouds)
        grid.add(g.timeseries("达标时间占比（本月）", "Share of known time this month at which each capacity "
                              "met its target, against the objective.",
                              g.targets((f"sla_kpi_compliance_ratio{selector(job=job, kpi='~' + ids)}", "{{kpi}}"),
                                        (f"sla_kpi_objective_ratio{selector(job=job, kpi='~' + ids)}",
                                         "{{kpi}} 目标 objective")), "percentunit", maximum=1), 24, 7)
    base = selector(job=job)
    variables = [g.datasource_variable(),
                 g.query_variable("cloud", "云 Cloud", f"label_values(sla_cloud_vcpu_capacity{base}, cloud)"),
                 g.query_variable("region", "区域 Region",
                                  f'label_values(sla_cloud_vcpu_capacity{{job="{job}",cloud=~"$cloud"}}, region)')]
    return g.dashboard("sla-cloud", "SLA 云资源 Cloud capacity",
                       "Government cloud capacity (vCPU, memory, storage) per cloud and region against the targets.",
                       grid, variables, ["sla-agent"])
