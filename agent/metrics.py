"""Every metric the agent exposes: name, type, labels and help, in one table.

The agent's own metrics are here; each source declares its own in its
collectors/<source>/metrics.py. The README's metrics reference is generated
from this table and a test checks that what /metrics emits matches it (names,
types, label sets), so a metric cannot be added or renamed without the
documentation following.
"""

from __future__ import annotations

from agent.metric_spec import MetricSpec
from agent.sources import metric_specs

_TARGET = ("collector", "target")

_SPECS = (
    # KPIs: month-to-date, as the monthly report would show them if the month ended now.
    MetricSpec("sla_kpi_info", "info", ("kpi", "name", "level1", "level2", "unit", "target_text"),
               "Static description of each KPI from the catalogue (value is always 1)."),
    MetricSpec("sla_kpi_value", "gauge", ("kpi",),
               "Month-to-date KPI value in base units (ratio 0-1, bytes/s, ...); absent while there is no data. "
               "Computed by the agent from its own polls, not at scrape time."),
    MetricSpec("sla_kpi_target", "gauge", ("kpi",), "KPI target threshold in the same base unit as sla_kpi_value."),
    MetricSpec("sla_kpi_met", "gauge", ("kpi",),
               "1 if the KPI meets its target month-to-date, 0 if not; absent without data. Judged on the figure "
               "alone: while sla_kpi_coverage_ratio is below sla_kpi_min_coverage_ratio the monthly report says "
               "insufficient data instead."),
    MetricSpec("sla_kpi_coverage_ratio", "gauge", ("kpi",),
               "Share of the month so far (maintenance excluded) for which the KPI had data."),
    MetricSpec("sla_kpi_min_coverage_ratio", "gauge", ("kpi",),
               "Coverage the KPI needs for its figure to be final (the config's min_coverage); with "
               "sla_kpi_coverage_ratio below it the monthly report says insufficient data (数据不足)."),
    MetricSpec("sla_kpi_compliance_ratio", "gauge", ("kpi",),
               "Gauge KPIs: share of the known time so far at which the target was met (time in compliance)."),
    MetricSpec("sla_kpi_objective_ratio", "gauge", ("kpi",),
               "Gauge KPIs: time in compliance required for the KPI to be met."),
    MetricSpec("sla_kpi_minimum", "gauge", ("kpi",), "Gauge KPIs: lowest value month-to-date, base units."),
    MetricSpec("sla_kpi_part_value", "gauge", ("kpi", "part"),
               "KPIs judged part by part (each business system of a platform): each part's month-to-date value; "
               "the KPI's own value is the worst part's. Absent for a part without data."),
    MetricSpec("sla_kpi_part_met", "gauge", ("kpi", "part"),
               "1 if the part meets the KPI's target month-to-date, 0 if not; absent without data."),
    MetricSpec("sla_kpi_period_seconds", "gauge", ("kpi", "class"),
               "Month-to-date time by class: good (up / in compliance), bad (down / below target), "
               "unknown (no data) and maintenance (excluded); link-seconds summed over the links for availability KPIs."),
    MetricSpec("sla_scheduler_lag_seconds", "gauge", ("collector",),
               "Worst delay of a poll's start behind its scheduled tick over the last minute or two, waits for "
               "the concurrency bound included: near 0 while the agent keeps up with its intervals."),
    MetricSpec("sla_scheduler_skipped_ticks_total", "counter", ("collector",),
               "Scheduled polls skipped because the previous poll of the target overran its interval or the "
               "agent's loop stalled."),
    # Targets and the agent itself.
    MetricSpec("sla_target_up", "gauge", _TARGET, "1 if the last poll of the target succeeded, 0 if it failed."),
    MetricSpec("sla_target_poll_duration_seconds", "gauge", _TARGET, "Duration of the last poll of the target."),
    MetricSpec("sla_target_last_success_timestamp_seconds", "gauge", _TARGET,
               "Unix time of the last successful poll of the target."),
    MetricSpec("sla_target_polls_total", "counter", _TARGET, "Polls of the target."),
    MetricSpec("sla_target_poll_failures_total", "counter", _TARGET, "Polls of the target that failed or timed out."),
    MetricSpec("sla_counter_discontinuities_total", "counter", _TARGET,
               "Counter discontinuities (device reboot, counter reset) seen; rates are not computed across them."),
    MetricSpec("sla_ledger_writes_total", "counter", (), "Batches written to the ledger."),
    MetricSpec("sla_ledger_write_failures_total", "counter", (), "Ledger batches that failed to be written."),
    MetricSpec("sla_ledger_last_write_timestamp_seconds", "gauge", (), "Unix time of the last successful ledger write."),
    MetricSpec("sla_kpi_last_evaluation_timestamp_seconds", "gauge", (),
               "Unix time at which the month-to-date KPI figures were last computed."),
    MetricSpec("sla_agent_info", "info", ("version",), "Agent version (value is always 1)."),
    MetricSpec("sla_agent_shard_info", "info", ("shard", "shards"),
               "This agent's shard (0-based) and the number of shards, when the fleet is sharded (--shard i/n)."),
    MetricSpec("sla_config_last_reload_successful", "gauge", (),
               "1 if the last config reload (SIGHUP, POST /-/reload) was applied, 0 if it was refused and the "
               "previous config is still running."),
    MetricSpec("sla_config_last_reload_success_timestamp_seconds", "gauge", (),
               "Unix time the config was last loaded successfully (at start or by a reload)."),
)

# The agent's own, then each source's (collectors/<source>/metrics.py), in collector order.
METRICS: dict[str, MetricSpec] = {spec.name: spec for spec in (*_SPECS, *metric_specs())}

__all__ = ["METRICS", "MetricSpec"]
