"""The ``canary:`` block of an SMS gateway: one-line ``FILE: path: problem`` errors, the probe number a secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.config import load_config
from collectors.sms.config import CANARY_TEXT
from tests.unit.test_config import assert_rejected, problems_of, write

PROBE = "+8613912345678"


def config(canary: Any) -> dict:
    gateway = {"name": "gov-sms", "url": "http://127.0.0.1:15080", "api_key": "k3y-S3cret", "canary": canary}
    return {"sms": [gateway], "kpis": [{"id": "sms_delivery_rate"}]}


def test_defaults_and_secret_resolution(tmp_path: Path) -> None:
    number_file = tmp_path / "probe"
    number_file.write_text(PROBE + "\n", encoding="utf-8")
    for to, env in (("${SMS_PROBE}", {"SMS_PROBE": PROBE}), ({"env": "SMS_PROBE"}, {"SMS_PROBE": PROBE}),
                    ({"file": str(number_file)}, {}), (PROBE, {})):
        loaded = load_config(write(tmp_path, config({"to": to})), env=env)
        canary = loaded.sms[0].canary
        assert canary is not None
        assert canary.to.get_secret_value() == PROBE
        assert (canary.text, canary.interval, canary.timeout) == (CANARY_TEXT, 300.0, 60.0)
        assert "sla-agent" in canary.text
        assert PROBE not in repr(loaded) and PROBE not in str(canary)
    assert load_config(write(tmp_path, config(None)), env={}).sms[0].canary is None


@pytest.mark.parametrize(
    ("canary", "expected"),
    [
        ({"to": PROBE, "interval": "1m", "timeout": "1m"},
         ["sms[0].canary: timeout (60s) must be less than interval (60s)"]),
        ({"to": PROBE, "interval": "30s"}, ["sms[0].canary: timeout (60s) must be less than interval (30s)"]),
        ({"to": PROBE, "intervall": "5m"}, ["sms[0].canary.intervall: unknown key 'intervall' (did you mean 'interval'?)"]),
        ({"interval": "5m"}, ["sms[0].canary.to: Field required"]),
        ({"to": "  "}, ["sms[0].canary.to: the probe number is empty"]),
        ({"to": PROBE, "text": ""}, ["sms[0].canary.text: String should have at least 1 character"]),
        ({"to": PROBE, "timeout": "soon"},
         ["sms[0].canary.timeout: 'soon' is not a duration (use e.g. 30s, 5m, 2h, 1d or PT2H)"]),
        ({"to": "${SMS_PROBE}"}, ["sms[0].canary.to: environment variable SMS_PROBE is not set"]),
        ("yes", ["sms[0].canary: Input should be a valid dictionary or instance of Canary"]),
    ],
    ids=["timeout_equals_interval", "default_timeout_over_interval", "unknown_key", "no_to", "empty_to",
         "empty_text", "bad_duration", "env_unset", "not_a_mapping"],
)
def test_bad_canary(tmp_path: Path, capsys: pytest.CaptureFixture[str], canary: Any, expected: list[str]) -> None:
    assert_rejected(write(tmp_path, config(canary)), expected, capsys)


def test_problems_never_quote_the_probe_number(tmp_path: Path) -> None:
    for canary in ({"to": PROBE, "bogus": 1}, {"to": PROBE, "timeout": "5m"}, {"to": PROBE, "text": 5}):
        problems = problems_of(write(tmp_path, config(canary)))
        assert len(problems) == 1
        assert not any(PROBE in p or PROBE.lstrip("+") in p for p in problems), problems
