"""The web config file (exporter-toolkit format): every mistake is one FILE: key: problem line; check warns
when the listener is reachable from other hosts with neither TLS nor basic auth."""

from __future__ import annotations

import os
import ssl
import sys
from pathlib import Path

import bcrypt
import pytest

from agent.cli import main
from agent.schema import ConfigError
from agent.webconfig import load_web_config
from tests.certs import Authority

DEVICE = "snmp:\n  devices:\n    - {name: rt1, address: 192.0.2.1, community: c}\n"
HASH = bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "web.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_web_config(path)
    return [line.removeprefix(f"{path}: ") for line in caught.value.problems]


@pytest.fixture
def cert(tmp_path: Path):
    return Authority(tmp_path).issue("server", server=True)


def test_no_file_means_plain_http_without_auth():
    security = load_web_config(None)
    assert security.tls is None and not security.users and not security.authenticated


def test_a_good_file_gives_a_server_context_users_and_headers(tmp_path, cert):
    ca = Authority(tmp_path, "clients")
    path = tmp_path / "web.yml"
    path.write_text(f"""
tls_server_config:
  cert_file: {cert.cert.name}     # relative to this file
  key_file: {cert.key}
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: {ca.cert}
  min_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
basic_auth_users:
  prometheus: '{HASH}'
http_server_config:
  http2: false
  headers: {{X-Frame-Options: deny}}
""")
    security = load_web_config(path)
    assert security.tls is not None and security.tls.verify_mode == ssl.CERT_REQUIRED
    assert security.tls.minimum_version == ssl.TLSVersion.TLSv1_3
    assert security.users == {"prometheus": HASH.encode()} and security.authenticated
    assert security.headers == (("X-Frame-Options", "deny"),)
    assert HASH not in repr(security)


@pytest.mark.parametrize("text, expected", [
    ("tls_server_config:\n  cert_fil: a.crt\n",
     "tls_server_config.cert_fil: unknown key 'cert_fil' (did you mean 'cert_file'?)"),
    ("basic_auth_users:\n  prometheus: plain-password\n",
     "basic_auth_users: user 'prometheus': not a bcrypt hash ($2y$10$... : see README, Security)"),
    ("tls_server_config:\n  key_file: a.key\n",
     "tls_server_config.cert_file: missing: give cert_file (or an inline cert)"),
    ("tls_server_config:\n  client_auth_type: RequireAnyClientCert\n",
     "tls_server_config.client_auth_type: Value error, RequireAnyClientCert is not supported by sla-agent: "
     "Python's ssl verifies every client certificate it asks for; use RequireAndVerifyClientCert "
     "(or VerifyClientCertIfGiven) with client_ca_file"),
    ("tls_server_config:\n  client_auth_type: Sometimes\n",
     "tls_server_config.client_auth_type: Input should be 'NoClientCert', 'RequestClientCert', "
     "'RequireAnyClientCert', 'RequireClientCert', 'VerifyClientCertIfGiven' or 'RequireAndVerifyClientCert'"),
    ("tls_server_config:\n  curve_preferences: [X25519]\n",
     "tls_server_config.curve_preferences: not supported by sla-agent (Python's ssl cannot set a curve list); "
     "remove it"),
    ("tls_server_config:\n  cipher_suites: [TLS_MADE_UP]\n",
     "tls_server_config.cipher_suites: unknown cipher suite 'TLS_MADE_UP'; known: "),
    ("rate_limit:\n  interval: 1s\n  burst: 5\n",
     "rate_limit: not supported by sla-agent; remove it (the agent bounds connections itself)"),
    ("http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
     "http_server_config.headers: X-Frame-Options: expected one of deny, sameorigin, got 'allow'"),
    ("http_server_config:\n  headers:\n    Server: sla\n",
     "http_server_config.headers: HTTP header 'Server' can not be configured; allowed: "),
    ("[1, 2]\n", "(top level): expected a mapping (tls_server_config, basic_auth_users, ...)"),
])
def test_each_mistake_is_one_line_naming_the_key(tmp_path, text, expected):
    found = problems(tmp_path, text)
    assert len(found) == 1, found
    assert found[0].replace("Value error, ", "").startswith(expected.replace("Value error, ", ""))


