"""TLS and basic auth of the agent's HTTP endpoints, from an exporter-toolkit web config, with real clients.

The server is the agent's own (agent.web.Listener serving agent.exposition's
app) on 127.0.0.1; the certificates come from a CA made for each test.
"""

from __future__ import annotations

import base64
import ssl
import threading
from pathlib import Path

import aiohttp
import bcrypt
import pytest

from agent import web as agent_web
from agent.exposition import make_app
from agent.state import AgentState
from agent.web import Listener
from agent.webconfig import load_web_config
from tests.certs import Authority

PASSWORD = "s3cret-scrape"


def hashed(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()  # cost 4: fast tests


def web_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "web.yml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def ca(tmp_path: Path) -> Authority:
    return Authority(tmp_path, "site")


@pytest.fixture
def server_cert(ca: Authority):
    return ca.issue("server", server=True)


def client_context(ca: Authority, client=None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca.cert))
    if client is not None:
        context.load_cert_chain(str(client.cert), str(client.key))
    return context


async def serve(path: Path) -> Listener:
    listener = Listener(make_app(AgentState(), lambda: 15.0), "127.0.0.1", 0, security=load_web_config(path))
    await listener.start()
    return listener


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def get(url: str, context: ssl.SSLContext | bool, auth: str | None = None):
    timeout = aiohttp.ClientTimeout(total=10)
    headers = {"Authorization": auth} if auth else {}
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.get(url, ssl=context, headers=headers) as response:
            return response.status, dict(response.headers), await response.text()


async def test_tls_and_basic_auth_refuse_missing_and_wrong_credentials(tmp_path, ca, server_cert):
    path = web_config(tmp_path, f"""
tls_server_config:
  cert_file: {server_cert.cert.name}
  key_file: {server_cert.key.name}
basic_auth_users:
  prometheus: '{hashed(PASSWORD)}'
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
""")
    listener = await serve(path)
    url = f"https://127.0.0.1:{listener.port}/metrics"
    try:
        status, headers, _ = await get(url, client_context(ca))
        assert status == 401 and headers["WWW-Authenticate"] == "Basic"
        assert headers["X-Content-Type-Options"] == "nosniff"
        status, headers, _ = await get(url, client_context(ca), basic("prometheus", "wrong"))
        assert status == 401 and headers["WWW-Authenticate"] == "Basic"
        status, _, _ = await get(url, client_context(ca), basic("nobody", PASSWORD))
        assert status == 401
        status, headers, body = await get(url, client_context(ca), basic("prometheus", PASSWORD))
        assert status == 200 and "sla_agent_info" in body
        assert headers["X-Content-Type-Options"] == "nosniff"
        for endpoint in ("/healthz", "/"):  # every endpoint, not only /metrics
            status, _, _ = await get(url.replace("/metrics", endpoint), client_context(ca))
            assert status == 401
        with pytest.raises(aiohttp.ClientError):  # plain HTTP on the TLS port gets no answer
            await get(f"http://127.0.0.1:{listener.port}/metrics", False, basic("prometheus", PASSWORD))
    finally:
        await listener.stop()


async def test_bcrypt_runs_off_the_event_loop_and_a_success_is_cached(tmp_path, monkeypatch):
    checks: list[str] = []
    real = agent_web._bcrypt_matches

    def recording(password: bytes, hashed_password: bytes) -> bool:
        checks.append(threading.current_thread().name)
        return real(password, hashed_password)

    monkeypatch.setattr(agent_web, "_bcrypt_matches", recording)
    listener = await serve(web_config(tmp_path, f"basic_auth_users:\n  prometheus: '{hashed(PASSWORD)}'\n"))
    url = f"http://127.0.0.1:{listener.port}/metrics"
    try:
        for _ in range(3):
            status, _, _ = await get(url, False, basic("prometheus", PASSWORD))
            assert status == 200
        assert len(checks) == 1  # bcrypt once; the next two were answered from the cache
        for _ in range(2):
            status, _, _ = await get(url, False, basic("prometheus", "wrong"))
            assert status == 401
        assert len(checks) == 3  # a failure is never cached as a success
        assert all(name.startswith("bcrypt") for name in checks), checks
    finally:
        await listener.stop()


def client_certificates(tmp_path: Path, ca: Authority, server_cert, extra: str = "") -> Path:
    """A web config requiring client certificates signed by ``ca`` (its path relative to the file)."""
    return web_config(tmp_path, f"""
tls_server_config:
  cert_file: {server_cert.cert}
  key_file: {server_cert.key}
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: {ca.cert.name}
{extra}""")


