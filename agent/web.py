"""Serving an aiohttp app the way the agent's listeners need: bounded, optionally TLS, optionally basic auth.

Why not a plain ``web.TCPSite``: 1,100 idle TCP connections used up the
process's file descriptors and ``accept()`` failed for everyone, /metrics
included. Here every accepted connection is counted from ``accept()`` to
close (TLS handshakes included, so a flood of half-open TLS connections is
bounded too): at most ``max_connections`` are open; one more evicts the
connection that has been idle longest (no request in progress), and only
when every connection is busy is the new one refused. A connection with no
request in progress for ``idle_timeout`` - one that never sends a request,
sends its header a byte at a time, or sits between keep-alive requests - is
closed.

TLS is done per connection with the context current at accept time, so a
reloaded web config (new certificate, CA, policy) applies to the next
connection without re-binding the port. Basic auth follows exporter-toolkit:
bcrypt hashes, an unknown user costs the same as a wrong password, and a
successful check is cached (bcrypt is slow on purpose); bcrypt runs on a
thread of its own, never on the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import resource
import ssl
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Awaitable, Callable, Mapping

import bcrypt
from aiohttp import web

from agent.webconfig import NO_SECURITY, WebSecurity, peer_sans

log = logging.getLogger(__name__)

# A bcrypt hash of a password nobody has, checked for unknown users so that
# timing does not tell which user names exist (exporter-toolkit does the same).
_DECOY_HASH = bcrypt.hashpw(b"sla-agent decoy password", bcrypt.gensalt(10))
AUTH_CACHE_SIZE = 100
MAX_PENDING_CHECKS = 32  # bcrypt checks waiting for the bcrypt thread; more are refused at once
_WARN_EVERY = 60.0  # seconds between two "connections are full" log lines
MAX_IDLE = 3600.0  # the largest agent.idle_timeout


@dataclass(frozen=True, slots=True)
class Limits:
    max_connections: int = 256
    idle_timeout: float = 60.0


def raise_fd_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return (old, new) soft limits."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:  # e.g. above fs.nr_open: keep the old limit
            log.warning("could not raise the open-files limit from %d to %d: %s", soft, target, exc)
            return soft, soft
        return soft, target
    return soft, soft


class _Pool:
    """The open connections of one listener, idle ones in the order they became idle."""

    def __init__(self, limits: Limits, name: str):
        self.limits = limits
        self._name = name
        self._idle: OrderedDict[_Connection, None] = OrderedDict()
        self._busy: dict[_Connection, int] = {}
        self._by_handler: dict[asyncio.BaseProtocol, _Connection] = {}
        self._warned = -_WARN_EVERY

    def __len__(self) -> int:
        return len(self._idle) + len(self._busy)

    def admit(self, conn: _Connection) -> bool:
        if len(self) >= self.limits.max_connections:
            if self._idle:
                oldest = next(iter(self._idle))
                self._warn("closing the longest-idle connection")
                oldest.close()
            else:
                self._warn("refusing a new connection: every connection has a request in progress")
                return False
        self._idle[conn] = None
        self._by_handler[conn.handler] = conn
        conn.arm(self.limits.idle_timeout)
        return True

    def _warn(self, what: str) -> None:
        now = time.monotonic()
        if now - self._warned >= _WARN_EVERY:
            self._warned = now
            log.warning("%s: %d connections open (max_connections): %s", self._name, len(self), what)

    def of(self, handler: asyncio.BaseProtocol) -> _Connection | None:
        return self._by_handler.get(handler)

    def started(self, conn: _Connection) -> None:
        if conn in self._idle:
            del self._idle[conn]
            self._busy[conn] = 0
            conn.disarm()
        if conn in self._busy:
            self._busy[conn] += 1

    def finished(self, conn: _Connection) -> None:
        count = self._busy.get(conn)
        if count is None:
            return
        if count > 1:
            self._busy[conn] = count - 1
            return
        del self._busy[conn]
        self._idle[conn] = None
        conn.arm(self.limits.idle_timeout)

    def release(self, conn: _Connection) -> None:
        self._idle.pop(conn, None)
        self._busy.pop(conn, None)
        self._by_handler.pop(conn.handler, None)
        conn.disarm()

    def close_all(self) -> None:
        for conn in [*self._idle, *self._busy]:
            conn.close()


class _Connection(asyncio.Protocol):
    """One accepted TCP connection, in front of aiohttp's handler: counted, timed, TLS-wrapped here."""

    def __init__(self, listener: Listener, handler: asyncio.Protocol):
        self.handler = handler
        self._listener = listener
        self._pool = listener.pool
        self._raw: asyncio.Transport | None = None
        self._app: asyncio.BaseTransport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self._early: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._raw = transport
        if not self._pool.admit(self):
            self._closed = True
            transport.abort()
            return
        security = self._listener.security
        if security.tls is None:
            self._made(transport)
            return
        transport.pause_reading()  # the ClientHello waits for start_tls
        asyncio.ensure_future(self._handshake(security.tls))

    async def _handshake(self, context: ssl.SSLContext) -> None:
        assert self._raw is not None
        loop = asyncio.get_running_loop()
        try:
            tls = await loop.start_tls(self._raw, self, context, server_side=True,
                                       ssl_handshake_timeout=self._pool.limits.idle_timeout)
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError, RuntimeError) as exc:
            log.debug("TLS handshake failed: %s", exc)
            self.close()
            return
        if tls is None or self._closed:
            self._pool.release(self)
            return
        self._made(tls)

    def _made(self, transport: asyncio.BaseTransport) -> None:
        allowed = self._listener.security.client_allowed_sans
        if allowed is not None and not peer_sans(transport.get_extra_info("peercert")) & allowed:
            log.debug("client certificate has none of client_allowed_sans: closing")
            self.close()
            return
        self._app = transport
        self.handler.connection_made(transport)
        early, self._early = self._early, []
        for data in early:
            self.handler.data_received(data)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if self._app is not None:
            self.handler.data_received(data)  # type: ignore[attr-defined]
        else:  # plaintext decrypted before start_tls returned: the handler gets it once connected
            self._early.append(data)

    def eof_received(self) -> bool | None:
        return self.handler.eof_received() if self._app is not None else None  # type: ignore[attr-defined]

    def pause_writing(self) -> None:
        if self._app is not None:
            self.handler.pause_writing()

    def resume_writing(self) -> None:
        if self._app is not None:
            self.handler.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._pool.release(self)
        if self._app is not None:
            self._app = None
            self.handler.connection_lost(exc)

    def arm(self, seconds: float) -> None:
        self.disarm()
        self._timer = asyncio.get_running_loop().call_later(seconds, self._idle_expired)

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _idle_expired(self) -> None:
        self._timer = None
        self.close()

    def close(self) -> None:
        """Drop the connection now (it is idle or refused: nothing worth flushing)."""
        self._pool.release(self)  # at once: its socket is freed only on the next loop iteration
        if self._raw is not None and not self._closed:
            self._closed = True
            self._raw.abort()


