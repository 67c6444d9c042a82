"""A simulated back end of the 深i您 app on 127.0.0.1 (aiohttp), for the HTTP probes.

Endpoints:

- ``GET /code/display``: the health-code display, ``{"code": 0, "data": {"status": "green", "qr": ...}}``;
- ``GET /epidemic/{system}/health`` for each of :data:`SYSTEMS`: ``{"status": "UP"}``; another system is 404.

Faults, per endpoint key (``code`` or a system name, :data:`KEYS`), until
changed: ``status`` answers 503, ``body`` answers 200 with the wrong content
(status ``red`` / ``DOWN``), ``slow`` waits ``delay`` seconds before
answering, ``down`` closes the connection without an answer, ``none`` is
healthy. Set them with :meth:`AppLab.set_fault` or, from a script, with
``POST /_lab/faults`` ``{"key": ..., "fault": ..., "delay": ...}`` on the same
server (``GET /_lab/faults`` lists them); :meth:`AppLab.start_flap` makes one
endpoint fail for a while at a fixed period, as the demo's link flaps do.

``GET /_lab/blob?bytes=N[&chunked=1]`` serves N bytes (with or without a
Content-Length), for body-size limits. ``requests`` records every request
and ``last_headers`` the headers of the last one outside ``/_lab``.

TLS (``tls=``): ``valid`` (a lab CA signs a certificate for 127.0.0.1 with
``days_left`` days to go; the CA is ``ca_file``), ``expired`` or
``self-signed``, for ``cert_names``; generated at each start into a temporary
directory that stop removes.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import ssl
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from aiohttp import web

from .certs import CERTIFICATE_KINDS, CertificateKind, LabCertificates, lab_certificates

HOST = "127.0.0.1"
CODE = "code"
SYSTEMS = ("nucleic-acid", "vaccination", "venue-code", "travel-record")
KEYS = (CODE, *SYSTEMS)
FAULTS = ("none", "status", "body", "slow", "down")
SLOW_DELAY = 5.0  # a slow fault's wait when none is given: beyond a typical probe timeout
MAX_BLOB = 64 * 2**20
BLOB_CHUNK = 2**16

Answer = Callable[[bool], web.Response]  # healthy? -> the endpoint's answer


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str = "none"  # one of FAULTS
    delay: float = 0.0  # seconds, for "slow"


def _fault(key: object, kind: object, delay: object) -> tuple[str, Fault]:
    """A validated (key, Fault); ValueError with a one-line reason (also the control endpoint's 400)."""
    if key not in KEYS:
        raise ValueError(f"unknown key {key!r} (one of {', '.join(KEYS)})")
    if kind not in FAULTS:
        raise ValueError(f"unknown fault {kind!r} (one of {', '.join(FAULTS)})")
    if delay is None:
        delay = SLOW_DELAY if kind == "slow" else 0.0
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not math.isfinite(delay) or delay < 0:
        raise ValueError("delay is a number of seconds >= 0")
    return str(key), Fault(str(kind), float(delay))


@dataclass
class AppLab:
    """The simulated app back end; ``async with AppLab() as lab`` or ``await lab.start()`` / ``stop()``."""

    tls: CertificateKind | None = None  # None: plain http
    days_left: float = 90.0  # the server certificate's remaining validity (tls="valid" / "self-signed")
    host: str = HOST
    port: int = 0  # 0: a free port, kept across stop() / start()
    cert_names: tuple[str, ...] = (HOST, "localhost")  # what the server certificate is for (SANs)
    # Where the certificates are written (kept after stop); None: a temporary directory removed on stop.
    # ``python -m agent.lab`` uses a fixed one, so examples/demo.yaml can name the lab CA.
    cert_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.tls is not None and self.tls not in CERTIFICATE_KINDS:
            raise ValueError(f"unknown tls {self.tls!r} (one of {', '.join(CERTIFICATE_KINDS)}, or None)")
        self._faults: dict[str, Fault] = {key: Fault() for key in KEYS}
        self.requests: deque[tuple[str, str, int | None]] = deque(maxlen=10_000)  # method, path, status (None: dropped)
        self.last_headers: dict[str, str] = {}
        self.certificates: LabCertificates | None = None
        self._runner: web.AppRunner | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._flaps: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------

    async def __aenter__(self) -> "AppLab":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._runner is not None:
            return
        context = self._server_tls() if self.tls is not None else None
        app = web.Application()
        app.router.add_get("/code/display", self._code)
        app.router.add_get("/epidemic/{system}/health", self._health)
        app.router.add_get("/_lab/faults", self._list_faults)
        app.router.add_post("/_lab/faults", self._post_fault)
        app.router.add_get("/_lab/blob", self._blob)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port, ssl_context=context).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop flaps and listening, and remove the generated certificates."""
        flaps, self._flaps = self._flaps, set()
        for task in flaps:
            task.cancel()
        await asyncio.gather(*flaps, return_exceptions=True)
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            tmp.cleanup()
            self.certificates = None

    def _server_tls(self) -> ssl.SSLContext:
        # New certificates each start (stop removes them), dated from that start.
        assert self.tls is not None
        if self.cert_dir is not None:
            self.cert_dir.mkdir(parents=True, exist_ok=True)
            directory = self.cert_dir
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="sla-app-lab-")
            directory = Path(self._tmp.name)
        self.certificates = lab_certificates(directory, self.tls, days_left=self.days_left, hosts=self.cert_names)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certificates.cert_file, self.certificates.key_file)
        return context

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def ca_file(self) -> Path | None:
        """The lab CA to verify the server with (tls="valid" / "expired"); None otherwise."""
        return self.certificates.ca_file if self.certificates else None

    def endpoint(self, key: str) -> str:
        """The URL of ``code`` or a system's health endpoint."""
        if key == CODE:
            return f"{self.url}/code/display"
        if key not in SYSTEMS:
            raise ValueError(f"unknown key {key!r} (one of {', '.join(KEYS)})")
        return f"{self.url}/epidemic/{key}/health"

    def probe_configs(self, interval: str = "15s", timeout: str = "3s") -> list[dict[str, Any]]:
        """``probes:`` entries for every endpoint of this lab (the demo's), TLS settings included."""
        common: dict[str, Any] = {"interval": interval, "timeout": timeout}
        if self.tls == "self-signed":
            common["verify_tls"] = False
        elif self.ca_file is not None:
            common["ca_file"] = str(self.ca_file)
        probes = [{"name": "health-code", "url": self.endpoint(CODE), "system": "health-code",
                   "json_field": {"path": "data.status", "equals": "green"}, **common}]
        probes += [{"name": system, "url": self.endpoint(system), "system": system,
                    "json_field": {"path": "status", "equals": "UP"}, **common} for system in SYSTEMS]
        return probes

    # -- faults ------------------------------------------------------------

    async def set_fault(self, key: str, fault: str, delay: float | None = None) -> None:
        """Give ``key`` (``code`` or a system) ``fault`` from its next request on; ValueError if unknown."""
        name, value = _fault(key, fault, delay)
        self._faults[name] = value

    async def clear_faults(self) -> None:
        self._faults = {key: Fault() for key in KEYS}

    def faults(self) -> dict[str, Fault]:
        return dict(self._faults)

    async def flap(self, key: str, *, down: float, every: float, fault: str = "status",
                   delay: float | None = None) -> None:
        """Forever: healthy for ``every`` seconds, then ``fault`` for ``down`` seconds."""
        _fault(key, fault, delay)  # refuse a bad flap before it starts
        if down <= 0 or every <= 0:
            raise ValueError("a flap's down and every are seconds > 0")
        try:
            while True:
                await asyncio.sleep(every)
                await self.set_fault(key, fault, delay)
                await asyncio.sleep(down)
                await self.set_fault(key, "none")
        finally:
            self._faults[key] = Fault()  # a cancelled flap leaves the endpoint healthy

    def start_flap(self, key: str = "venue-code", *, down: float = 20.0, every: float = 120.0,
                   fault: str = "status", delay: float | None = None) -> asyncio.Task[None]:
        """:meth:`flap` as a task, cancelled at :meth:`stop` (or by cancelling the task returned)."""
        _fault(key, fault, delay)
        task = asyncio.create_task(self.flap(key, down=down, every=every, fault=fault, delay=delay),
                                   name=f"app-lab-flap-{key}")
        self._flaps.add(task)
        task.add_done_callback(self._flaps.discard)
        return task

    # -- endpoints ---------------------------------------------------------

    async def _code(self, request: web.Request) -> web.StreamResponse:
        def answer(healthy: bool) -> web.Response:
            data = {"status": "green" if healthy else "red", "qr": f"SZ-HC:{secrets.token_urlsafe(24)}",
                    "updated": int(time.time())}
            return web.json_response({"code": 0, "message": "success", "data": data})

        return await self._answer(CODE, request, answer)

    async def _health(self, request: web.Request) -> web.StreamResponse:
        system = request.match_info["system"]
        if system not in SYSTEMS:
            self._record(request, 404)
            return web.json_response({"code": 404, "message": "unknown system"}, status=404)
        return await self._answer(system, request, lambda healthy: web.json_response(
            {"status": "UP" if healthy else "DOWN"}))

    async def _answer(self, key: str, request: web.Request, answer: Answer) -> web.StreamResponse:
        self.last_headers = dict(request.headers)
        fault = self._faults[key]
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
        if fault.kind == "down":
            # Closed before a byte of answer: the client sees the server disconnect.
            if request.transport is not None:
                request.transport.close()
            self._record(request, None)
            return web.Response(status=503)
        if fault.kind == "status":
            response = web.json_response({"code": 503, "message": "service unavailable"}, status=503)
        else:
            response = answer(fault.kind != "body")
        self._record(request, response.status)
        return response

    def _record(self, request: web.Request, status: int | None) -> None:
        self.requests.append((request.method, request.path, status))

    async def _list_faults(self, request: web.Request) -> web.Response:
        return web.json_response({key: {"fault": f.kind, "delay": f.delay} for key, f in self._faults.items()})

    async def _post_fault(self, request: web.Request) -> web.Response:
        try:
            document = json.loads(await request.read())
        except ValueError:
            return web.json_response({"error": "the body is not JSON"}, status=400)
        if not isinstance(document, dict) or not {"key", "fault"} <= document.keys():
            return web.json_response({"error": 'expected {"key": ..., "fault": ..., "delay": ...}'}, status=400)
        try:
            key, fault = _fault(document["key"], document["fault"], document.get("delay"))
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        self._faults[key] = fault
        return web.json_response({"key": key, "fault": fault.kind, "delay": fault.delay})

    async def _blob(self, request: web.Request) -> web.StreamResponse:
        try:
            size = int(request.query.get("bytes", "0"))
        except ValueError:
            size = -1
        if not 0 <= size <= MAX_BLOB:
            return web.json_response({"error": f"bytes is a whole number from 0 to {MAX_BLOB}"}, status=400)
        self._record(request, 200)
        if request.query.get("chunked") not in ("1", "true"):
            return web.Response(body=b"x" * size, content_type="application/octet-stream")
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for start in range(0, size, BLOB_CHUNK):
                await response.write(b"x" * min(BLOB_CHUNK, size - start))
            await response.write_eof()
        except ConnectionError:
            pass  # the client stopped reading (a body limit): nothing more to send
        return response

__all__ = ["AppLab", "CODE", "FAULTS", "Fault", "KEYS", "SYSTEMS"]