async def test_client_certificate_required(tmp_path, ca, server_cert):
    listener = await serve(client_certificates(tmp_path, ca, server_cert))
    url = f"https://127.0.0.1:{listener.port}/metrics"
    stranger_ca = Authority(tmp_path, "elsewhere")
    try:
        status, _, body = await get(url, client_context(ca, ca.issue("prometheus", server=False)))
        assert status == 200 and "sla_agent_info" in body
        with pytest.raises(aiohttp.ClientError):
            await get(url, client_context(ca))  # no client certificate
        with pytest.raises(aiohttp.ClientError):
            await get(url, client_context(ca, stranger_ca.issue("intruder", server=False)))
    finally:
        await listener.stop()


async def test_client_allowed_sans_close_other_certificates(tmp_path, ca, server_cert):
    listener = await serve(client_certificates(tmp_path, ca, server_cert, "  client_allowed_sans: [prometheus.example]\n"))
    url = f"https://127.0.0.1:{listener.port}/metrics"
    try:
        good = ca.issue("prom", server=False, sans=("prometheus.example",))
        status, _, _ = await get(url, client_context(ca, good))
        assert status == 200
        other = ca.issue("other", server=False, sans=("grafana.example",))
        with pytest.raises(aiohttp.ClientError):
            await get(url, client_context(ca, other))
    finally:
        await listener.stop()


async def test_a_reloaded_web_config_applies_to_the_next_connection(tmp_path, ca, server_cert):
    listener = await serve(web_config(tmp_path, ""))  # plain HTTP, no auth
    try:
        status, _, _ = await get(f"http://127.0.0.1:{listener.port}/metrics", False)
        assert status == 200
        path = web_config(tmp_path, f"tls_server_config:\n  cert_file: {server_cert.cert}\n"
                                    f"  key_file: {server_cert.key}\n")
        listener.update(listener.pool.limits, load_web_config(path))
        status, _, _ = await get(f"https://127.0.0.1:{listener.port}/metrics", client_context(ca))
        assert status == 200  # same port, not re-bound: TLS from the next connection on
    finally:
        await listener.stop()


async def test_reload_endpoint_is_refused_without_the_flag_and_post_only_with_it(tmp_path):
    async def reload() -> list[str]:
        return []

    for hook, expected in ((None, 403), (reload, 200)):
        listener = Listener(make_app(AgentState(), lambda: 15.0, hook), "127.0.0.1", 0)
        await listener.start()
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
                async with session.post(f"http://127.0.0.1:{listener.port}/-/reload") as response:
                    assert response.status == expected
                async with session.get(f"http://127.0.0.1:{listener.port}/-/reload") as response:
                    assert response.status == 405
        finally:
            await listener.stop()


def test_sla_agent_run_serves_https_with_basic_auth_from_the_flag(tmp_path, ca, server_cert):
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    from tests.processes import free_port, stop, wait_for

    port = free_port()
    web = web_config(tmp_path, f"tls_server_config:\n  cert_file: {server_cert.cert}\n  key_file: {server_cert.key}\n"
                               f"basic_auth_users:\n  prometheus: '{hashed(PASSWORD)}'\n")
    config = tmp_path / "c.yaml"
    config.write_text(f"agent: {{listen: 127.0.0.1:{port}, data_dir: {tmp_path / 'data'}}}\n"
                      f"snmp:\n  devices: [{{name: r1, address: 127.0.0.1, port: {free_port()}, community: c}}]\n")
    log = (tmp_path / "agent.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "-c", str(config), "--web.config.file", str(web)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    context = client_context(ca)

    def fetch(auth: str | None) -> int:
        request = urllib.request.Request(f"https://127.0.0.1:{port}/metrics", headers={"Authorization": auth} if auth else {})
        try:
            with urllib.request.urlopen(request, timeout=5, context=context) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return 0

    try:
        assert wait_for(lambda: fetch(None) == 401 or proc.poll() is not None, 20)
        assert fetch(basic("prometheus", "wrong")) == 401
        assert fetch(basic("prometheus", PASSWORD)) == 200
    finally:
        stop(proc)
        log.close()
    text = (tmp_path / "agent.log").read_text()
    assert f"serving https://127.0.0.1:{port}/metrics" in text and PASSWORD not in text
