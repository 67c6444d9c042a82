"""Acceptance: `sla-agent demo` serves the KPIs within 15 s, every emitted metric is documented, and the
demo's simulator processes end with it however it ends."""

import os
import signal
import subprocess
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.metrics import METRICS
from tests.processes import (
    children, cmdline, demo_command, descendants, free_port, running, scrape, skip_in_demo_maintenance, stop,
    udp_port_free, wait_for,
)

ALL_KPIS = (
    "egress_bandwidth", "egress_link_availability", "mobile_office_link_availability",
    "cloud_vcpu_capacity", "cloud_memory_capacity", "cloud_storage_capacity",
    "sms_delivery_rate", "sms_send_latency", "sms_annual_volume",
    "app_code_display_stability", "epidemic_platform_availability", "web_security_findings",
    "fault_handling_rate", "network_fault_timeliness", "power_faults", "managed_devices", "servers", "power_cabinets",
    "connected_organisations",
)
GIB = 2**30
SNMPSIM = "snmpsim.commands.responder"
CANARY = "gov-sms/canary"  # the SMS canary's target (agent/lab/demo.yaml)
POWER = ("ups-a", "ups-b", "cab-a1", "cab-b1")  # agent/lab/power.py's units: SNMP devices and power targets
PROBES = ("health-code", "nucleic-acid", "vaccination", "venue-code", "travel-record")  # the app lab's probes


def kpi_values(text: str) -> dict[str, float]:
    return {
        sample.labels["kpi"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "sla_kpi_value"
        for sample in family.samples
    }


@pytest.fixture
def demo(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        demo_command(port, 60, str(tmp_path / "data")),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    yield proc, f"http://127.0.0.1:{port}"
    stop(proc)


def test_demo_serves_kpis_within_15_seconds(demo):
    skip_in_demo_maintenance(15)
    proc, base = demo
    started = time.monotonic()
    values: dict[str, float] = {}
    text = ""
    while time.monotonic() - started < 15:
        assert proc.poll() is None, proc.stderr.read()
        text = scrape(base + "/metrics") or ""
        values = kpi_values(text)
        if set(ALL_KPIS) <= set(values) and f'target="{CANARY}"' in text:
            break
        time.sleep(0.5)
    assert values.get("egress_bandwidth", 0) > 0, text
    # Three 10G egress links up: 30 Gbit/s = 3.75e9 bytes/s.
    assert values["egress_bandwidth"] == pytest.approx(3.75e9)
    assert values["egress_link_availability"] == 1.0
    assert 0 <= values["mobile_office_link_availability"] <= 1
    # The simulated cloud's offered capacity (see agent/lab/cloud.py DEMO data).
    assert values["cloud_vcpu_capacity"] == 17344
    assert values["cloud_memory_capacity"] == 102272 * GIB
    assert values["cloud_storage_capacity"] == 4180 * 2**40
    # The simulated SMS gateway (agent/lab/sms.py Traffic): ~98.5 % delivered, median 2 s.
    assert 0.9 <= values["sms_delivery_rate"] <= 1
    assert 0 < values["sms_send_latency"] < 10
    assert values["sms_annual_volume"] > 0

    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name, family in families.items():
        spec = METRICS.get(name) or METRICS.get(name + "_total")
        assert spec is not None, f"{name} is emitted but not in agent/metrics.py"
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            labels = set(sample.labels) - ({"le"} if spec.type == "histogram" else set())
            assert labels == set(spec.labels), sample
    # Every KPI exposes its coverage and the coverage it needs (min_coverage, 90 % in the demo):
    # a dashboard tells insufficient data (数据不足) from met / not met with them.
    for name in ("sla_kpi_coverage_ratio", "sla_kpi_min_coverage_ratio"):
        assert {s.labels["kpi"] for s in families[name].samples} == set(ALL_KPIS), name
    assert {s.value for s in families["sla_kpi_min_coverage_ratio"].samples} == {0.9}
    ups = [s for s in families["sla_target_up"].samples]
    assert {s.labels["target"] for s in ups} == {
        "egress-r1", "egress-r2", "mobile-r1", "gov-cloud/shenzhen-1", "gov-cloud/shenzhen-2", "gov-sms", CANARY,
        *PROBES, "portal", *POWER}
    assert all(s.value == 1 for s in ups), ups
    # The canary (the lab delivers its messages after 1-4 s), timed on the agent's clock.
    canary = {s.name: s for f in families.values() for s in f.samples if s.name.startswith("sla_sms_canary")}
    assert canary["sla_sms_canary_delivered"].value == 1
    assert 1.0 <= canary["sla_sms_canary_latency_seconds"].value < 6.0
    assert canary["sla_sms_canary_probes_total"].value >= 1
    # Secrets never reach the exposition.
    for secret in ("lab-auth-key", "lab-priv-key", "lab-cloud-S3cret", "lab-sms-S3cret", "+8613800138000", "8613800138000"):
        assert secret not in text


def wait_healthy(proc: subprocess.Popen, base: str, timeout: float = 15) -> None:
    """Until the demo answers /healthz (it runs the lab by then); fails if it exits first."""
    def up() -> bool:
        assert proc.poll() is None, proc.stderr.read()
        return scrape(base + "/healthz") is not None

    assert wait_for(up, timeout, step=0.3), f"no /healthz within {timeout} s"


def test_demo_stops_cleanly_on_sigint(demo):
    proc, base = demo
    wait_healthy(proc, base)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(15) == 0
    out = proc.stdout.read()
    assert "/metrics" in out
    assert "Traceback" not in proc.stderr.read()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_demo_takes_its_simulator_along_when_it_dies(demo, sig):
    """No orphan snmpsim keeps the lab's UDP port once the demo is gone, even after a SIGKILL."""
    proc, base = demo
    wait_healthy(proc, base)
    # The demo's own child runs the responder (the lab's helpers, if any, are further down).
    (responder,) = [pid for pid in children(proc.pid) if SNMPSIM in cmdline(pid)]
    spawned = descendants(proc.pid)
    argv = cmdline(responder)
    port = int(argv[argv.index("--agent-udpv4-endpoint") + 1].rsplit(":", 1)[1])
    assert not udp_port_free(port)
    try:
        proc.send_signal(sig)
        proc.wait(15)
        assert wait_for(lambda: not any(map(running, spawned)), 10), [cmdline(p) for p in spawned if running(p)]
        assert wait_for(lambda: udp_port_free(port), 5), f"udp port {port} still taken"
    finally:  # never leave an orphan behind, even when the assertion failed
        for pid in spawned:
            if running(pid) and SNMPSIM in cmdline(pid):
                os.kill(pid, signal.SIGKILL)

