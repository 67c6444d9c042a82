"""The ``probes:`` section: what a valid probe is, and one line naming the key for each mistake."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.config import load_config
from tests.unit.test_config import problems_of


def probes_config(*probes: dict[str, Any], kpis: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"probes": list(probes), "kpis": kpis if kpis is not None else [{"id": "app_code_display_stability"}]}


def check(tmp_path: Path, data: dict[str, Any], env: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "sla.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return [line.split(": ", 1)[1] for line in problems_of(path, env)]


GOOD = {"name": "code", "url": "https://app.example/code/display"}


def test_a_probe_needs_only_a_name_and_url_and_gets_safe_defaults(tmp_path):
    path = tmp_path / "sla.yaml"
    path.write_text(yaml.safe_dump(probes_config(GOOD)), encoding="utf-8")
    probe = load_config(path).probes[0]
    assert (probe.method, probe.expect_status, probe.interval, probe.timeout, probe.verify_tls) == \
        ("GET", (200,), 30.0, 10.0, True)
    assert probe.business_system == "code"


@pytest.mark.parametrize(("change", "expected"), [
    ({"timeout": "40s"}, "probes[0]: timeout (40s) must not exceed interval (30s)"),
    ({"body_regex": "(unclosed"}, "probes[0].body_regex: '(unclosed' is not a regular expression: "
                                  "missing ), unterminated subpattern at position 0"),
    ({"method": "HEAD", "body_contains": "ok"},
     "probes[0]: a HEAD answer has no body: body_contains, body_regex and json_field need GET or POST"),
    ({"body": "{}"}, "probes[0]: a body is only sent with method: POST (this probe uses GET)"),
    ({"expect_status": [200, 700]}, "probes[0].expect_status[1]: Input should be less than or equal to 599"),
    ({"json_field": {"path": "items[*].state"}},
     "probes[0].json_field.path: 'items[*].state': a probe's JSON path names one field ([*] is for sums)"),
    ({"name": "a:b"}, "probes[0].name: 'a:b': probe names may not contain ':'"),
    ({"interval": "1s", "timeout": "1s"},
     "probes[0].interval: 1s is below the minimum of 5s: each probe is a whole HTTP request to a production service"),
    ({"verify_tls": False, "ca_file": "/etc/ca.pem"}, "probes[0]: ca_file is given but verify_tls is false: drop one"),
])
def test_a_bad_probe_is_one_line_naming_the_key(tmp_path, change, expected):
    assert check(tmp_path, probes_config({**GOOD, **change})) == [expected]


def test_duplicate_probes_and_unknown_names_in_a_kpi(tmp_path):
    data = probes_config(GOOD, GOOD, kpis=[{"id": "epidemic_platform_availability", "probes": ["code", "nope"]}])
    assert check(tmp_path, data) == ["probes[1].name: duplicate name 'code'", "kpis[0].probes: no probe named 'nope'"]


def test_a_kpi_of_another_source_may_not_choose_probes(tmp_path):
    data = {**probes_config(GOOD, kpis=[{"id": "sms_delivery_rate", "probes": ["code"]}])}
    assert "kpis[0].probes: sms_delivery_rate measures SMS gateways, not HTTP probes" in check(tmp_path, data)


def test_header_values_are_secrets_from_the_environment(tmp_path):
    path = tmp_path / "sla.yaml"
    path.write_text(yaml.safe_dump(probes_config({**GOOD, "headers": {"Authorization": "${APP_TOKEN}"}})),
                    encoding="utf-8")
    probe = load_config(path, env={"APP_TOKEN": "Bearer s3cret"}).probes[0]
    assert probe.headers["Authorization"].get_secret_value() == "Bearer s3cret"
    assert "s3cret" not in repr(probe)
    missing = check(tmp_path, probes_config({**GOOD, "headers": {"Authorization": "${APP_TOKEN}"}}), env={})
    assert len(missing) == 1 and missing[0].startswith("probes[0].headers.Authorization:") and "APP_TOKEN" in missing[0]
