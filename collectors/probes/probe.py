"""One HTTP(S) probe: a request, its phase timings, its verdict (:class:`Outcome`).

:func:`run_probe` never raises (but for cancellation): every way a probe can
fail becomes an Outcome with one of :data:`REASONS` and a one-line message
naming the method and the URL (without user info or query, never a header
value: a header may carry a token).

Phases (:data:`PHASES`), consecutive and non-overlapping, in seconds:

- ``dns``: name resolution (aiohttp's dns_resolvehost trace). The session
  has no DNS cache, so every probe resolves; an IP literal has no dns phase.
- ``connect``: the TCP handshake, from the end of resolution (or the start of
  the connection when there was none) until the socket is connected.
- ``tls``: the TLS handshake, from the connected socket until the handshake
  completed (https only).
- ``first_byte``: from the request being written to the response's status
  line and headers having been parsed (server time plus a round trip).
- ``total``: the whole probe until the body was read (or the probe failed),
  always present; the others are present only when the phase completed.

aiohttp's connection_create trace spans DNS, TCP and TLS together. The split
between TCP and TLS comes from :class:`_TimedConnector`: asyncio's
``create_connection(sock=..., ssl=...)`` calls the protocol factory once the
socket is connected and before the handshake starts, so wrapping the factory
aiohttp passes to ``TCPConnector._wrap_create_connection`` marks "TCP up",
and that call's return marks "TLS done" (that method is private to aiohttp;
it has kept this shape since 3.x, and the integration tests check the split).
Every probe opens a new connection (``force_close``), so each one measures
connect and TLS rather than reusing an earlier probe's connection.
"""

from __future__ import annotations

import asyncio
import codecs
import contextvars
import functools
import os
import re
import socket
import ssl
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Awaitable, Callable, Mapping

import aiohttp
from cryptography import x509

from collectors.base import CollectorError
from collectors.cloud.capacity import parse_path
from collectors.http import Response, decode_json, safe_url, size_text
from collectors.parsing import off_loop
from collectors.probes.config import JsonCondition, Probe

REASONS = ("ok", "status", "body", "json", "timeout", "dns", "connect", "tls", "certificate_expired",
           "certificate_untrusted", "too_large", "other")
PHASES = ("dns", "connect", "tls", "first_byte", "total")

USER_AGENT = "sla-agent-probe/0.1"
X509_V_ERR_CERT_HAS_EXPIRED = 10  # OpenSSL's verify code for a certificate past its notAfter
CHUNK = 65536
# aiohttp 3.10+ names DNS failures; before that they are ClientConnectorErrors around a gaierror.
_DNS_ERRORS: tuple[type[BaseException], ...] = tuple(
    error for error in (getattr(aiohttp, "ClientConnectorDNSError", None),) if error is not None)


@dataclass(frozen=True, slots=True)
class Outcome:
    success: bool
    reason: str  # one of REASONS; "ok" iff success
    status: int | None  # HTTP status when an answer arrived
    phases: Mapping[str, float]  # seconds per phase reached (keys from PHASES); "total" always present
    certificate_expiry: float | None  # leaf certificate notAfter, Unix seconds (https, handshake completed)
    message: str  # one line: method, safe URL, what happened; never a header value


class _Marks:
    """perf_counter() instants of one probe's events, filled by the trace callbacks and the connector."""

    __slots__ = ("dns_start", "dns_end", "connect_start", "tcp_up", "tls_done", "request_sent", "peer_der")

    def __init__(self) -> None:
        self.dns_start: float | None = None
        self.dns_end: float | None = None
        self.connect_start: float | None = None
        self.tcp_up: float | None = None
        self.tls_done: float | None = None
        self.request_sent: float | None = None
        self.peer_der: bytes | None = None


# The connector has no public way to see a request's trace context, so run_probe
# also hands it the marks through a context variable (each probe runs in its own
# task or sets and resets it around its request, so probes never share marks).
_CURRENT: contextvars.ContextVar[_Marks | None] = contextvars.ContextVar("probe_marks", default=None)


