"""The web configuration file: TLS and basic auth, in Prometheus exporter-toolkit's format.

The same YAML as ``--web.config.file`` of node_exporter and Prometheus
(exporter-toolkit docs/web-configuration.md): ``tls_server_config``,
``http_server_config`` and ``basic_auth_users`` (bcrypt hashes), so one file
and one operator habit serve every exporter of the site. Relative paths are
relative to the file, as there. Every problem is one ``FILE: key: problem``
line; the file is read when the agent starts and again on each reload
(exporter-toolkit re-reads it per request; here a SIGHUP does it).

What Python's ``ssl`` module cannot do is refused with a line saying so,
never silently approximated: ``RequestClientCert`` and
``RequireAnyClientCert`` (it verifies every client certificate it asks for),
``curve_preferences`` and ``rate_limit``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Iterator, Literal, Mapping

from pydantic import BeforeValidator, Field, SecretStr, ValidationError, field_validator

from agent.config import format_loc
from agent.config_keys import error_message
from agent.schema import ConfigError, Model
from agent.yamlfile import read_yaml


def _blank_is_unset(value: Any) -> Any:
    # exporter-toolkit treats an empty string as "not given".
    return None if value == "" else value


Text = Annotated[str | None, BeforeValidator(_blank_is_unset)]
FileName = Annotated[Path | None, BeforeValidator(_blank_is_unset)]
TlsVersion = Literal["TLS10", "TLS11", "TLS12", "TLS13"]
ClientAuth = Literal[
    "NoClientCert", "RequestClientCert", "RequireAnyClientCert", "RequireClientCert",
    "VerifyClientCertIfGiven", "RequireAndVerifyClientCert",
]
_VERSIONS = {"TLS10": ssl.TLSVersion.TLSv1, "TLS11": ssl.TLSVersion.TLSv1_1,
             "TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
_CLIENT_AUTH = {"NoClientCert": ssl.CERT_NONE, "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
                "RequireAndVerifyClientCert": ssl.CERT_REQUIRED}
# Go's cipher-suite names (crypto/tls CipherSuites) -> OpenSSL's. TLS 1.3 suites are
# accepted and, as in Go, not configurable.
_CIPHERS = {
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_AES_128_GCM_SHA256": None,
    "TLS_AES_256_GCM_SHA384": None,
    "TLS_CHACHA20_POLY1305_SHA256": None,
}
# The response headers exporter-toolkit lets a web config set, with their allowed values (None: any).
_HEADERS: dict[str, tuple[str, ...] | None] = {
    "Strict-Transport-Security": None,
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": None,
    "Content-Security-Policy": None,
}
_BCRYPT = re.compile(r"^\$2[abxy]?\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$")
_UNSUPPORTED_AUTH = ("not supported by sla-agent: Python's ssl verifies every client certificate it asks for; "
                     "use RequireAndVerifyClientCert (or VerifyClientCertIfGiven) with client_ca_file")


class TlsServerConfig(Model):
    cert: Text = None
    key: Annotated[SecretStr | None, BeforeValidator(_blank_is_unset)] = None
    client_ca: Text = None
    cert_file: FileName = None
    key_file: FileName = None
    client_auth_type: Annotated[ClientAuth | None, BeforeValidator(_blank_is_unset)] = None
    client_ca_file: FileName = None
    client_allowed_sans: tuple[str, ...] | None = None
    min_version: TlsVersion = "TLS12"
    max_version: TlsVersion = "TLS13"
    cipher_suites: tuple[str, ...] = ()
    prefer_server_cipher_suites: bool = True
    curve_preferences: tuple[str, ...] = ()

    @field_validator("client_auth_type")
    @classmethod
    def _supported_auth(cls, value: str | None) -> str | None:
        if value in ("RequestClientCert", "RequireAnyClientCert", "RequireClientCert"):
            raise ValueError(f"{value} is {_UNSUPPORTED_AUTH}")
        return value

    @field_validator("cipher_suites")
    @classmethod
    def _known_ciphers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in _CIPHERS]
        if unknown:
            raise ValueError(f"unknown cipher suite {unknown[0]!r}; known: {', '.join(_CIPHERS)}")
        return value

    @field_validator("curve_preferences")
    @classmethod
    def _no_curves(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if value:
            raise ValueError("not supported by sla-agent (Python's ssl cannot set a curve list); remove it")
        return value

    @property
    def enabled(self) -> bool:
        """Whether TLS is configured at all (exporter-toolkit's IsEnabled)."""
        return any(v is not None for v in (self.cert, self.key, self.client_ca, self.cert_file, self.key_file,
                                           self.client_ca_file, self.client_auth_type))


class HttpServerConfig(Model):
    http2: bool = True  # accepted for compatibility: the agent speaks HTTP/1.1 only
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("headers")
    @classmethod
    def _allowed_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if name not in _HEADERS:
                raise ValueError(f"HTTP header {name!r} can not be configured; allowed: {', '.join(_HEADERS)}")
            allowed = _HEADERS[name]
            if allowed is not None and text not in allowed:
                raise ValueError(f"{name}: expected one of {', '.join(allowed)}, got {text!r}")
        return value


class WebConfigFile(Model):
    tls_server_config: TlsServerConfig = TlsServerConfig()
    http_server_config: HttpServerConfig = HttpServerConfig()
    basic_auth_users: dict[str, SecretStr] | None = None
    rate_limit: dict[str, Any] | None = None

    @field_validator("basic_auth_users")
    @classmethod
    def _bcrypt_hashes(cls, value: dict[str, SecretStr] | None) -> dict[str, SecretStr] | None:
        for user, hashed in (value or {}).items():
            if not _BCRYPT.match(hashed.get_secret_value()):
                raise ValueError(f"user {user!r}: not a bcrypt hash ($2y$10$... : see README, Security)")
        return value

    @field_validator("rate_limit")
    @classmethod
    def _no_rate_limit(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            raise ValueError("not supported by sla-agent; remove it (the agent bounds connections itself)")
        return value


@dataclass(frozen=True, slots=True, eq=False)
class WebSecurity:
    """What the listeners enforce: TLS (a ready server context), basic-auth users, response headers."""

    tls: ssl.SSLContext | None = None
    client_allowed_sans: frozenset[str] | None = None
    users: Mapping[str, bytes] = field(default_factory=dict, repr=False)  # user -> bcrypt hash
    headers: tuple[tuple[str, str], ...] = ()
    source: Path | None = None

    @property
    def authenticated(self) -> bool:
        """Whether a request must prove who sent it (basic auth or a verified client certificate)."""
        return bool(self.users) or (self.tls is not None and self.tls.verify_mode == ssl.CERT_REQUIRED)


NO_SECURITY = WebSecurity()


def load_web_config(path: Path | None) -> WebSecurity:
    """Read, validate and prepare the web config at ``path`` (None: plain HTTP, no auth); ConfigError if bad."""
    if path is None:
        return NO_SECURITY
    source = str(path)
    data = read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: (top level): expected a mapping (tls_server_config, basic_auth_users, ...)"])
    try:
        parsed = WebConfigFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([
            f"{source}: {format_loc(tuple(e['loc']), data)}: {error_message(WebConfigFile, e)}"
            for e in exc.errors(include_url=False, include_input=False)
        ]) from None
    tls, problems = _context(parsed.tls_server_config, path.parent)
    if problems:
        raise ConfigError([f"{source}: tls_server_config.{key}: {problem}" for key, problem in problems])
    sans = parsed.tls_server_config.client_allowed_sans
    return WebSecurity(
        tls=tls,
        client_allowed_sans=frozenset(_normal_san(s) for s in sans) if sans is not None and tls is not None else None,
        users={user: hashed.get_secret_value().encode() for user, hashed in (parsed.basic_auth_users or {}).items()},
        headers=tuple(parsed.http_server_config.headers.items()),
        source=path,
    )


def _context(c: TlsServerConfig, base: Path) -> tuple[ssl.SSLContext | None, list[tuple[str, str]]]:
    """The server SSLContext for ``c`` (None when TLS is not configured), or the problems found."""
    if not c.enabled:
        return None, []
    problems: list[tuple[str, str]] = []
    for inline, path, name in ((c.cert, c.cert_file, "cert"), (c.key, c.key_file, "key")):
        if inline is None and path is None:
            problems.append((f"{name}_file", f"missing: give {name}_file (or an inline {name})"))
        elif inline is not None and path is not None:
            problems.append((name, f"give {name} or {name}_file, not both"))
    if c.client_ca is not None and c.client_ca_file is not None:
        problems.append(("client_ca", "give client_ca or client_ca_file, not both"))
    auth = c.client_auth_type or "NoClientCert"
    has_ca = c.client_ca is not None or c.client_ca_file is not None
    if has_ca and auth == "NoClientCert":
        problems.append(("client_auth_type", "client CAs are configured without a client auth policy: "
                                             "set client_auth_type: RequireAndVerifyClientCert"))
    if auth != "NoClientCert" and not has_ca:
        problems.append(("client_ca_file", f"{auth} needs the CA that signs client certificates (client_ca_file)"))
    if _VERSIONS[c.min_version] > _VERSIONS[c.max_version]:
        problems.append(("min_version", f"{c.min_version} is above max_version {c.max_version}"))
    if problems:
        return None, problems
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.minimum_version = _VERSIONS[c.min_version]
        context.maximum_version = _VERSIONS[c.max_version]
    except ValueError as exc:
        return None, [("min_version", f"not available in this OpenSSL: {exc}")]
    _load_chain(context, c, base, problems)
    if c.client_ca_file is not None:
        where = _resolve(base, c.client_ca_file)
        try:
            context.load_verify_locations(cafile=str(where))
        except (OSError, ssl.SSLError) as exc:
            problems.append(("client_ca_file", f"{where}: {_reason(exc)}"))
    elif c.client_ca is not None:
        try:
            context.load_verify_locations(cadata=c.client_ca)
        except (ssl.SSLError, ValueError) as exc:
            problems.append(("client_ca", f"not a PEM certificate: {_reason(exc)}"))
    context.verify_mode = _CLIENT_AUTH[auth]
    suites = [name for name in (_CIPHERS[s] for s in c.cipher_suites) if name is not None]
    if suites:
        try:
            context.set_ciphers(":".join(suites))
        except ssl.SSLError as exc:
            problems.append(("cipher_suites", _reason(exc)))
    if c.prefer_server_cipher_suites:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    return (None, problems) if problems else (context, [])


def _load_chain(context: ssl.SSLContext, c: TlsServerConfig, base: Path, problems: list[tuple[str, str]]) -> None:
    """The server certificate and key, from files or inline PEM."""
    for name, path in (("cert_file", c.cert_file), ("key_file", c.key_file)):
        if path is not None and not _resolve(base, path).is_file():
            problems.append((name, f"{_resolve(base, path)}: no such file"))
    if problems:
        return
    where = "cert_file" if c.cert_file is not None else "cert"
    with contextlib.ExitStack() as scratch:
        cert = _resolve(base, c.cert_file) if c.cert_file is not None else scratch.enter_context(_in_memory(c.cert))
        key = (_resolve(base, c.key_file) if c.key_file is not None
               else scratch.enter_context(_in_memory(c.key.get_secret_value() if c.key is not None else "")))
        try:
            context.load_cert_chain(str(cert), str(key))
        except ssl.SSLError as exc:
            problems.append((where, f"certificate and key do not load: {_reason(exc)}"))
        except OSError as exc:
            problems.append((where, f"cannot read: {exc.strerror or exc}"))


@contextlib.contextmanager
def _in_memory(text: str | None) -> Iterator[Path]:
    """A path to ``text`` for ssl, which loads certificates only from paths: an anonymous memory
    file (the agent writes nothing outside its data directory, and a key never touches a disk)."""
    descriptor = os.memfd_create("sla-agent-tls", os.MFD_CLOEXEC)
    try:
        os.write(descriptor, (text or "").encode())
        yield Path(f"/proc/self/fd/{descriptor}")
    finally:
        os.close(descriptor)


def _resolve(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else base / path


def _reason(exc: Exception) -> str:
    """One line for an ssl/OS error: OpenSSL's reason, never a key's bytes."""
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return exc.reason.replace("_", " ").lower()
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _normal_san(value: str) -> str:
    """A SAN as compared: IP addresses in their canonical text (Go's ip.String())."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


def peer_sans(peercert: Mapping[str, Any] | None) -> set[str]:
    """Every DNS, IP, e-mail and URI SAN of a verified peer certificate (ssl's getpeercert() dict)."""
    if not peercert:
        return set()
    return {_normal_san(str(value)) for kind, value in peercert.get("subjectAltName", ())
            if kind in ("DNS", "IP Address", "email", "URI")}
