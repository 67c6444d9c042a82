"""`sla-agent export --source prometheus`: option mistakes and store failures are one line on stderr, exit 2.

The store is a scripted HTTP server on 127.0.0.1 (tests/hostile_http.py); the export runs in a
worker thread because it blocks while the server answers on the test's event loop.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import yaml

from agent.cli import build_parser
from agent.export.command import cmd_export
from agent.export.from_store import PASSWORD_ENV, TOKEN_ENV
from agent.export.prometheus_source import check_url
from tests.hostile_http import HostileServer, answer, reset
from tests.processes import free_port

TOKEN = "s3cret-token-value"
EMPTY = {"status": "success", "data": {"resultType": "matrix", "result": []}}


@pytest.fixture
def config_file(tmp_path):
    data = {
        "agent": {"data_dir": str(tmp_path / "no-ledger-here"), "timezone": "UTC"},
        "snmp": {"devices": [{"name": "r0", "address": "127.0.0.1", "community": "x"}]},
        "link_groups": [{"name": "internet_egress", "links": [
            {"name": "egress-a", "device": "r0", "if_name": "a", "capacity": "10G"}]}],
        "kpis": [{"id": "egress_link_availability", "link_group": "internet_egress"}],
    }
    path = tmp_path / "sla.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run(config_file, tmp_path, *extra: str) -> int:
    argv = ["export", "-c", str(config_file), "--month", "2026-11", "--format", "json",
            "-o", str(tmp_path / "r.json"), *extra]
    return cmd_export(build_parser().parse_args(argv), now=1_796_000_000.0)


async def run_async(*args: str) -> int:
    return await asyncio.to_thread(run, *args)


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("url, problem", [
    ("ftp://prometheus:9090", "--url ftp://prometheus:9090: use an http:// or https:// URL"),
    ("prometheus:9090", "--url prometheus:9090: use an http:// or https:// URL"),
    ("http://", "--url http://: no host in the URL"),
    ("http://host:99999", "--url http://host:99999: not a URL (a bad host or port?)"),
    ("http://host:9090/?x=1", "--url http://host:9090/?x=1: give the API's base URL without a query or fragment"),
])
def test_a_bad_url_is_one_line(config_file, tmp_path, capsys, url, problem):
    assert run(config_file, tmp_path, "--source", "prometheus", "--url", url) == 2
    assert one_line(capsys.readouterr().err).startswith(f"sla-agent: {problem}")


def test_a_password_in_the_url_is_refused_without_being_echoed(config_file, tmp_path, capsys):
    assert run(config_file, tmp_path, "--source", "prometheus", "--url", "https://admin:hunter22@store:9090") == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("sla-agent: --url: no user or password in the URL") and "hunter22" not in line


@pytest.mark.parametrize("extra, problem", [
    (["--source", "prometheus"], "--source prometheus needs --url URL"),
    (["--url", "http://store:9090"], "--url is for --source prometheus"),
    (["--source", "prometheus", "--url", "http://s:1", "--data-dir", "d"], "--data-dir reads ledgers"),
    (["--source", "prometheus", "--url", "http://s:1", "--bearer-token-file", "/nonexistent/token"],
     "--bearer-token-file /nonexistent/token: cannot read it: No such file or directory"),
    (["--source", "prometheus", "--url", "http://s:1", "--basic-auth-password-file", "/x"],
     "--basic-auth-password-file needs --basic-auth-user"),
    (["--source", "prometheus", "--url", "http://s:1", "--basic-auth-user", "u", "--bearer-token-file", "/x"],
     "give a bearer token or basic auth for the store, not both"),
])
def test_option_mistakes_are_one_line(config_file, tmp_path, capsys, extra, problem):
    assert run(config_file, tmp_path, *extra) == 2
    assert one_line(capsys.readouterr().err).startswith(f"sla-agent: {problem}")


def test_an_unknown_source_is_refused_by_the_parser(config_file, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        run(config_file, tmp_path, "--source", "thanos")
    assert exit_.value.code == 2
    assert "--source" in capsys.readouterr().err


def test_an_unreachable_store_is_one_line_naming_the_url(config_file, tmp_path, capsys):
    port = free_port()  # nothing listens there
    assert run(config_file, tmp_path, "--source", "prometheus", "--url", f"http://127.0.0.1:{port}") == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"sla-agent: http://127.0.0.1:{port}/api/v1/query: connection error")
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("behaviour, problem", [
    (answer({"status": "error", "errorType": "bad_data", "error": "parse error at char 3"}, status=400),
     "bad_data: parse error at char 3"),
    (answer({"status": "error", "errorType": "execution", "error": "query timed out"}, status=422),
     "execution: query timed out"),
    (answer("<html>Grafana login</html>", content_type="text/html"), "malformed or truncated JSON"),
    (answer({"hello": "world"}), "HTTP 200: not a Prometheus API answer"),
    (answer("oops", status=500, content_type="text/plain"), "HTTP 500 Error (after 3 attempts)"),
    (answer("", status=404, content_type="text/plain"), "HTTP 404: no Prometheus HTTP API here"),
    (answer("", status=302, headers={"Location": "/login"}), "HTTP 302 redirect"),
    (reset, "connection error"),
])
async def test_store_failures_are_one_line_naming_the_url(config_file, tmp_path, capsys, behaviour, problem):
    async with HostileServer(default=behaviour) as store:
        assert await run_async(config_file, tmp_path, "--source", "prometheus", "--url", store.url + "/prom/") == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"sla-agent: {store.url}/prom/api/v1/query: ")
    assert problem in line


async def test_the_token_is_sent_and_never_printed(config_file, tmp_path, capsys, monkeypatch):
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    async with HostileServer(default=answer(EMPTY)) as store:
        assert await run_async(config_file, tmp_path, "--source", "prometheus", "--url", store.url,
                               "--bearer-token-file", str(token), "--tenant", "center") == 0
    assert {r.headers.get("authorization") for r in store.requests} == {f"Bearer {TOKEN}"}
    assert {r.headers.get("x-scope-orgid") for r in store.requests} == {"center"}
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert doc["rows"]  # a report with no data is still the whole table
    async with HostileServer(default=answer({"status": "error", "errorType": "unauthorized"}, status=401)) as store:
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        assert await run_async(config_file, tmp_path, "--source", "prometheus", "--url", store.url) == 2
    captured = capsys.readouterr()
    assert TOKEN not in captured.err + captured.out
    assert "HTTP 401: credentials refused" in one_line(captured.err)


async def test_basic_auth_password_comes_from_the_environment(config_file, tmp_path, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "pa55word")
    async with HostileServer(default=answer(EMPTY)) as store:
        assert await run_async(config_file, tmp_path, "--source", "prometheus", "--url", store.url,
                               "--basic-auth-user", "reporter") == 0
    assert {r.headers.get("authorization") for r in store.requests} == {"Basic cmVwb3J0ZXI6cGE1NXdvcmQ="}


def test_check_url_keeps_a_path_prefix():
    assert check_url("https://mimir.example/prometheus/") == "https://mimir.example/prometheus"
