"""Per-device SNMP sessions: chunked GET and a column walker over a v2c or v3 transport.

Callers get plain Python values (int, bytes, or a :class:`Missing` marker)
and see exactly one error type, :class:`~collectors.base.CollectorError`,
whose one-line message never contains a community or key.

SNMPv2c goes through the agent's own socket per device (collectors/snmp/v2c.py:
requests pre-encoded by pysnmp, replies read by the lean decoder of
collectors/snmp/ber.py); SNMPv3 through pysnmp's engine (collectors/snmp/v3.py).
Either way a reply is accepted only from the address polled and only if it
echoes, or follows, the OIDs asked; anything else is discarded and counted.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import logging
import math
import socket
import threading
from typing import TYPE_CHECKING, Any, Sequence

from pydantic import SecretStr

from collectors.snmp.config import SnmpDevice
from collectors.base import CollectorError
from collectors.snmp import ber, requests
from collectors.snmp.ber import Missing, Value
from collectors.snmp.oids import Oid, dotted
from collectors.snmp.v2c import NoResponse, Rejections, V2cEndpoint, bulk_check, get_check

if TYPE_CHECKING:
    from collectors.snmp.v3 import V3Engines

log = logging.getLogger("collectors.snmp")

__all__ = ["DeviceSession", "Engines", "Missing", "Sessions", "Value"]

GET_CHUNK = 40  # varbinds per GET PDU: well under a 1,500-byte MTU for counters
BULK_REPETITIONS = 25  # rows per GETBULK response (x columns varbinds)
MIN_WALK_REQUESTS = 64  # requests a walk may take at least: 1,600 rows at 25 per response
WALK_SLACK_ROWS = 16  # rows beyond ifNumber a walk tolerates (ifNumber may lag a row being added)
Raw = tuple[str, int, Sequence[tuple[Oid, Value]]]  # error status name, error index, varbinds


def walk_request_limit(rows_expected: int | None, repetitions: int = BULK_REPETITIONS) -> int:
    """How many GETBULK requests a walk of tables with ``rows_expected`` rows may take.

    Sized from ifNumber when the device told it: a table of 5,000 interfaces
    needs 200 requests at 25 rows each, and an agent that never ends a column
    is still stopped, a little after the rows it said it had.
    """
    if rows_expected is None or rows_expected < 0:
        return MIN_WALK_REQUESTS
    return max(MIN_WALK_REQUESTS, math.ceil((rows_expected + WALK_SLACK_ROWS) / max(1, repetitions)) + 2)


def secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


_V3_MODULE = "collectors.snmp.v3"
_v3_import: concurrent.futures.Future[Any] | None = None
_v3_import_lock = threading.Lock()


def import_v3() -> concurrent.futures.Future[Any]:
    """collectors/snmp/v3.py, imported on a thread of its own (once; later calls share it).

    Importing pysnmp's engine stack is 0.6 s of CPU. On the event loop it would hold
    up every poll in flight when the first v3 device is opened; the collector starts
    it when it is made, so that by the first v3 poll it is usually done.
    """
    global _v3_import
    with _v3_import_lock:
        if _v3_import is None:
            pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="import-pysnmp")
            _v3_import = pool.submit(importlib.import_module, _V3_MODULE)
            pool.shutdown(wait=False)  # the thread ends with the import
        return _v3_import


class Engines:
    """What every device polled on one event loop shares.

    The rejected-reply counters; the v2c sockets (one per device, closed
    together); and, once a v3 device is opened, pysnmp's engines for SNMPv3
    (collectors/snmp/v3.py). pysnmp's engine stack is imported only then: a
    v2c fleet never loads it (about 21 MB of RSS and 0.2 s of start-up).
    """

    def __init__(self, rejections: Rejections | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.rejections = rejections or Rejections()
        self._endpoints: list[V2cEndpoint] = []
        self._v3: V3Engines | None = None

    @property
    def v3(self) -> "V3Engines":
        if self._v3 is None:
            from collectors.snmp.v3 import V3Engines

            self._v3 = V3Engines()
        return self._v3

    def __len__(self) -> int:
        """How many pysnmp engines are open."""
        return 0 if self._v3 is None else len(self._v3)

    async def endpoint(self, peer: tuple[str, int], family: int, community: bytes) -> V2cEndpoint:
        endpoint = await V2cEndpoint.open(peer, family, community, self.rejections)
        self._endpoints.append(endpoint)
        return endpoint

    def close(self) -> None:
        """Close every socket and engine."""
        for endpoint in self._endpoints:
            endpoint.close()
        self._endpoints.clear()
        if self._v3 is not None:
            self._v3.close()


class Sessions:
    """One session per device over Engines bound to the running loop, made again when the loop changes.

    pysnmp engines and the v2c sockets are bound to the loop they were first used on; a collector polled
    on another loop (a test, a restart of the scheduler) gets new ones and new sessions.
    """

    def __init__(self, rejections: Rejections | None = None) -> None:
        self._rejections = rejections  # outlives the engines, so its counters only grow
        self.engines: Engines | None = None
        self._sessions: dict[str, DeviceSession] = {}

    async def of(self, name: str, device: SnmpDevice) -> "DeviceSession":
        loop = asyncio.get_running_loop()
        if self.engines is None or self.engines.loop is not loop:
            self.close()
            self.engines = Engines(self._rejections)
        session = self._sessions.get(name)
        if session is None:
            session = self._sessions[name] = await DeviceSession.create(self.engines, device)
        return session

    def __getitem__(self, name: str) -> "DeviceSession":
        """The session of device ``name`` made on this loop (KeyError if not polled yet)."""
        return self._sessions[name]

    def close(self) -> None:
        """Close the engines (their sockets); sessions are made again on the next poll."""
        if self.engines is not None:
            self.engines.close()
        self.engines = None
        self._sessions.clear()


class DeviceSession:
    """One device's transport and credentials, created once and reused; v2c or v3 below."""

    def __init__(self, engines: Engines, device: SnmpDevice, where: str) -> None:
        self._engines = engines
        self.where = where
        self._timeout = float(device.timeout or 0)
        self._retries = int(device.retries or 0)

    @classmethod
    async def create(cls, engines: Engines, device: SnmpDevice) -> "DeviceSession":
        """Resolve the address (once) and open the session; CollectorError if it cannot."""
        if device.version == "v3":
            v3 = await asyncio.wrap_future(import_v3())
            return await v3.V3Session.open(engines, device)
        return await V2cSession.open(engines, device)

    async def get(self, oids: Sequence[Oid]) -> dict[Oid, Value]:
        """GET ``oids``: ``{oid: value}``."""
        return dict(zip(oids, await self.get_values(oids)))

    async def get_values(self, oids: Sequence[Oid]) -> list[Value]:
        """GET ``oids``, in PDUs of at most GET_CHUNK varbinds sent concurrently; values in ``oids`` order."""
        if len(oids) <= GET_CHUNK:
            return await self._get_pdu(oids)
        chunks = [oids[i : i + GET_CHUNK] for i in range(0, len(oids), GET_CHUNK)]
        values: list[Value] = []
        for chunk, raw in zip(chunks, await self._get_many(chunks)):
            values += await self._values(chunk, raw)
        return values

    async def _get_pdu(self, oids: Sequence[Oid]) -> list[Value]:
        return await self._values(oids, await self._get(oids))

    async def _values(self, oids: Sequence[Oid], raw: tuple[str, int, list[Value]]) -> list[Value]:
        """The values of one GET's reply ``raw``; a tooBig reply is asked again in halves."""
        status, index, values = raw
        if status == "tooBig" and len(oids) > 1:
            # The agent's message size is smaller than we assumed: split.
            half = len(oids) // 2
            first, second = await asyncio.gather(self._get_pdu(oids[:half]), self._get_pdu(oids[half:]))
            return first + second
        self._check_status(status, index, oids)
        return values

    async def _get_many(self, chunks: Sequence[Sequence[Oid]]) -> list[tuple[str, int, list[Value]]]:
        """One GET per chunk, all in flight at once (a transport may send them as one batch)."""
        return list(await asyncio.gather(*(self._get(chunk) for chunk in chunks)))

    async def walk_columns(self, columns: Sequence[Oid], rows_expected: int | None = None) -> dict[Oid, dict[Oid, Value]]:
        """Walk several table columns at once with GETBULK: ``{column: {index suffix: value}}``.

        Each request carries the columns that have not ended, each from its
        last OID; a column ends at the first OID outside it or endOfMibView.
        ``rows_expected`` (ifNumber) sizes how many requests the walk may take.
        """
        result: dict[Oid, dict[Oid, Value]] = {column: {} for column in columns}
        cursor: dict[Oid, Oid] = {column: column for column in columns}
        active = list(columns)
        repetitions = BULK_REPETITIONS
        limit = walk_request_limit(rows_expected)
        for _ in range(limit):
            if not active:
                return result
            status, index, response = await self._bulk([cursor[c] for c in active], repetitions)
            if status == "tooBig" and repetitions > 1:
                repetitions = max(1, repetitions // 2)
                continue
            self._check_status(status, index, [cursor[c] for c in active])
            if not response:
                raise CollectorError(f"{self.where}: empty GETBULK response")
            ended: set[Oid] = set()
            # The response is rows of len(active) varbinds, in request order.
            for position, (oid, value) in enumerate(response):
                column = active[position % len(active)]
                if column in ended:
                    continue
                if value is Missing.END_OF_MIB_VIEW or oid[: len(column)] != column or len(oid) == len(column):
                    ended.add(column)
                    continue
                result[column][oid[len(column) :]] = value
                cursor[column] = oid
            active = [column for column in active if column not in ended]
        if not active:
            return result
        raise CollectorError(f"{self.where}: table walk did not end after {limit} requests "
                             f"(ifNumber {rows_expected if rows_expected is not None else 'unknown'})")

    def _check_status(self, status: str, index: int, oids: Sequence[Oid]) -> None:
        if status == "noError":
            return
        at = f" at {dotted(oids[index - 1])}" if 0 < index <= len(oids) else ""
        raise CollectorError(f"{self.where}: agent returned error-status {status}{at}")

    def _no_response(self) -> str:
        tries = self._retries + 1
        return (
            f"{self.where}: no response within {self._timeout:g}s x {tries} "
            f"{'try' if tries == 1 else 'tries'} (agent down, unreachable, or wrong community/v3 keys)"
        )

    async def _get(self, oids: Sequence[Oid]) -> tuple[str, int, list[Value]]:
        raise NotImplementedError

    async def _bulk(self, cursors: Sequence[Oid], repetitions: int) -> Raw:
        raise NotImplementedError


async def _resolve(device: SnmpDevice) -> tuple[int, tuple[str, int]]:
    """(address family, socket address) of the device; CollectorError if it does not resolve."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(device.address, device.port, type=socket.SOCK_DGRAM, proto=socket.IPPROTO_UDP)
    except (socket.gaierror, OSError, UnicodeError) as exc:
        raise CollectorError(f"{device.address}:{device.port}: cannot resolve address: {one_line(exc)}") from None
    family, _, _, _, sockaddr = infos[0]
    return family, (str(sockaddr[0]), int(sockaddr[1]))


class V2cSession(DeviceSession):
    """SNMPv2c over the device's own socket, with GETs encoded once per OID set."""

    def __init__(self, engines: Engines, device: SnmpDevice, endpoint: V2cEndpoint, community: bytes) -> None:
        super().__init__(engines, device, f"{device.address}:{device.port}")
        self._endpoint = endpoint
        self._community = community
        self._gets: dict[tuple[Oid, ...], tuple[requests.Request, Any]] = {}

    @classmethod
    async def open(cls, engines: Engines, device: SnmpDevice) -> "V2cSession":
        community = secret(device.community)
        if community is None:
            raise CollectorError("SNMPv2c device has no community configured")
        family, peer = await _resolve(device)
        endpoint = await engines.endpoint(peer, family, community.encode())
        return cls(engines, device, endpoint, community.encode())

    async def _send(self, request: requests.Request, check: Any) -> ber.Message:
        return (await self._send_all([(request, check)]))[0]

    async def _send_all(self, items: Sequence[tuple[requests.Request, Any]]) -> list[ber.Message]:
        try:
            return await self._endpoint.request_all(items, self._timeout, self._retries)
        except NoResponse:
            raise CollectorError(self._no_response()) from None
        except OSError as exc:
            raise CollectorError(f"{self.where}: SNMP request failed: {one_line(exc)}") from None

    def _prepared(self, oids: Sequence[Oid]) -> tuple[requests.Request, Any]:
        key = tuple(oids)
        prepared = self._gets.get(key)
        if prepared is None:
            request = requests.build(self._community, ber.GET_REQUEST, key)
            prepared = self._gets[key] = (request, get_check(request))
        return prepared

    async def _get(self, oids: Sequence[Oid]) -> tuple[str, int, list[Value]]:
        return _raw_values(await self._send(*self._prepared(oids)))

    async def _get_many(self, chunks: Sequence[Sequence[Oid]]) -> list[tuple[str, int, list[Value]]]:
        return [_raw_values(message) for message in await self._send_all([self._prepared(c) for c in chunks])]

    async def _bulk(self, cursors: Sequence[Oid], repetitions: int) -> Raw:
        request = requests.build(self._community, ber.GET_BULK_REQUEST, cursors, repetitions)
        message = await self._send(request, bulk_check(request))
        rows = [(ber.decode_oid(name), value) for name, value in message.varbinds]
        return ber.error_status_name(message.error_status), message.error_index, rows


def _raw_values(message: ber.Message) -> tuple[str, int, list[Value]]:
    return ber.error_status_name(message.error_status), message.error_index, [v for _, v in message.varbinds]


def one_line(exc: object) -> str:
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__