class BasicAuth:
    """Checks ``Authorization: Basic`` against bcrypt hashes, caching successes."""

    def __init__(self) -> None:
        self._cache: OrderedDict[bytes, None] = OrderedDict()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bcrypt")
        self._pending = 0

    async def check(self, header: str | None, users: Mapping[str, bytes]) -> bool | None:
        """True if allowed, False if not, None when too many checks are already waiting."""
        credentials = _basic_credentials(header)
        if credentials is None:
            return False
        user, password = credentials
        hashed = users.get(user)
        # Keyed by a digest: the cache holds no password in the clear.
        key = hashlib.sha256(b"\0".join((user.encode(), hashed or b"", password))).digest()
        if hashed is not None and key in self._cache:
            self._cache.move_to_end(key)
            return True
        if self._pending >= MAX_PENDING_CHECKS:
            return None
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            ok = await loop.run_in_executor(self._executor, _bcrypt_matches, password, hashed or _DECOY_HASH)
        finally:
            self._pending -= 1
        if not ok or hashed is None:
            return False
        self._cache[key] = None
        if len(self._cache) > AUTH_CACHE_SIZE:
            self._cache.popitem(last=False)
        return True

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _bcrypt_matches(password: bytes, hashed: bytes) -> bool:
    try:
        return bcrypt.checkpw(password, hashed)
    except ValueError:  # a password over bcrypt's 72 bytes, or a hash it cannot read
        return False


def _basic_credentials(header: str | None) -> tuple[str, bytes] | None:
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    if not sep:
        return None
    try:
        return user.decode("utf-8"), password
    except UnicodeDecodeError:
        return None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Listener:
    """``app`` served on ``host:port`` with the connection bounds and the web config's TLS and auth.

    ``update()`` swaps limits and security at run time (a reload): auth and
    headers apply to the next request, TLS to the next connection.
    """

    def __init__(self, app: web.Application, host: str, port: int, *, limits: Limits = Limits(),
                 security: WebSecurity = NO_SECURITY, name: str = "http", auth: bool = True):
        self.pool = _Pool(limits, name)
        self.security = security
        self._use_auth = auth  # False: the app authenticates its own requests (the SMS webhook's token)
        self._app = app
        self._host, self._port = host, port
        self._auth = BasicAuth()
        self._runner: web.AppRunner | None = None
        self._server: asyncio.AbstractServer | None = None
        app.middlewares.insert(0, self._guard)  # outermost: auth before any other middleware
        # Headers go on at prepare time: a streamed response (/metrics) sends them before the handler returns.
        app.on_response_prepare.append(self._add_headers)

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self._port

    @property
    def scheme(self) -> str:
        return "https" if self.security.tls is not None else "http"

    def update(self, limits: Limits, security: WebSecurity) -> None:
        self.pool.limits = limits
        self.security = security

    async def start(self) -> None:
        """Bind and serve; OSError (address in use, permission) propagates with nothing left open."""
        # aiohttp's own keep-alive bound only backs up the pool's (which a reload may change).
        runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=2.0, keepalive_timeout=MAX_IDLE)
        await runner.setup()
        server = runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                lambda: _Connection(self, server()), self._host, self._port, reuse_address=True, backlog=128)
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self.pool.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._auth.close()

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        conn = self.pool.of(request.protocol)
        if conn is not None:
            self.pool.started(conn)
        try:
            return await self._authorized(request, handler, self.security)
        finally:
            if conn is not None:
                self.pool.finished(conn)

    async def _add_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(self.security.headers)

    async def _authorized(self, request: web.Request, handler: Handler, security: WebSecurity) -> web.StreamResponse:
        if self._use_auth and security.users:
            allowed = await self._auth.check(request.headers.get("Authorization"), security.users)
            if allowed is None:
                return web.Response(status=503, text="too many authentication attempts in progress\n",
                                    headers={"Retry-After": "1"})
            if not allowed:
                return web.Response(status=401, text="Unauthorized\n", headers={"WWW-Authenticate": "Basic"})
        return await handler(request)
