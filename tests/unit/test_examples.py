"""The shipped demo configs stay in step and valid."""

from pathlib import Path

import yaml

from agent.config import load_config

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"SLA_DEMO_V3_AUTH_KEY": "lab-auth-key", "SLA_DEMO_V3_PRIV_KEY": "lab-priv-key",
        "SLA_DEMO_CLOUD_PASSWORD": "lab-cloud-S3cret", "SLA_DEMO_SMS_KEY": "lab-sms-S3cret",
        "SLA_DEMO_SMS_PROBE": "+8613800138000"}


def test_examples_demo_is_valid():
    config = load_config(ROOT / "examples" / "demo.yaml", env=KEYS)
    assert config.snmp.defaults.port == 16100
    assert [k.id for k in config.kpis] == [
        "egress_bandwidth", "egress_link_availability", "mobile_office_link_availability",
        "cloud_vcpu_capacity", "cloud_memory_capacity", "cloud_storage_capacity",
        "sms_delivery_rate", "sms_send_latency", "sms_annual_volume",
    ]
    assert config.sms[0].url == "http://127.0.0.1:15080"  # python -m agent.lab's SMS gateway


def test_examples_demo_matches_the_bundled_demo_but_for_placeholders():
    bundled = yaml.safe_load((ROOT / "agent" / "lab" / "demo.yaml").read_text(encoding="utf-8"))
    example = yaml.safe_load((ROOT / "examples" / "demo.yaml").read_text(encoding="utf-8"))
    for data in (bundled, example):
        data["agent"].pop("listen"), data["agent"].pop("data_dir"), data["snmp"]["defaults"].pop("port")
        data["clouds"][0].pop("auth_url")
        data["sms"][0].pop("url")
    assert bundled == example
