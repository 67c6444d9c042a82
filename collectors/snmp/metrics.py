"""What the SNMP source exposes: per link (state, capacity, traffic, errors) and per device."""

from __future__ import annotations

from agent.metric_spec import MetricSpec

_LINK = ("link", "group", "device")  # every per-link family's labels, in this order

METRICS = (
    # Links.
    MetricSpec("sla_link_up", "gauge", _LINK, "1 if the link's ifOperStatus is up, 0 if down; absent when unknown."),
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
    # Links: the time in each state, counted by the agent (collectors/snmp/link_states.py).
    MetricSpec("sla_link_state_seconds_total", "counter", (*_LINK, "state"),
               "Seconds the link spent in each state since the agent began measuring it (agent start, or the "
               "config reload that added it): maintenance inside a window that applies to the link; else up or "
               "down as the ledger's observations say; else unknown. Counted up to the scrape (the current "
               "state's counter grows 1 s per second); restarts at 0 with the agent."),
    MetricSpec("sla_snmp_rejected_responses_total", "counter", ("reason",),
               "SNMP replies discarded: from another address than the device polled (wrong_address), not "
               "BER (malformed), another community (wrong_community), not a Response (not_a_response), no "
               "request waiting for its request-id (unknown_request_id: late, duplicate or forged), or not "
               "the OIDs asked (unexpected_oids)."),
    MetricSpec("sla_snmp_device_uptime_seconds", "gauge", ("target",), "sysUpTime of the device, in seconds."),
)
