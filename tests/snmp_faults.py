"""Misbehaving SNMP peers on 127.0.0.1 for the fault tests: a scripted agent and a UDP proxy.

:class:`MibAgent` answers SNMPv2c GET and GETBULK from an in-memory table (or
from a function, for a table that never ends), and lets a test add, change or
replace the datagrams it sends back. :class:`UdpProxy` sits in front of a real
agent (net-snmp's snmpd) and drops, delays, duplicates, reorders or rewrites
what passes. Both run on the test's event loop.
"""

from __future__ import annotations

import asyncio
import bisect
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from pyasn1.codec.ber import encoder
from pysnmp.proto import api, rfc1902, rfc1905

from collectors.snmp import ber
from collectors.snmp.oids import Oid

V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
HOST = "127.0.0.1"
MAX_DATAGRAM = 65_000  # beyond this the scripted agent answers tooBig, as a real one would


def encode_message(community: bytes, request_id: int, varbinds: Sequence[tuple[Oid, Any]], *, status: int = 0,
                   index: int = 0, pdu: Any = None) -> bytes:
    """A BER-encoded SNMPv2c message (a Response unless ``pdu`` gives another PDU class)."""
    message_pdu = (pdu or V2C.ResponsePDU)()
    V2C.apiPDU.set_defaults(message_pdu)
    V2C.apiPDU.set_request_id(message_pdu, request_id)
    V2C.apiPDU.set_error_status(message_pdu, status)
    V2C.apiPDU.set_error_index(message_pdu, index)
    V2C.apiPDU.set_varbinds(message_pdu, list(varbinds))
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_community(message, community)
    V2C.apiMessage.set_pdu(message, message_pdu)
    return bytes(encoder.encode(message))


def typed(value: Any) -> Any:
    """A plain value as the pysnmp type an IF-MIB agent sends: str/bytes -> OctetString, int -> Integer32."""
    if isinstance(value, (str, bytes)):
        return rfc1902.OctetString(value)
    if isinstance(value, int):
        return rfc1902.Integer32(value)
    return value


class _Server(asyncio.DatagramProtocol):
    def __init__(self, handler: Callable[[bytes, tuple[str, int]], None]) -> None:
        self._handler = handler
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self._handler(data, addr)


async def _listen(handler: Callable[[bytes, tuple[str, int]], None]) -> tuple[Any, int]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _Server(handler), local_addr=(HOST, 0))
    return transport, transport.get_extra_info("sockname")[1]


@dataclass
class MibAgent:
    """A scripted SNMPv2c agent: answers from ``mib`` (or ``walk_rows`` for GETBULK).

    ``tamper(request, reply) -> datagrams`` may replace the genuine reply with
    any datagrams (forgeries first, the genuine one last, or none at all).
    """

    community: bytes
    mib: dict[Oid, Any] = field(default_factory=dict)
    walk_rows: Callable[[Oid, int], list[tuple[Oid, Any]]] | None = None
    tamper: Callable[[ber.Message, bytes], Iterable[bytes]] | None = None
    requests: int = 0
    bulk_requests: int = 0
    port: int = 0
    _transport: Any = None
    _keys: list[Oid] | None = None

    async def start(self) -> "MibAgent":
        self._transport, self.port = await _listen(self._on_request)
        return self

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        self._transport.sendto(data, addr)

    def _next(self, oid: Oid, count: int) -> list[tuple[Oid, Any]]:
        if self.walk_rows is not None:
            return self.walk_rows(oid, count)
        if self._keys is None or len(self._keys) != len(self.mib):
            self._keys = sorted(self.mib)
        keys = self._keys
        at = bisect.bisect_right(keys, oid)
        rows = [(k, self.mib[k]) for k in keys[at : at + count]]
        while len(rows) < count:
            rows.append((rows[-1][0] if rows else oid, rfc1905.endOfMibView))
        return rows

    def answer(self, request: ber.Message) -> bytes:
        """The genuine reply to ``request``."""
        asked = [ber.decode_oid(name) for name, _ in request.varbinds]
        if request.pdu_type == ber.GET_BULK_REQUEST:
            self.bulk_requests += 1
            columns = [self._next(oid, request.error_index) for oid in asked]  # error-index is max-repetitions
            varbinds = [columns[c][r] for r in range(request.error_index) for c in range(len(asked))]
        else:
            varbinds = [(oid, self.mib.get(oid, rfc1905.noSuchInstance)) for oid in asked]
        reply = encode_message(request.community, request.request_id, varbinds)
        if len(reply) > MAX_DATAGRAM:
            return encode_message(request.community, request.request_id, [], status=1)  # tooBig
        return reply

    def _on_request(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            request = ber.decode_message(data)
        except ber.BerError:
            return
        if request.community != self.community:
            return  # as real agents do: no answer to a wrong community
        self.requests += 1
        reply = self.answer(request)
        for datagram in self.tamper(request, reply) if self.tamper else (reply,):
            self._transport.sendto(datagram, addr)


class UdpProxy:
    """Forwards each client's datagrams to ``upstream`` and back, through ``on_reply``.

    ``on_reply(data) -> [(delay_seconds, datagram), ...]`` decides what the
    client gets for each upstream reply; ``drop_request(data) -> bool`` whether
    a request is passed on at all.
    """

    def __init__(self, upstream: tuple[str, int],
                 on_reply: Callable[[bytes], Sequence[tuple[float, bytes]]] | None = None,
                 drop_request: Callable[[bytes], bool] | None = None) -> None:
        self.upstream = upstream
        self.on_reply = on_reply or (lambda data: [(0.0, data)])
        self.drop_request = drop_request or (lambda data: False)
        self.port = 0
        self._front: Any = None
        self._backs: dict[tuple[str, int], Any] = {}
        self.forwarded = 0

    async def start(self) -> "UdpProxy":
        self._front, self.port = await _listen(self._from_client)
        return self

    def close(self) -> None:
        for back in self._backs.values():
            if back.done() and not back.exception():
                back.result().close()
        if self._front is not None:
            self._front.close()

    def _from_client(self, data: bytes, client: tuple[str, int]) -> None:
        if self.drop_request(data):
            return
        self.forwarded += 1
        back = self._backs.get(client)
        if back is None:
            # One upstream socket per client, so that replies find their way back.
            back = self._backs[client] = asyncio.ensure_future(self._open_back(client))
        back.add_done_callback(lambda done: done.result().sendto(data, self.upstream))

    async def _open_back(self, client: tuple[str, int]) -> Any:
        loop = asyncio.get_running_loop()

        def relay(reply: bytes, _: tuple[str, int]) -> None:
            for delay, datagram in self.on_reply(reply):
                if delay > 0:
                    loop.call_later(delay, self._front.sendto, datagram, client)
                else:
                    self._front.sendto(datagram, client)

        transport, _ = await loop.create_datagram_endpoint(lambda: _Server(relay), local_addr=(HOST, 0))
        return transport
