"""What incident accounting exposes: its Alertmanager webhook's health."""

from __future__ import annotations

from agent.metric_spec import MetricSpec

METRICS = (
    MetricSpec("sla_incident_webhook_up", "gauge", (), "1 while the Alertmanager webhook receiver listens."),
    MetricSpec("sla_incident_webhook_pushes_total", "counter", ("result",),
               "Notifications received by the Alertmanager webhook, by result: stored, unauthorized, too_large, "
               "malformed (a body that is not a notification: nothing of it stored) or not_stored (the ledger "
               "refused it; Alertmanager retries)."),
)
