"""PromQL of the SMS source's KPIs (agent/generators/queries.py): delivery rate and send speed."""

from __future__ import annotations

from typing import Mapping

from agent.generators.queries import RatioSli, Sli, selector

def _gateway_labels(q: Mapping[str, str]) -> dict[str, str]:
    labels = {"job": q["job"]}
    if q.get("gateways"):
        labels["gateway"] = "~" + q["gateways"]
    return labels


def _increase(metric: str, labels: dict[str, str]) -> str:
    return f"sum(increase({metric}{selector(**labels)}[{{w}}]))"


def _sms_delivery(q: Mapping[str, str]) -> RatioSli:
    # delivered / (delivered + failed + expired): messages still pending are
    # in neither, as in the KPI. The counters are lifetime totals the agent
    # keeps in its ledger, so increase() is not fooled by agent restarts.
    labels = _gateway_labels(q)
    finished = " + ".join(_increase(f"sla_sms_{s}_total", labels) for s in ("delivered", "failed", "expired"))
    return RatioSli(good=_increase("sla_sms_delivered_total", labels), valid=finished, counted="messages",
                    metrics=("sla_sms_delivered_total", "sla_sms_failed_total", "sla_sms_expired_total"))


def _sms_latency(q: Mapping[str, str]) -> RatioSli:
    # Share of delivered messages whose report came within the target (10 s),
    # from the histogram's bucket at exactly that bound (the collector makes
    # 10 s a bucket edge; "le" is written the way prometheus_client writes it).
    labels = _gateway_labels(q)
    bucket = _increase("sla_sms_send_latency_seconds_bucket", {**labels, "le": q["le"]})
    return RatioSli(good=bucket, valid=_increase("sla_sms_send_latency_seconds_count", labels),
                    counted="delivered messages", metrics=("sla_sms_send_latency_seconds",))


SLIS: Mapping[str, Sli] = {"delivery_rate": _sms_delivery, "latency_within": _sms_latency}