class _TimedConnector(aiohttp.TCPConnector):
    """A TCPConnector that marks when TCP is up and when TLS is done, and keeps the peer's certificate."""

    async def _wrap_create_connection(self, protocol_factory: Callable[[], Any], *args: Any,
                                      **kwargs: Any) -> Any:
        marks = _CURRENT.get()
        if marks is None:
            return await super()._wrap_create_connection(protocol_factory, *args, **kwargs)

        def connected() -> Any:
            # Called by asyncio with the socket connected, before any TLS byte is sent.
            marks.tcp_up = time.perf_counter()
            return protocol_factory()

        transport, protocol = await super()._wrap_create_connection(connected, *args, **kwargs)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            marks.tls_done = time.perf_counter()
            # The binary form is there whether or not the certificate was verified.
            marks.peer_der = ssl_object.getpeercert(binary_form=True)
        return transport, protocol


def _recorder(attribute: str) -> Callable[[aiohttp.ClientSession, SimpleNamespace, Any], Awaitable[None]]:
    """A trace callback stamping ``attribute`` of the request's marks (its trace_request_ctx)."""

    async def record(_session: aiohttp.ClientSession, context: SimpleNamespace, _params: Any) -> None:
        marks = getattr(context, "trace_request_ctx", None)
        if isinstance(marks, _Marks):  # requests not made by run_probe carry no marks
            setattr(marks, attribute, time.perf_counter())

    return record


def make_session(*, user_agent: str = USER_AGENT, limit: int = 64) -> aiohttp.ClientSession:
    """The session all probes of a collector share; call it inside the running loop (aiohttp binds to it).

    No keep-alive and no DNS cache, so every probe resolves, connects and
    handshakes anew; no cookies, so one probe's answer never changes the next
    request. Time limits are per probe (run_probe), not per session.
    """
    trace = aiohttp.TraceConfig()
    trace.on_dns_resolvehost_start.append(_recorder("dns_start"))
    trace.on_dns_resolvehost_end.append(_recorder("dns_end"))
    trace.on_connection_create_start.append(_recorder("connect_start"))
    trace.on_request_headers_sent.append(_recorder("request_sent"))
    connector = _TimedConnector(limit=limit, force_close=True, use_dns_cache=False)
    return aiohttp.ClientSession(
        connector=connector, trace_configs=[trace], headers={"User-Agent": user_agent},
        cookie_jar=aiohttp.DummyCookieJar(), timeout=aiohttp.ClientTimeout(total=None),
    )


