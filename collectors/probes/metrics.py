"""What the HTTP probe source exposes, per probe (collectors/probes)."""

from __future__ import annotations

from agent.metric_spec import MetricSpec

METRICS = (
    # HTTP probes, per probe; refreshed on each probe's interval, not at scrape time. A probe that
    # could not be run for the agent's own reasons leaves them absent (sla_target_up is 0).
    MetricSpec("sla_probe_success", "gauge", ("probe", "system"),
               "1 if the last probe succeeded (answer in time, expected status, body conditions hold), else 0."),
    MetricSpec("sla_probe_phase_duration_seconds", "gauge", ("probe", "phase"),
               "Time of each phase of the last probe: dns, connect (TCP), tls (handshake), first_byte (request "
               "sent to the answer's headers) and total; a phase not reached is absent."),
    MetricSpec("sla_probe_http_status_code", "gauge", ("probe",), "HTTP status of the last answer; 0 without one."),
    MetricSpec("sla_probe_tls_certificate_expiry_timestamp_seconds", "gauge", ("probe",),
               "Unix time at which the server's certificate expires (notAfter), from the last TLS handshake."),
    MetricSpec("sla_probe_successes_total", "counter", ("probe",), "Probes that succeeded, since the agent started."),
    MetricSpec("sla_probe_failures_total", "counter", ("probe", "reason"),
               "Probes that failed, by reason: status, body, json, timeout, dns, connect, tls, "
               "certificate_expired, certificate_untrusted, too_large, other."),
)
