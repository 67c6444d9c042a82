"""PromQL of the probes' KPIs (agent/generators/queries.py): the share of successful probe-time."""

from __future__ import annotations

from typing import Mapping

from agent.generators.queries import RatioSli, Sli, selector


def _probe_success(q: Mapping[str, str]) -> RatioSli:
    # sla_probe_success is absent while a probe cannot be run (unknown), so counting samples leaves
    # that time out, as the agent does; summing over the probes pools probe-time (Σ good / Σ known).
    sel = selector(job=q["job"], probe="~" + q["probes"]) if q.get("probes") else selector(job=q["job"])
    return RatioSli(
        good=f"sum(sum_over_time(sla_probe_success{sel}[{{w}}]))",
        valid=f"sum(count_over_time(sla_probe_success{sel}[{{w}}]))",
        counted="probe-time",
        metrics=("sla_probe_success",),
    )


# worst_availability has no ratio SLI: burn rates pool the systems, which would let a healthy system
# hide a failing one. Its alert is per system, on the agent's own sla_kpi_part_met (collectors/probes/alerts.py).
SLIS: Mapping[str, Sli] = {"availability": _probe_success}
