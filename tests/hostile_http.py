"""A misbehaving HTTP/1.1 server on 127.0.0.1, for fault tests and the hostile-mix benchmark.

:class:`HostileServer` (an async context manager, plain asyncio streams so it
can break HTTP and TLS in ways a framework would not) answers each request by
the :data:`Behaviour` of the longest route prefix matching its path. The
behaviours are the faults an HTTP source shows in the field: an answer that
never comes (:func:`silent`), headers or a body dribbled a byte at a time
(:func:`slow_headers`, :func:`slow_body`), a reset or a connection closed
mid-body (:func:`reset`, :func:`cut`), huge bodies with or without a
Content-Length (:func:`huge`), deeply nested JSON (:func:`nested`), and
wrong content (:func:`answer` with HTML, non-UTF-8 bytes, the wrong shape).
With ``tls=`` it speaks TLS (:func:`certificates` makes a CA and a
certificate for 127.0.0.1); :func:`tls_garbage` answers a TLS handshake with
bytes that are not TLS.

Every behaviour is bounded in time (``HOLD``) and in bytes, and stops as soon
as the client goes away; the server counts what it sent (``sent``) so a test
can tell how much of a body the client read before refusing it.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import socket
import ssl
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

HOST = "127.0.0.1"
HOLD = 30.0  # the longest any behaviour keeps a connection: far beyond every poll timeout in the tests
MAX_HEAD = 64 * 1024
MAX_REQUEST_BODY = 16 * 2**20


@dataclass(slots=True)
class Request:
    method: str
    path: str  # without the query
    target: str  # as sent, query included
    headers: dict[str, str]  # lower-case names
    body: bytes


Behaviour = Callable[["Conn"], Awaitable[None]]


@dataclass(slots=True)
class Conn:
    """One request being answered: what came in, and the writer to misbehave on."""

    request: Request | None  # None for behaviours that answer before reading (TLS garbage)
    writer: asyncio.StreamWriter
    server: "HostileServer"

    async def send(self, data: bytes) -> None:
        """Write and wait until the client takes it; ConnectionError once it has gone."""
        if self.writer.is_closing():
            raise ConnectionResetError("client gone")
        self.writer.write(data)
        await self.writer.drain()
        self.server.sent += len(data)


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {'OK' if status < 400 else 'Error'}"]
    lines += [f"{name}: {value}" for name, value in {"Connection": "close", **headers}.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def answer(body: bytes | str | Any, status: int = 200, content_type: str = "application/json",
           headers: dict[str, str] | None = None) -> Behaviour:
    """A well-formed answer: bytes as they are, str as UTF-8, anything else as JSON."""
    if isinstance(body, str):
        data = body.encode()
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode()

    async def behave(conn: Conn) -> None:
        head = {"Content-Type": content_type, "Content-Length": str(len(data)), **(headers or {})}
        await conn.send(_head(status, head) + data)

    return behave


async def silent(conn: Conn) -> None:
    """Reads the request and never answers (until the client gives up)."""
    await _hold(conn)


async def _hold(conn: Conn, seconds: float = HOLD) -> None:
    try:
        await asyncio.wait_for(conn.server.reader_closed(conn), seconds)
    except asyncio.TimeoutError:
        pass


def slow_headers(step: float = 0.2) -> Behaviour:
    """The status line, then the headers one byte every ``step`` seconds."""

    async def behave(conn: Conn) -> None:
        head = _head(200, {"Content-Type": "application/json", "X-Padding": "p" * 4000})
        for i in range(min(len(head), int(HOLD / step))):
            await conn.send(head[i:i + 1])
            await asyncio.sleep(step)

    return behave


def slow_body(step: float = 0.2, declared: int = 10_000) -> Behaviour:
    """Headers at once, then the body one byte every ``step`` seconds, never finishing within HOLD."""

    async def behave(conn: Conn) -> None:
        await conn.send(_head(200, {"Content-Type": "application/json", "Content-Length": str(declared)}))
        for _ in range(int(HOLD / step)):
            await conn.send(b" ")
            await asyncio.sleep(step)

    return behave


async def reset(conn: Conn) -> None:
    """A TCP reset as soon as the request is in (SO_LINGER 0, then close)."""
    sock = conn.writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.writer.transport.abort()


def cut(declared: int = 10_000, given: int = 1000) -> Behaviour:
    """Declares ``declared`` bytes, sends ``given`` of them, then closes."""

    async def behave(conn: Conn) -> None:
        await conn.send(_head(200, {"Content-Type": "application/json", "Content-Length": str(declared)}))
        await conn.send(b'{"padding": "' + b"x" * max(0, given - 13))

    return behave


def huge(size: int, declared: bool = True, chunk: int = 2**16) -> Behaviour:
    """A JSON list of zeros about ``size`` bytes long, sent as fast as the client reads it.

    ``declared``: with its Content-Length; else chunked, with no length to refuse it by.
    """
    count = max(0, (size - 3) // 2)  # "[" + "0," * count + "0]"

    async def behave(conn: Conn) -> None:
        headers = {"Content-Type": "application/json"}
        headers.update({"Content-Length": str(3 + 2 * count)} if declared else {"Transfer-Encoding": "chunked"})
        await conn.send(_head(200, headers))

        async def part(data: bytes) -> None:
            await conn.send(data if declared else b"%x\r\n%s\r\n" % (len(data), data))

        await part(b"[")
        piece = b"0," * (chunk // 2)
        for start in range(0, count, chunk // 2):
            await part(piece[: 2 * min(chunk // 2, count - start)])
        await part(b"0]")
        if not declared:
            await conn.send(b"0\r\n\r\n")

    return behave


def nested(depth: int = 20_000, status: int = 200, headers: dict[str, str] | None = None) -> Behaviour:
    """``[[[[...]]]]`` ``depth`` deep: tens of kilobytes, far deeper than Python's recursion limit."""
    return answer(b"[" * depth + b"]" * depth, status, headers=headers)


