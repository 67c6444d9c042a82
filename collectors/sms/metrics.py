"""What the SMS source exposes: the gateways' delivery figures and the canary's probes."""

from __future__ import annotations

from agent.metric_spec import MetricSpec

METRICS = (
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
