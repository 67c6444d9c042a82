"""The shipped demo configs stay in step and valid."""

import re
from pathlib import Path

import pytest
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
        "app_code_display_stability", "epidemic_platform_availability", "web_security_findings",
        "fault_handling_rate", "network_fault_timeliness", "power_faults", "managed_devices", "servers", "power_cabinets",
        "connected_organisations",
    ]
    assert config.sms[0].url == "http://127.0.0.1:15080"  # python -m agent.lab's SMS gateway
    assert config.probes[0].url == "https://127.0.0.1:15443/code/display"  # python -m agent.lab's app


def test_examples_demo_matches_the_bundled_demo_but_for_placeholders():
    bundled = yaml.safe_load((ROOT / "agent" / "lab" / "demo.yaml").read_text(encoding="utf-8"))
    example = yaml.safe_load((ROOT / "examples" / "demo.yaml").read_text(encoding="utf-8"))
    for data in (bundled, example):
        data["agent"].pop("listen"), data["agent"].pop("data_dir"), data["snmp"]["defaults"].pop("port")
        data["clouds"][0].pop("auth_url")
        data["sms"][0].pop("url")
        for probe in data["probes"]:
            probe.pop("url"), probe.pop("ca_file")
        data["security_scans"][0].pop("directory")
    assert bundled == example


def test_center_validate_comment_names_every_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The "Validate with" command in examples/center.yaml, run as written, passes."""
    from agent.cli import main

    text = (ROOT / "examples" / "center.yaml").read_text(encoding="utf-8")
    header = text[text.index("# Validate with") : text.index("# Secrets never live")]
    command = " ".join(line.lstrip("# ").rstrip("\\ ") for line in header.splitlines()[1:] if "=..." in line)
    named = re.findall(r"\b([A-Z][A-Z0-9_]*)=\.\.\.", command)
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert set(named) == set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", body))
    files = set(re.findall(r"\{file: ([^}]+)\}", body))
    assert files and all(path in header for path in files)
    assert command.endswith("sla-agent check -c examples/center.yaml")
    # Run it: each named variable set, each secret file present (moved under tmp_path).
    for path in files:
        (tmp_path / Path(path).name).write_text("priv-key-value\n", encoding="utf-8")
        text = text.replace(path, str(tmp_path / Path(path).name))
    config = tmp_path / "center.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        for name in named:
            patch.setenv(name, f"{name.lower()}-value")
        capsys.readouterr()
        assert main(["check", "-c", str(config)]) == 0
        loaded = load_config(config)
    assert capsys.readouterr().err == ""
    # Every ${VAR} is resolved where it stands, never kept as text (the cloud credential id once was).
    assert loaded.clouds[0].auth.id.get_secret_value() == "gov_cloud_app_cred_id-value"
