"""Every metric the agent exposes: name, type, labels and help, in one table.

The README's metrics reference is generated from this table and a test checks
that what /metrics emits matches it (names, types, label sets), so a metric
cannot be added or renamed without the documentation following.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    type: Literal["gauge", "counter", "info", "histogram"]
    labels: tuple[str, ...]
    help: str


_LINK = ("link", "group", "device")
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
    MetricSpec("sla_kpi_period_seconds", "gauge", ("kpi", "class"),
               "Month-to-date time by class: good (up / in compliance), bad (down / below target), "
               "unknown (no data) and maintenance (excluded); link-seconds summed over the links for availability KPIs."),
    # Links.
    MetricSpec("sla_link_up", "gauge", _LINK, "1 if the link's ifOperStatus is up, 0 if down; absent when unknown."),
    MetricSpec("sla_link_state_seconds_total", "counter", (*_LINK, "state"),
               "Seconds the link spent in each state since the agent began measuring it (agent start, or the "
               "config reload that added it): maintenance inside a window that applies to the link; else up or "
               "down as the ledger's observations say; else unknown. Counted up to the scrape (the current "
               "state's counter grows 1 s per second); restarts at 0 with the agent."),
    MetricSpec("sla_link_admin_up", "gauge", _LINK, "1 if the link's ifAdminStatus is up, 0 if not."),
    MetricSpec("sla_link_capacity_bytes_per_second", "gauge", _LINK,
               "Link capacity in bytes/s: the contracted capacity if configured, else ifHighSpeed."),
    MetricSpec("sla_link_receive_bytes_total", "counter", _LINK, "Raw ifHCInOctets of the link's interface (snmp.link_metrics: traffic)."),
    MetricSpec("sla_link_transmit_bytes_total", "counter", _LINK, "Raw ifHCOutOctets of the link's interface (snmp.link_metrics: traffic)."),
    MetricSpec("sla_link_receive_bytes_per_second", "gauge", _LINK,
               "Receive rate between the agent's last two polls; absent after a counter discontinuity. Only with "
               "snmp.link_metrics: [traffic, rates]; rate() over sla_link_receive_bytes_total gives the same."),
    MetricSpec("sla_link_transmit_bytes_per_second", "gauge", _LINK,
               "Transmit rate between the agent's last two polls; absent after a counter discontinuity. Only with "
               "snmp.link_metrics: [traffic, rates]."),
    MetricSpec("sla_link_receive_errors_total", "counter", _LINK, "Raw ifInErrors of the link's interface (snmp.link_metrics: errors)."),
    MetricSpec("sla_link_transmit_errors_total", "counter", _LINK, "Raw ifOutErrors of the link's interface (snmp.link_metrics: errors)."),
    MetricSpec("sla_link_receive_discards_total", "counter", _LINK, "Raw ifInDiscards of the link's interface (snmp.link_metrics: errors)."),
    MetricSpec("sla_link_transmit_discards_total", "counter", _LINK, "Raw ifOutDiscards of the link's interface (snmp.link_metrics: errors)."),
    MetricSpec("sla_scheduler_lag_seconds", "gauge", ("collector",),
               "Worst delay of a poll's start behind its scheduled tick over the last minute or two, waits for "
               "the concurrency bound included: near 0 while the agent keeps up with its intervals."),
    MetricSpec("sla_scheduler_skipped_ticks_total", "counter", ("collector",),
               "Scheduled polls skipped because the previous poll of the target overran its interval or the "
               "agent's loop stalled."),
    MetricSpec("sla_snmp_rejected_responses_total", "counter", ("reason",),
               "SNMP replies discarded: from another address than the device polled (wrong_address), not "
               "BER (malformed), another community (wrong_community), not a Response (not_a_response), no "
               "request waiting for its request-id (unknown_request_id: late, duplicate or forged), or not "
               "the OIDs asked (unexpected_oids)."),
    MetricSpec("sla_snmp_device_uptime_seconds", "gauge", ("target",), "sysUpTime of the device, in seconds."),
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
    # Cloud capacity (collectors/cloud), per cloud and region; polled by the agent on
    # each cloud's interval, not at scrape time. Base units: vCPUs and bytes.
    MetricSpec("sla_cloud_vcpu_capacity", "gauge", ("cloud", "region"),
               "vCPUs the region offers: sum over Placement providers of (total - reserved) x allocation_ratio."),
    MetricSpec("sla_cloud_vcpu_allocated", "gauge", ("cloud", "region"), "vCPUs allocated to instances (Placement usages, or a generic cloud's mapped used figure)."),
    MetricSpec("sla_cloud_memory_capacity_bytes", "gauge", ("cloud", "region"),
               "Memory the region offers in bytes: (total - reserved) x allocation_ratio of MEMORY_MB (MiB)."),
    MetricSpec("sla_cloud_memory_allocated_bytes", "gauge", ("cloud", "region"), "Memory allocated to instances, in bytes."),
    MetricSpec("sla_cloud_storage_capacity_bytes", "gauge", ("cloud", "region"),
               "Storage the region offers in bytes: Cinder pools' total x (1 - reserved_percentage), "
               "plus Placement DISK_GB when a cloud's storage_sources include it."),
    MetricSpec("sla_cloud_storage_used_bytes", "gauge", ("cloud", "region"), "Storage used in bytes: Cinder pool total - free (plus allocated DISK_GB if configured)."),
    MetricSpec("sla_cloud_utilization_ratio", "gauge", ("cloud", "region", "resource"),
               "Allocated (vcpu, memory) or used (storage) / offered capacity, 0-1; absent when capacity is 0."),
    MetricSpec("sla_cloud_resource_providers", "gauge", ("cloud", "region"),
               "Placement resource providers read in the last poll (a drop explains a capacity drop)."),
    # SMS gateways (collectors/sms), per gateway. Counters are lifetime totals kept in
    # the agent's ledger, so they survive agent restarts; refreshed on each poll of
    # the gateway's delivery-record feed, not at scrape time.
    MetricSpec("sla_sms_submitted_total", "counter", ("gateway",),
               "Messages the gateway accepted, counted once each from its delivery-record feed."),
    MetricSpec("sla_sms_delivered_total", "counter", ("gateway",), "Messages with a final status of delivered."),
    MetricSpec("sla_sms_failed_total", "counter", ("gateway",), "Messages with a final status of failed."),
    MetricSpec("sla_sms_expired_total", "counter", ("gateway",),
               "Messages that expired, or got no final status within the grace period (code no_report)."),
    MetricSpec("sla_sms_errors_total", "counter", ("gateway", "code"),
               "Failed and expired messages by error code; the first max_error_codes codes seen keep their "
               "own label, later ones count as other."),
    MetricSpec("sla_sms_send_latency_seconds", "histogram", ("gateway",),
               "Submit-to-delivery-report time of delivered messages, from the gateway's own millisecond "
               "timestamps (buckets double from 0.3125 s; 10 s is one)."),
    MetricSpec("sla_sms_pending", "gauge", ("gateway",),
               "Messages submitted but without a final status yet, within the grace period."),
    MetricSpec("sla_sms_unmatched_reports", "gauge", ("gateway",),
               "Delivery reports held while waiting for their message's submit record."),
    MetricSpec("sla_sms_records_skipped_total", "counter", ("gateway", "reason"),
               "Feed records not counted: malformed, bad_timestamp (negative, future, report before submit), "
               "duplicate, stale (older than the dedup horizon) or unmatched (report never met its submit)."),
    MetricSpec("sla_sms_cursor_resets_total", "counter", ("gateway",),
               "Times the gateway no longer knew the feed cursor and the feed was re-read by time."),
    MetricSpec("sla_sms_feed_lag_seconds", "gauge", ("gateway",),
               "How far behind the agent's clock the feed has been read (0 once caught up)."),
    MetricSpec("sla_sms_webhook_up", "gauge", ("gateway",),
               "1 if the gateway's push endpoint (webhook) is listening, 0 if its address cannot be bound (the feed "
               "is read all the same; binding is tried again on every poll). Only for gateways with a webhook."),
    MetricSpec("sla_sms_webhook_pushes_total", "counter", ("gateway", "result"),
               "Pushes to the webhook by result: accepted, unauthorized (no or wrong token or signature, or a "
               "timestamp outside the window), replayed, too_large, malformed, not_stored (ledger refused, 503), "
               "busy. Kept in memory."),
    # SMS canary (collectors/sms/canary.py), per gateway with a canary: a real test
    # message submitted on the canary's interval, timed on the agent's own clock.
    # Counters are kept in memory (they restart at 0 with the agent).
    MetricSpec("sla_sms_canary_latency_seconds", "gauge", ("gateway",),
               "Submit-to-delivered time of the last delivered canary message, on the agent's clock "
               "(from just before the submit request to the first status answer showing it delivered; "
               "resolution the 0.5 s status poll step)."),
    MetricSpec("sla_sms_canary_delivered", "gauge", ("gateway",),
               "1 if the last canary message with a final status was delivered, 0 if it failed or expired; "
               "absent while the canary target is down (submit failed, or no final status within the timeout)."),
    MetricSpec("sla_sms_canary_probes_total", "counter", ("gateway",), "Canary messages the agent tried to submit."),
    MetricSpec("sla_sms_canary_failures_total", "counter", ("gateway", "reason"),
               "Canary probes that did not end delivered, by reason: submit (refused, 5xx after retries, "
               "unreachable), status (the status API failed), timeout (no final status in time), failed, expired."),
)

METRICS: dict[str, MetricSpec] = {spec.name: spec for spec in _SPECS}
