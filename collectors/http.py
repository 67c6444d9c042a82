"""HTTP/JSON plumbing shared by every HTTP collector (cloud APIs, SMS gateway).

:class:`JsonHttp` makes the requests of one poll: every attempt is bounded by
the poll's deadline, transient failures (5xx, 429, connection errors,
truncated bodies) are retried with exponential backoff and jitter while time
is left, and every failure becomes one :class:`CollectorError` line naming the
service, method and URL - never a header, so never a token or key.

:class:`HttpClients` owns what a collector shares across its targets: one
aiohttp session (bound to the running loop) and one TLS context per source.
"""

from __future__ import annotations

import asyncio
import json
import random
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from collectors.base import CollectorError

MAX_BODY = 32 * 2**20  # a capacity answer is kilobytes; refuse to buffer a runaway body
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


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def decode_json(response: Response) -> Any:
    """The body as JSON; CollectorError (one line) when it is empty, truncated or not JSON."""
    if not response.body.strip():
        raise CollectorError(f"{response.where}: empty body (HTTP {response.status})")
    try:
        # NaN / Infinity are not JSON, and a NaN capacity must never reach a KPI.
        return json.loads(response.body.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise CollectorError(f"{response.where}: body is not UTF-8") from None
    except ValueError as exc:
        reason = str(exc).splitlines()[0][:120]
        raise CollectorError(f"{response.where}: malformed or truncated JSON ({reason})") from None


class JsonHttp:
    """The HTTP requests of one poll, all within one deadline (event-loop time)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        deadline: float,
        timeout: float,
        retries: int,
        ssl: Any = None,
        backoff_base: float = 0.5,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._session = session
        self._deadline = deadline
        self._timeout = timeout  # the poll's budget, for messages
        self._retries = retries
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
    ) -> Response:
        """One request, retried on transient failures; returns any non-retryable answer.

        2xx and 4xx (other than 429) come back for the caller to judge; 5xx,
        429 and connection errors are retried up to ``retries`` times, after
        which (or when the deadline is near) a CollectorError is raised.
        """
        where = f"{service} {method} {safe_url(url)}"
        problem = "no attempt made"
        for attempt in range(self._retries + 1):
            left = self.remaining()
            if left <= 0:
                raise CollectorError(f"{where}: no complete answer within {self._timeout:g}s ({problem})")
            retry_after = 0.0
            try:
                response = await self._once(method, url, headers, json_body, left, where)
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
        self, method: str, url: str | URL, headers: Mapping[str, str] | None, json_body: Any, left: float, where: str
    ) -> Response:
        timeout = aiohttp.ClientTimeout(total=left)
        async with self._session.request(
            method, url, headers=headers, json=json_body, ssl=self._ssl, timeout=timeout, allow_redirects=False
        ) as resp:
            if (resp.content_length or 0) > MAX_BODY:
                raise CollectorError(f"{where}: body of {resp.content_length} bytes is larger than {MAX_BODY}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.content.iter_chunked(65536):
                size += len(chunk)
                if size > MAX_BODY:
                    raise CollectorError(f"{where}: body larger than {MAX_BODY} bytes")
                chunks.append(chunk)
            return Response(resp.status, resp.reason or "", resp.headers, b"".join(chunks), where)


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
