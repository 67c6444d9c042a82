"""PromQL of the SNMP source's KPIs (agent/generators/queries.py): a link group's availability and bandwidth."""

from __future__ import annotations

from typing import Mapping

from agent.generators.queries import CapacitySli, RatioSli, Sli, selector


def _link_selector(q: Mapping[str, str]) -> str:
    return selector(job=q["job"], group=q["group"])


def _link_availability(q: Mapping[str, str]) -> RatioSli:
    # sla_link_up is absent while a link is unknown, so counting samples leaves
    # unknown time out, as the agent does. Summing samples over all links
    # before dividing pools link-time (Σ up / Σ known), which is the agent's
    # definition; averaging per-link ratios would weigh a link known for a
    # minute like one known all window. Equal weight per sample assumes one
    # scrape interval for the job, which Prometheus keeps constant.
    sel = _link_selector(q)
    return RatioSli(
        good=f"sum(sum_over_time(sla_link_up{sel}[{{w}}]))",
        valid=f"sum(count_over_time(sla_link_up{sel}[{{w}}]))",
        counted="link-time",
        metrics=("sla_link_up",),
    )


def _link_bandwidth(q: Mapping[str, str]) -> CapacitySli:
    # Capacity x state (1 up, 0 down) per link, one-to-one on all labels.
    # Unknown links have no samples and count as zero: an egress router that
    # cannot be polled is bandwidth nobody can vouch for.
    sel = _link_selector(q)
    return CapacitySli(
        expr=f"sum(sla_link_capacity_bytes_per_second{sel} * sla_link_up{sel})",
        metrics=("sla_link_capacity_bytes_per_second", "sla_link_up"),
    )


SLIS: Mapping[str, Sli] = {"availability": _link_availability, "capacity_sum": _link_bandwidth}