def test_tls_policy_mistakes(tmp_path, cert):
    ca = Authority(tmp_path, "clients")
    base = f"tls_server_config:\n  cert_file: {cert.cert}\n  key_file: {cert.key}\n"
    assert problems(tmp_path, base + f"  client_ca_file: {ca.cert}\n") == [
        "tls_server_config.client_auth_type: client CAs are configured without a client auth policy: "
        "set client_auth_type: RequireAndVerifyClientCert"]
    assert problems(tmp_path, base + "  client_auth_type: RequireAndVerifyClientCert\n") == [
        "tls_server_config.client_ca_file: RequireAndVerifyClientCert needs the CA that signs client "
        "certificates (client_ca_file)"]
    assert problems(tmp_path, base + "  min_version: TLS13\n  max_version: TLS12\n") == [
        "tls_server_config.min_version: TLS13 is above max_version TLS12"]
    assert problems(tmp_path, "tls_server_config:\n  cert_file: nope.crt\n  key_file: nope.key\n") == [
        f"tls_server_config.cert_file: {tmp_path}/nope.crt: no such file",
        f"tls_server_config.key_file: {tmp_path}/nope.key: no such file"]
    other = Authority(tmp_path, "other").issue("other", server=True)
    mismatch = f"tls_server_config:\n  cert_file: {cert.cert}\n  key_file: {other.key}\n"
    [line] = problems(tmp_path, mismatch)
    assert line.startswith("tls_server_config.cert_file: certificate and key do not load: ")
    assert "PRIVATE KEY" not in line


def write_config(tmp_path: Path, listen: str, web: str | None = None) -> Path:
    path = tmp_path / "c.yaml"
    extra = f"  web_config_file: {web}\n" if web else ""
    path.write_text(f"agent:\n  listen: '{listen}'\n{extra}" + DEVICE)
    return path


@pytest.mark.parametrize("listen", ["0.0.0.0:9877", "[::]:9877", "10.1.2.3:9877", "monitor.example:9877"])
def test_check_warns_on_an_exposed_listener_without_tls_or_auth(tmp_path, capsys, listen):
    assert main(["check", "-c", str(write_config(tmp_path, listen))]) == 0
    out, err = capsys.readouterr()
    assert err.startswith(f"warning: agent.listen {listen} is not a loopback address") and err.count("\n") == 1
    assert ": ok (" in out


@pytest.mark.parametrize("listen", ["127.0.0.1:9877", "localhost:9877", "[::1]:9877"])
def test_check_is_quiet_on_loopback(tmp_path, capsys, listen):
    assert main(["check", "-c", str(write_config(tmp_path, listen))]) == 0
    assert capsys.readouterr().err == ""


def test_check_is_quiet_with_basic_auth_and_reads_the_web_config_flag(tmp_path, capsys):
    (tmp_path / "web.yml").write_text(f"basic_auth_users:\n  prometheus: '{HASH}'\n")
    assert main(["check", "-c", str(write_config(tmp_path, "0.0.0.0:9877", "web.yml"))]) == 0
    assert capsys.readouterr().err == ""
    (tmp_path / "bad.yml").write_text("basic_auth_users:\n  prometheus: plain\n")
    config = write_config(tmp_path, "0.0.0.0:9877", "web.yml")
    assert main(["check", "-c", str(config), "--web.config.file", str(tmp_path / "bad.yml")]) == 2
    assert capsys.readouterr().err == (f"{tmp_path / 'bad.yml'}: basic_auth_users: user 'prometheus': not a bcrypt "
                                       "hash ($2y$10$... : see README, Security)\n")


def test_a_missing_web_config_is_one_line(tmp_path, capsys):
    assert main(["check", "-c", str(write_config(tmp_path, "127.0.0.1:9877", "absent.yml"))]) == 2
    assert capsys.readouterr().err == f"{tmp_path / 'absent.yml'}: cannot read: No such file or directory\n"


def test_inline_certificate_and_key_load_without_writing_a_file(tmp_path, cert):
    path = tmp_path / "web.yml"
    indent = lambda text: "\n".join("    " + line for line in text.splitlines())  # noqa: E731
    path.write_text(f"tls_server_config:\n  cert: |\n{indent(cert.cert.read_text())}\n"
                    f"  key: |\n{indent(cert.key.read_text())}\n")
    cert.cert.unlink()
    cert.key.unlink()
    writes: list[object] = []
    listening = [True]

    def audit(event: str, args: tuple) -> None:  # an audit hook stays for the process: guarded by a flag
        if not listening[0] or event != "open":
            return
        mode, flags = args[1], args[2]
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)):
            writes.append(args[0])

    sys.addaudithook(audit)
    try:
        security = load_web_config(path)
    finally:
        listening[0] = False
    assert security.tls is not None and writes == []
