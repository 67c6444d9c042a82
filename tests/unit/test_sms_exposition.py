"""SMS samples on /metrics: counters, the latency histogram with its exact 10 s bucket, the table."""

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from agent.exposition import _Families, make_registry
from agent.ledger import Ledger
from agent.metrics import METRICS
from agent.scheduler import PollOutcome
from agent.state import AgentState
from collectors.base import PollResult
from collectors.sms.collector import SmsCollector
from collectors.sms.config import SmsGateway
from collectors.sms.records import DELIVERED, FAILED, Record

T0 = 1_790_000_000_000


def test_histogram_counters_and_gauges_render(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    gateway = SmsGateway(name="gw", url="http://127.0.0.1:1")
    collector = SmsCollector([gateway], ledger, clock=lambda: T0 / 1000 + 60)
    latencies = [300, 9_999, 10_000, 10_001, 700_000]
    collector.store.ingest("gw", [Record(f"d{i}", DELIVERED, T0, T0 + lat, None) for i, lat in enumerate(latencies)]
                           + [Record("f", FAILED, T0, T0 + 5, "MK:0001")], T0 / 1000, feed_time_ms=T0 + 60_000)
    state = AgentState()
    result = PollResult(samples=collector.samples("gw"))
    state.apply(PollOutcome("sms", "gw", T0 / 1000, 0.01, 30.0, result, None, ()))
    registry = make_registry(state)
    gw = {"gateway": "gw"}
    value = registry.get_sample_value
    assert value("sla_sms_send_latency_seconds_bucket", {**gw, "le": "0.3125"}) == 1
    assert value("sla_sms_send_latency_seconds_bucket", {**gw, "le": "10.0"}) == 3
    assert value("sla_sms_send_latency_seconds_bucket", {**gw, "le": "640.0"}) == 4
    assert value("sla_sms_send_latency_seconds_bucket", {**gw, "le": "+Inf"}) == 5
    assert value("sla_sms_send_latency_seconds_count", gw) == 5
    assert value("sla_sms_send_latency_seconds_sum", gw) == sum(latencies) / 1000
    assert value("sla_sms_submitted_total", gw) == 6
    assert value("sla_sms_errors_total", {**gw, "code": "MK:0001"}) == 1
    assert value("sla_sms_feed_lag_seconds", gw) == 0

    text = generate_latest(registry).decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["sla_sms_send_latency_seconds"].type == "histogram"
    for name, family in families.items():
        if not name.startswith("sla_sms_"):
            continue
        spec = METRICS.get(name) or METRICS.get(name + "_total")
        assert spec is not None and spec.type == family.type, name
        for sample in family.samples:
            extra = {"le"} if spec.type == "histogram" and sample.name.endswith("_bucket") else set()
            assert set(sample.labels) == set(spec.labels) | extra, sample
    ledger.close()


def test_a_histogram_is_only_built_from_its_samples():
    """A bare histogram name is refused, not exposed as a gauge (or failed on with AttributeError)."""
    out = _Families()
    out.add_labelled("sla_sms_send_latency_seconds_bucket", (("gateway", "gw"), ("le", "+Inf")), 2)
    out.add_labelled("sla_sms_send_latency_seconds_count", (("gateway", "gw"),), 2)
    out.add_labelled("sla_sms_submitted_total", (("gateway", "gw"),), 3)
    with pytest.raises(ValueError, match="sla_sms_send_latency_seconds is a histogram"):
        out.add_labelled("sla_sms_send_latency_seconds", (("gateway", "gw"),), 1)
    with pytest.raises(ValueError, match="is a histogram"):
        _Families().add("sla_sms_send_latency_seconds", 1, gateway="gw")
    families = {f.name: f for f in out}
    assert families["sla_sms_send_latency_seconds"].type == "histogram"
    assert [s.value for s in families["sla_sms_send_latency_seconds"].samples] == [2, 2]
    assert families["sla_sms_submitted"].type == "counter"