def tls_context(probe: Probe) -> ssl.SSLContext | bool:
    """aiohttp's ``ssl=`` for ``probe``: a verifying context, or False (verify_tls off).

    A ca_file replaces the system CAs (a private CA's endpoint trusts only it);
    CollectorError (one line) when it cannot be loaded. Make it once per probe.
    """
    if not probe.verify_tls:
        return False
    try:
        return ssl.create_default_context(cafile=None if probe.ca_file is None else str(probe.ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise CollectorError(f"probe {probe.name}: cannot load ca_file {probe.ca_file}: {type(exc).__name__}") from None


def _phases(marks: _Marks, started: float, answered: float | None, ended: float) -> dict[str, float]:
    phases: dict[str, float] = {}
    if marks.dns_start is not None and marks.dns_end is not None:
        phases["dns"] = marks.dns_end - marks.dns_start
    connect_from = marks.dns_end if marks.dns_end is not None else marks.connect_start
    if connect_from is not None and marks.tcp_up is not None:
        phases["connect"] = marks.tcp_up - connect_from
    if marks.tcp_up is not None and marks.tls_done is not None:
        phases["tls"] = marks.tls_done - marks.tcp_up
    if marks.request_sent is not None and answered is not None:
        phases["first_byte"] = answered - marks.request_sent
    phases["total"] = ended - started
    return phases


def _not_after(der: bytes | None) -> float | None:
    if not der:
        return None
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError:
        return None  # a handshake with a certificate cryptography cannot parse: no expiry to report
    return certificate.not_valid_after_utc.timestamp()


def _days(seconds: float) -> str:
    return f"{seconds / 86400:.1f} days"


class _Failed(Exception):
    """A failed condition: the reason and the problem, for the message."""

    def __init__(self, reason: str, problem: str) -> None:
        super().__init__(problem)
        self.reason = reason
        self.problem = problem


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    # Refused on the declared length before reading; otherwise read in chunks
    # and refused as soon as it passes the cap, so a probe costs at most the cap.
    if response.content_length is not None and response.content_length > cap:
        raise _Failed("too_large", f"answer of {response.content_length} bytes is larger than the "
                                   f"{size_text(cap)} limit")
    body = bytearray()
    while chunk := await response.content.read(CHUNK):
        body += chunk
        if len(body) > cap:
            raise _Failed("too_large", f"answer is larger than the {size_text(cap)} limit")
    return bytes(body)


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _search(pattern: str, text: str) -> bool:
    return _compiled(pattern).search(text) is not None


def _json_equal(found: Any, wanted: Any) -> bool:
    """Equal as JSON values: 1 == 1.0, but "1" != 1 and true != 1 (Python's bool is an int)."""
    if isinstance(found, bool) or isinstance(wanted, bool):
        return isinstance(found, bool) and isinstance(wanted, bool) and found == wanted
    if isinstance(found, (int, float)) and isinstance(wanted, (int, float)):
        return found == wanted
    return isinstance(found, str) and isinstance(wanted, str) and found == wanted


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _field(document: Any, path: str) -> Any:
    """The value at ``path`` (keys and [n]); _Failed("json") naming the first step that is missing."""
    node = document
    where = "$"
    for step in parse_path(path):
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                raise _Failed("json", f"JSON field {path}: {where}[{step}] missing")
            node = node[step]
            where = f"{where}[{step}]"
        else:
            if not isinstance(node, dict) or step not in node:
                raise _Failed("json", f"JSON field {path}: {step!r} missing at {where}")
            node = node[step]
            where = f"{where}.{step}"
    return node


async def _check_json(response: aiohttp.ClientResponse, body: bytes, condition: JsonCondition,
                      where: str) -> None:
    try:
        document = await decode_json(Response(response.status, response.reason or "", response.headers, body, where))
    except CollectorError as exc:
        raise _Failed("json", str(exc).removeprefix(f"{where}: ")) from None
    value = _field(document, condition.path)
    if condition.equals is not None and not _json_equal(value, condition.equals):
        raise _Failed("json", f"JSON field {condition.path} is {_short(value)}, expected {_short(condition.equals)}")


async def _check_body(response: aiohttp.ClientResponse, body: bytes, probe: Probe, where: str) -> None:
    if probe.body_contains is not None and probe.body_contains.encode("utf-8") not in body:
        raise _Failed("body", f"body does not contain {_short(probe.body_contains)}")
    if probe.body_regex is not None:
        text = body.decode(_encoding(response.charset), errors="replace")
        # In the parsing pool: a regex over a large body never stalls the event loop.
        if not await off_loop(_search, probe.body_regex, text):
            raise _Failed("body", f"body does not match {_short(probe.body_regex)}")
    if probe.json_field is not None:
        await _check_json(response, body, probe.json_field, where)


def _encoding(charset: str | None) -> str:
    # The declared charset when Python knows it, else UTF-8 (what JSON and most APIs send).
    if charset:
        try:
            return codecs.lookup(charset).name
        except LookupError:
            pass
    return "utf-8"


def _certificate_failure(exc: aiohttp.ClientConnectorCertificateError) -> tuple[str, str]:
    error = exc.certificate_error
    if isinstance(error, ssl.SSLCertVerificationError):
        detail = (error.verify_message or "verification failed").splitlines()[0]
        if error.verify_code == X509_V_ERR_CERT_HAS_EXPIRED:
            return "certificate_expired", f"TLS certificate expired ({detail})"
        return "certificate_untrusted", f"TLS certificate not trusted ({detail})"
    return "certificate_untrusted", f"TLS certificate not trusted ({type(error).__name__})"


def _classify(exc: BaseException) -> tuple[str, str]:
    """(reason, problem) for what aiohttp (or the socket under it) raised."""
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout", "no complete answer in time"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return _certificate_failure(exc)
    if isinstance(exc, (aiohttp.ClientSSLError, ssl.SSLError)):
        cause = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
        # OpenSSL's reason code (WRONG_VERSION_NUMBER, ...) says more than the class name.
        return "tls", f"TLS error ({getattr(cause, 'reason', None) or type(cause).__name__})"
    if isinstance(exc, _DNS_ERRORS) or (
            isinstance(exc, aiohttp.ClientConnectorError) and isinstance(exc.os_error, socket.gaierror)):
        return "dns", "cannot resolve the host name"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "connect", "connection closed without an answer"
    if isinstance(exc, aiohttp.ClientConnectorError):
        error = exc.os_error
        # The errno's text ("Connection refused"); asyncio's strerror repeats the address.
        cause = os.strerror(error.errno) if error.errno else type(error).__name__
        return "connect", f"cannot connect ({cause})"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "other", "malformed or truncated body"
    if isinstance(exc, (aiohttp.ClientConnectionError, OSError)):
        return "connect", f"connection error ({type(exc).__name__})"
    if isinstance(exc, aiohttp.ClientResponseError):
        return "other", f"invalid HTTP answer ({type(exc).__name__})"
    return "other", f"request failed ({type(exc).__name__})"


async def run_probe(session: aiohttp.ClientSession, probe: Probe, ssl: ssl.SSLContext | bool, *,
                    now: Callable[[], float] = time.time) -> Outcome:
    """Run ``probe`` once within its timeout; the Outcome says how it went (never raises but CancelledError).

    Redirects are not followed: the probe judges the endpoint it names (list
    301/302 in expect_status to accept one). ``ssl`` is :func:`tls_context`'s
    result, made once per probe. ``now`` (wall clock) only dates the
    certificate's remaining validity in the message.
    """
    method, where = probe.method, f"{probe.method} {safe_url(probe.url)}"
    headers = {name: value.get_secret_value() for name, value in probe.headers.items()}
    marks = _Marks()
    token = _CURRENT.set(marks)
    status: int | None = None
    answered: float | None = None  # the response head parsed
    ended: float | None = None  # the body read; conditions are judged after, outside the timings
    started = time.perf_counter()
    try:
        async with asyncio.timeout(probe.timeout):
            async with session.request(
                method, probe.url, headers=headers, data=probe.body, ssl=ssl, allow_redirects=False,
                trace_request_ctx=marks,
            ) as response:
                answered = time.perf_counter()
                status = response.status
                if status not in probe.expect_status:
                    expected = ", ".join(str(code) for code in probe.expect_status)
                    raise _Failed("status", f"HTTP {status}, expected {expected}")
                body = b"" if method == "HEAD" else await _read_capped(response, probe.max_body)
                ended = time.perf_counter()
                await _check_body(response, body, probe, where)
    except _Failed as failed:
        return _outcome(failed.reason, status, marks, (started, answered, ended), f"{where}: {failed.problem}")
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - every other failure is an outcome, never an escape
        reason, problem = _classify(exc)
        if reason == "timeout":
            problem = f"no complete answer within {probe.timeout:g}s"
        return _outcome(reason, status, marks, (started, answered, ended), f"{where}: {problem}")
    finally:
        _CURRENT.reset(token)
    expiry = _not_after(marks.peer_der)
    note = ""
    if expiry is not None:
        left = expiry - now()
        # Past its date yet accepted: only possible with verify_tls off, worth saying.
        note = (f", certificate expires in {_days(left)}" if left >= 0
                else f", certificate expired {_days(-left)} ago (not verified)")
    phases = _phases(marks, started, answered, time.perf_counter() if ended is None else ended)
    return Outcome(True, "ok", status, phases, expiry, f"{where}: HTTP {status} in {phases['total']:.3f}s{note}")


def _outcome(reason: str, status: int | None, marks: _Marks, times: tuple[float, float | None, float | None],
             message: str) -> Outcome:
    started, answered, ended = times
    phases = _phases(marks, started, answered, time.perf_counter() if ended is None else ended)
    return Outcome(False, reason, status, phases, _not_after(marks.peer_der), message)


__all__ = ["Outcome", "PHASES", "REASONS", "make_session", "run_probe", "tls_context"]
