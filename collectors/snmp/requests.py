"""SNMPv2c requests encoded once and re-sent with a fresh request-id.

A device is asked the same OIDs poll after poll, so the PDU is encoded once
and kept; each send patches only the four request-id bytes (see
collectors/snmp/ber.py for why four). The encoding is ber.encode_request,
checked byte for byte against pysnmp's protocol layer (:func:`pysnmp_encoded`),
which cost about 1 ms a request: 27 CPU-s to start 2,500 devices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from collectors.snmp import ber
from collectors.snmp.oids import Oid


@dataclass(frozen=True, slots=True)
class Request:
    """One pre-encoded request and what a reply to it must echo."""

    packet: bytes
    id_offset: int  # where the request-id's four content bytes start
    kind: int  # ber.GET_REQUEST or ber.GET_BULK_REQUEST
    oids: tuple[Oid, ...]
    names: tuple[bytes, ...]  # the OIDs' BER content bytes, as a reply carries them
    repetitions: int = 0

    def with_id(self, request_id: int) -> bytes:
        packet = bytearray(self.packet)
        ber.patch_request_id(packet, self.id_offset, request_id)
        return bytes(packet)


def _request_id_offset(packet: bytes) -> int:
    """Offset of the request-id content: message -> version -> community -> PDU -> first INTEGER."""
    _, start, end = ber._header(packet, 0, len(packet))
    _, _, at = ber._header(packet, start, end)  # version
    _, _, at = ber._header(packet, at, end)  # community
    _, at, pdu_end = ber._header(packet, at, end)  # PDU
    tag, content, stop = ber._header(packet, at, pdu_end)
    if tag != ber.INTEGER or stop - content != 4:
        raise AssertionError("the request-id was not encoded in four bytes")
    return content


# The BER bytes of each OID asked for, shared by every request that asks for it (see
# collectors/snmp/oids.py's _INSTANCES: the same few hundred cells across a fleet).
_NAMES: dict[Oid, bytes] = {}


def _name(oid: Oid) -> bytes:
    name = _NAMES[oid] = ber.oid_bytes(oid)
    return name


def build(community: bytes, kind: int, oids: Sequence[Oid], repetitions: int = 0) -> Request:
    """A GET (``kind`` ber.GET_REQUEST) or GETBULK (ber.GET_BULK_REQUEST, no non-repeaters) of ``oids``."""
    if kind not in (ber.GET_REQUEST, ber.GET_BULK_REQUEST):
        raise ValueError(f"not a request kind: 0x{kind:02x}")
    names = tuple(_NAMES.get(oid) or _name(oid) for oid in oids)
    packet = ber.encode_request(community, kind, names, ber.REQUEST_ID_MIN, repetitions)  # the shape of every id
    return Request(packet, _request_id_offset(packet), kind, tuple(oids), names, repetitions)


def pysnmp_encoded(community: bytes, kind: int, oids: Sequence[Oid], request_id: int, repetitions: int = 0) -> bytes:
    """The same request encoded by pysnmp's protocol layer: the reference :func:`build` is checked against."""
    from pyasn1.codec.ber import encoder  # the tests' reference only: the agent does not load it
    from pysnmp.proto import api

    v2c = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    if kind == ber.GET_REQUEST:
        pdu = v2c.GetRequestPDU()
        v2c.apiPDU.set_defaults(pdu)
    else:
        pdu = v2c.GetBulkRequestPDU()
        v2c.apiBulkPDU.set_defaults(pdu)
        v2c.apiBulkPDU.set_non_repeaters(pdu, 0)
        v2c.apiBulkPDU.set_max_repetitions(pdu, repetitions)
    v2c.apiPDU.set_request_id(pdu, request_id)
    v2c.apiPDU.set_varbinds(pdu, [(oid, v2c.Null("")) for oid in oids])
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, community)
    v2c.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))
