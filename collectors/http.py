"""HTTP/JSON plumbing shared by every HTTP collector (cloud APIs, SMS gateway).

:class:`JsonHttp` makes the requests of one poll: every attempt is bounded by
the poll's deadline, transient failures (5xx, 429, connection errors,
truncated bodies) are retried with exponential backoff and jitter while time
is left, and every failure becomes one :class:`CollectorError` line naming the
service, method and URL - never a header, so never a token or key.

Bodies are capped per source (``max_body``, sized to what the API really
answers: a capacity answer is kilobytes): an answer declaring more is refused
on its Content-Length before any of it is read, and one streamed without a
length is read in chunks and refused as soon as it passes the cap, so a
hostile or broken source costs at most the cap in memory. :func:`decode_json`
decodes in a parsing thread (collectors/parsing.py), never on the event loop.

:class:`HttpClients` owns what a collector shares across its targets: one
aiohttp session (bound to the running loop) and one TLS context per source.
"""

from __future__ import annotations

import asyncio
import random
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from collectors.base import CollectorError
from collectors.parsing import JsonProblem, loads, off_loop

KIB, MIB = 2**10, 2**20
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0


def safe_url(url: str | URL) -> str:
    """``url`` without user info or query: what may appear in a message or log."""
    parsed = URL(url) if isinstance(url, str) else url
    return str(parsed.with_user(None).with_query(None).with_fragment(None))


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    reason: str
    headers: CIMultiDictProxy[str]
    body: bytes
    where: str  # "placement GET http://host/path", for messages


def _document(body: bytes) -> Any:
    # NaN / Infinity are not JSON, and a NaN capacity must never reach a KPI.
    return loads(body, allow_nan=False)


async def decode_json(response: Response) -> Any:
    """The body as JSON, decoded in a parsing thread; CollectorError (one line) when it is empty or not JSON."""
    if not response.body.strip():
        raise CollectorError(f"{response.where}: empty body (HTTP {response.status})")
    try:
        return await off_loop(_document, response.body)
    except JsonProblem as exc:
        raise CollectorError(f"{response.where}: {exc}") from None


class JsonHttp:
    """The HTTP requests of one poll, all within one deadline (event-loop time)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        deadline: float,
        timeout: float,
        retries: int,
        max_body: int,
        ssl: Any = None,
        backoff_base: float = 0.5,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._session = session
        self._deadline = deadline
        self._timeout = timeout  # the poll's budget, for messages
        self._retries = retries
        self._max_body = max_body  # the source's cap; a request may set a smaller one for its API
        self._ssl = ssl
        self._backoff = backoff_base
        self._rng = rng

    def remaining(self) -> float:
        return self._deadline - asyncio.get_running_loop().time()

    async def request(
        self,
        service: str,
        method: str,
        url: str | URL,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        max_body: int | None = None,
    ) -> Response:
        """One request, retried on transient failures; returns any non-retryable answer.

        2xx and 4xx (other than 429) come back for the caller to judge; 5xx,
        429 and connection errors are retried up to ``retries`` times, after
        which (or when the deadline is near) a CollectorError is raised. A body
        over ``max_body`` (default: the source's cap) is refused, not retried:
        the same request would get the same answer.
        """
        where = f"{service} {method} {safe_url(url)}"
        cap = self._max_body if max_body is None else max_body
        problem = "no attempt made"
        for attempt in range(self._retries + 1):
            left = self.remaining()
            if left <= 0:
                raise CollectorError(f"{where}: no complete answer within {self._timeout:g}s ({problem})")
            retry_after = 0.0
            try:
                response = await self._once(method, url, headers, json_body, left, where, cap)
            except asyncio.TimeoutError:
                raise CollectorError(f"{where}: no complete answer within {self._timeout:g}s") from None
            except aiohttp.ClientConnectorCertificateError:
                raise CollectorError(f"{where}: TLS certificate verification failed (see verify_tls / ca_file)") from None
            except aiohttp.ClientSSLError as exc:
                raise CollectorError(f"{where}: TLS error ({type(exc).__name__})") from None
            except aiohttp.ClientPayloadError:
                problem = "connection closed mid-body (truncated response)"
            except (aiohttp.ClientConnectionError, OSError) as exc:
                problem = f"connection error ({type(exc).__name__})"
            except aiohttp.ClientError as exc:
                raise CollectorError(f"{where}: HTTP client error ({type(exc).__name__})") from None
            else:
                if response.status not in RETRY_STATUSES:
                    return response
                problem = f"HTTP {response.status} {response.reason}".rstrip()
                retry_after = _retry_after(response.headers.get("Retry-After"))
            if attempt == self._retries:
                break
            delay = max(self._backoff * 2**attempt * (0.5 + self._rng() / 2), retry_after)
            if delay >= self.remaining():
                raise CollectorError(f"{where}: {problem}; no time left within {self._timeout:g}s to retry")
            await asyncio.sleep(delay)
        attempts = self._retries + 1
        raise CollectorError(f"{where}: {problem} (after {attempts} attempt{'s' if attempts > 1 else ''})")

    async def _once(
        self, method: str, url: str | URL, headers: Mapping[str, str] | None, json_body: Any, left: float, where: str,
        cap: int,
    ) -> Response:
        timeout = aiohttp.ClientTimeout(total=left)
        async with self._session.request(
            method, url, headers=headers, json=json_body, ssl=self._ssl, timeout=timeout, allow_redirects=False
        ) as resp:
            if (resp.content_length or 0) > cap:
                raise CollectorError(f"{where}: answer of {resp.content_length} bytes refused: "
                                     f"larger than the {size_text(cap)} limit")
            body = bytearray()
            async for chunk in resp.content.iter_chunked(65536):
                body += chunk
                if len(body) > cap:
                    raise CollectorError(f"{where}: answer refused: larger than the {size_text(cap)} limit")
            return Response(resp.status, resp.reason or "", resp.headers, bytes(body), where)


def size_text(size: int) -> str:
    """``4 MiB``, ``64 KiB``, ``1000 bytes``: a limit as an operator writes it in the config."""
    for unit, name in ((MIB, "MiB"), (KIB, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"


def _retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header in delta-seconds form; HTTP dates are ignored."""
    if not value:
        return 0.0
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return 0.0


class HttpClients:
    """One aiohttp session and the TLS contexts shared by all targets of a collector."""

    def __init__(self, user_agent: str, *, limit: int = 64, limit_per_host: int = 16) -> None:
        self._user_agent = user_agent
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._ssl: dict[str, ssl.SSLContext] = {}
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None

    def session(self) -> aiohttp.ClientSession:
        # Created inside the running loop (aiohttp binds a session to it) and
        # shared by every target, so connections to one API host are reused.
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit_per_host)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self._user_agent}, cookie_jar=aiohttp.DummyCookieJar()
            )
            self._session_loop = loop
        return self._session

    def ssl_for(self, name: str, verify_tls: bool, ca_file: Path | None) -> Any:
        """aiohttp's ``ssl=`` for a source: False (no verification), None (default) or a cached context."""
        if not verify_tls:
            return False
        if ca_file is None:
            return None
        if name not in self._ssl:
            try:
                self._ssl[name] = ssl.create_default_context(cafile=str(ca_file))
            except (OSError, ssl.SSLError) as exc:
                raise CollectorError(f"cannot load ca_file {ca_file}: {type(exc).__name__}") from None
        return self._ssl[name]

    async def close(self) -> None:
        """Close the shared session; a later poll opens a new one."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()
