"""One device's SNMPv2c socket: sends its requests and accepts only its own replies.

Every device has a UDP socket of its own. A datagram is taken as the reply to
a request only if it comes from the address polled, is a well-formed
Response-PDU with the device's community, carries the request-id of a request
still waiting, and echoes the OIDs asked for (the caller's check). Anything
else is discarded and counted by reason (``sla_snmp_rejected_responses_total``),
and the request keeps waiting for its real reply: a device, or anyone else on
the network, cannot answer for another device, nor make its poll fail early.

Why a socket per device: the kernel delivers each device's replies to its own
socket, with a receive buffer of its own, so a burst from 2,500 devices never
overflows one shared buffer; and a reply's socket already says whose it is.
"""

from __future__ import annotations

import asyncio
import random
import socket
from dataclasses import dataclass
from typing import Callable, Sequence

from collectors.snmp import ber, replies
from collectors.snmp.requests import Request

WRONG_ADDRESS, MALFORMED, WRONG_COMMUNITY = "wrong_address", "malformed", "wrong_community"
NOT_A_RESPONSE, UNKNOWN_REQUEST_ID, UNEXPECTED_OIDS = "not_a_response", "unknown_request_id", "unexpected_oids"
REJECT_REASONS = (WRONG_ADDRESS, MALFORMED, WRONG_COMMUNITY, NOT_A_RESPONSE, UNKNOWN_REQUEST_ID, UNEXPECTED_OIDS)
RECEIVE_BUFFER = 256 * 1024  # bytes; a device has a few requests in flight at most
_IDS = random.SystemRandom()  # one for every device (each instance carries 2.5 KB of unused state)


class Rejections:
    """Replies discarded, by reason; shared by every device of a collector."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = dict.fromkeys(REJECT_REASONS, 0)

    def add(self, reason: str) -> None:
        self.counts[reason] += 1


class NoResponse(Exception):
    """No acceptable reply within timeout x (retries + 1)."""


Check = Callable[[ber.Message], bool]


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future[ber.Message]
    check: Check


class V2cEndpoint(asyncio.DatagramProtocol):
    """The asyncio protocol of one device's socket (see the module docstring)."""

    def __init__(self, peer: tuple[str, int], community: bytes, rejections: Rejections,
                 rng: random.Random | None = None) -> None:
        self._peer = peer
        self._community = community
        self._rejections = rejections
        self._rng = rng or _IDS  # unguessable request-ids: a spoofer must also guess these
        self._pending: dict[int, _Pending] = {}
        self._transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(cls, peer: tuple[str, int], family: int, community: bytes,
                   rejections: Rejections) -> "V2cEndpoint":
        loop = asyncio.get_running_loop()
        _, endpoint = await loop.create_datagram_endpoint(
            lambda: cls(peer, community, rejections), family=family, proto=socket.IPPROTO_UDP
        )
        return endpoint

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment] # selector transports do not subclass DatagramTransport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if addr[0] != self._peer[0] or addr[1] != self._peer[1]:
            self._rejections.add(WRONG_ADDRESS)
            return
        try:
            message = ber.decode_message(data)
        except ber.BerError:
            self._rejections.add(MALFORMED)
            return
        if message.version != 1 or message.community != self._community:
            self._rejections.add(WRONG_COMMUNITY)
            return
        if message.pdu_type != ber.RESPONSE:
            self._rejections.add(NOT_A_RESPONSE)
            return
        pending = self._pending.get(message.request_id)
        if pending is None or pending.future.done():  # unsolicited, late, or a duplicate
            self._rejections.add(UNKNOWN_REQUEST_ID)
            return
        if not pending.check(message):
            self._rejections.add(UNEXPECTED_OIDS)
            return
        pending.future.set_result(message)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and the like: the request then times out as if
        # unanswered, which is what a dead agent looks like anyway.
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(NoResponse("socket closed"))
        self._transport = None

    def _new_id(self) -> int:
        while True:
            request_id = self._rng.randint(ber.REQUEST_ID_MIN, ber.REQUEST_ID_MAX)
            if request_id not in self._pending:
                return request_id

    async def request(self, request: Request, check: Check, timeout: float, retries: int) -> ber.Message:
        """Send ``request`` (re-sent every ``timeout`` s, ``retries`` times) and return the accepted reply."""
        return (await self.request_all(((request, check),), timeout, retries))[0]

    async def request_all(
        self, items: Sequence[tuple[Request, Check]], timeout: float, retries: int
    ) -> list[ber.Message]:
        """Send every request at once and return their accepted replies, in order.

        One deadline and one resend timer for all of them, not a task and timers
        per request: a device poll is several GET PDUs, and at 2,500 devices the
        per-request tasks were a large part of the event loop's work. A resend
        re-sends only the requests still unanswered, with the same request-ids,
        so a reply to any attempt is accepted.
        """
        transport = self._transport
        if transport is None:
            raise NoResponse("socket closed")
        loop = asyncio.get_running_loop()
        peer = self._peer
        sent: list[tuple[int, bytes, asyncio.Future[ber.Message]]] = []
        for request, check in items:
            request_id = self._new_id()
            future: asyncio.Future[ber.Message] = loop.create_future()
            self._pending[request_id] = _Pending(future, check)
            sent.append((request_id, request.with_id(request_id), future))

        def resend() -> None:
            for _, packet, waiting in sent:
                if not waiting.done():
                    transport.sendto(packet, peer)

        resends = [loop.call_later(timeout * attempt, resend) for attempt in range(1, retries + 1)]
        try:
            for _, packet, _ in sent:
                transport.sendto(packet, peer)
            async with asyncio.timeout(timeout * (retries + 1)):
                return [await waiting for _, _, waiting in sent]
        except TimeoutError:
            raise NoResponse(f"no response within {timeout:g}s x {retries + 1}") from None
        finally:
            for handle in resends:
                handle.cancel()
            for request_id, _, _ in sent:
                del self._pending[request_id]

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def get_check(request: Request) -> Check:
    """Accepts a GET reply that echoes the OIDs asked (see collectors/snmp/replies.py)."""

    def check(message: ber.Message) -> bool:
        return replies.echoes(request.names, [name for name, _ in message.varbinds], message.error_status)

    return check


def bulk_check(request: Request) -> Check:
    """Accepts a GETBULK reply whose rows follow the OIDs asked (see collectors/snmp/replies.py)."""

    def check(message: ber.Message) -> bool:
        if message.error_status != 0:
            return replies.echoes(request.names, [name for name, _ in message.varbinds], message.error_status)
        try:
            rows = [(ber.decode_oid(name), value) for name, value in message.varbinds]
        except ber.BerError:
            return False
        return replies.follows(request.oids, request.repetitions, rows)

    return check