async def tls_garbage(conn: Conn) -> None:
    """Answers the TLS ClientHello with bytes that are not TLS (a plain server behind https://)."""
    await conn.send(b"\x15\x03\x01\x00\x02\xff\xff" + b"this is not TLS\r\n" * 8)


@dataclass
class HostileServer:
    """Serves ``routes`` (longest path prefix wins, else ``default``) on 127.0.0.1; see the module docstring."""

    default: Behaviour = field(default_factory=lambda: answer({"error": "no route"}, status=404))
    routes: dict[str, Behaviour] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None
    raw: Behaviour | None = None  # answers every connection before reading a request (tls_garbage)
    port: int = 0

    def __post_init__(self) -> None:
        self.sent = 0  # bytes written to clients
        self.requests: list[Request] = []
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._readers: dict[int, asyncio.StreamReader] = {}
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}"

    def route(self, prefix: str, behaviour: Behaviour) -> None:
        self.routes[prefix] = behaviour

    async def __aenter__(self) -> "HostileServer":
        self._server = await asyncio.start_server(self._connection, HOST, self.port, ssl=self.tls,
                                                  ssl_handshake_timeout=5.0 if self.tls else None)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        # Abort the connections rather than cancel their tasks: each behaviour then
        # ends on its next write or read (asyncio logs a cancelled stream callback).
        for writer in self._writers:
            writer.transport.abort()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5.0)
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            await self._server.wait_closed()

    async def reader_closed(self, conn: Conn) -> None:
        """Returns when the client closes its side."""
        reader = self._readers.get(id(conn.writer))
        if reader is not None:
            while await reader.read(4096):
                pass

    def _behaviour(self, path: str) -> Behaviour:
        matches = [prefix for prefix in self.routes if path.startswith(prefix)]
        return self.routes[max(matches, key=len)] if matches else self.default

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._readers[id(writer)] = reader
        self._writers.add(writer)
        try:
            if self.raw is not None:
                await self.raw(Conn(None, writer, self))
                return
            request = await asyncio.wait_for(_read_request(reader), HOLD)
            if request is None:
                return
            self.requests.append(request)
            await self._behaviour(request.path)(Conn(request, writer, self))
        except (ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the client went away or never spoke: what a hostile server shrugs at
        finally:
            self._readers.pop(id(writer), None)
            self._writers.discard(writer)
            self._tasks.discard(task)
            if not writer.is_closing():
                writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        return None
    if len(head) > MAX_HEAD:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    length = min(int(headers.get("content-length", "0") or 0), MAX_REQUEST_BODY)
    body = await reader.readexactly(length) if length else b""
    return Request(method, target.split("?", 1)[0], target, headers, body)


@dataclass(frozen=True)
class Certificates:
    """A CA and a certificate for 127.0.0.1 it signed, as PEM files."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def certificates(directory: Path, name: str = "lab") -> Certificates:
    """A fresh CA ``name`` and a server certificate for 127.0.0.1 signed by it (cryptography)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def build(subject: str, issuer: x509.Name | None, key: Any, signer: Any, ca: bool) -> x509.Certificate:
        name_ = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        builder = (x509.CertificateBuilder().subject_name(name_).issuer_name(issuer or name_)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = build(f"{name} test CA", None, ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build(HOST, ca.subject, key, ca_key, ca=False)
    directory.mkdir(parents=True, exist_ok=True)
    files = Certificates(directory / f"{name}-ca.pem", directory / f"{name}-cert.pem", directory / f"{name}-key.pem")
    files.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    return files
