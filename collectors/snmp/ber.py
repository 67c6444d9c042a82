"""A lean BER decoder for the SNMPv2c messages the collector receives.

Why not pyasn1: it builds a tree of schema objects per message, which costs
about half of the agent's CPU per poll; the collector reads one fixed shape
(a Response-PDU of varbinds) and only needs plain ints and bytes. This module
decodes exactly that shape with straight-line code and refuses anything else
with :class:`BerError`. It is kept exact by a differential test against
pysnmp's own decoder (tests/unit/test_snmp_ber.py), malformed input included.

It reads what pysnmp reads, with three exceptions, all encodings no working
agent sends: lengths must be definite, as RFC 3417 (section 8) requires of
SNMP; an INTEGER must have content (X.690 8.3.1); and a tag must be one
octet, as every SNMP tag is (below 31, X.690 8.1.2.2). pyasn1 takes indefinite
lengths, an empty INTEGER as 0 (which would turn a broken reply into a counter
reset), and ``9f 01`` as ``81``. A value of an SNMP application type outside its range (a
negative Counter32) is refused, as pysnmp refuses it.

Request-ids are patched into pre-encoded requests (collectors/snmp/requests.py),
so :func:`patch_request_id` and the request-id range live here too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Union

# Tags (class | constructed | number) of what an SNMP message holds.
SEQUENCE = 0x30
INTEGER, OCTET_STRING, NULL, OBJECT_IDENTIFIER = 0x02, 0x04, 0x05, 0x06
IP_ADDRESS, COUNTER32, GAUGE32, TIME_TICKS, OPAQUE, COUNTER64 = 0x40, 0x41, 0x42, 0x43, 0x44, 0x46
NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW = 0x80, 0x81, 0x82
GET_REQUEST, GET_NEXT_REQUEST, RESPONSE, SET_REQUEST = 0xA0, 0xA1, 0xA2, 0xA3
GET_BULK_REQUEST, INFORM_REQUEST, TRAP_V2, REPORT = 0xA5, 0xA6, 0xA7, 0xA8
_PDUS = frozenset({GET_REQUEST, GET_NEXT_REQUEST, RESPONSE, SET_REQUEST, GET_BULK_REQUEST, INFORM_REQUEST,
                   TRAP_V2, REPORT})

# Request-ids the agent sends: four content bytes whatever the value, so a
# pre-encoded request is patched in place (BER integers are minimal: a first
# content byte of 0x01-0x7f needs exactly four).
REQUEST_ID_MIN, REQUEST_ID_MAX = 0x0100_0000, 0x7FFF_FFFF

_UNSIGNED_LIMIT = {COUNTER32: 2**32, GAUGE32: 2**32, TIME_TICKS: 2**32, COUNTER64: 2**64}
ERROR_STATUS_NAMES = (
    "noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess", "wrongType", "wrongLength",
    "wrongEncoding", "wrongValue", "noCreation", "inconsistentValue", "resourceUnavailable", "commitFailed",
    "undoFailed", "authorizationError", "notWritable", "inconsistentName",
)


class BerError(ValueError):
    """The datagram is not a well-formed SNMPv2c message of the shape read here."""


class Missing(enum.Enum):
    """An SNMPv2 exception value in place of a variable's value."""

    NO_SUCH_OBJECT = "noSuchObject"
    NO_SUCH_INSTANCE = "noSuchInstance"
    END_OF_MIB_VIEW = "endOfMibView"


Value = Union[int, bytes, Missing]
_MISSING = {NO_SUCH_OBJECT: Missing.NO_SUCH_OBJECT, NO_SUCH_INSTANCE: Missing.NO_SUCH_INSTANCE,
            END_OF_MIB_VIEW: Missing.END_OF_MIB_VIEW}


@dataclass(frozen=True, slots=True)
class Message:
    """A decoded SNMPv1/v2c message. Each OID is kept as its BER content bytes (see :func:`oid_bytes`)."""

    version: int
    community: bytes
    pdu_type: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: tuple[tuple[bytes, Value], ...]


def _header(data: bytes, at: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at ``at``; BerError if it runs past ``end``."""
    if at + 2 > end:
        raise BerError("truncated")
    tag = data[at]
    if tag & 0x1F == 0x1F:
        raise BerError("multi-byte tags are not SNMP")
    length = data[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0:
            raise BerError("indefinite length")
        if at + count > end:
            raise BerError("truncated")
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    if at + length > end:
        raise BerError("truncated")
    return tag, at, at + length


def _integer(data: bytes, start: int, end: int) -> int:
    # Non-minimal encodings (leading 0x00 bytes) are accepted, as pysnmp accepts them:
    # some agents pad counters to a fixed width.
    if start == end:
        raise BerError("empty INTEGER")
    return int.from_bytes(data[start:end], "big", signed=True)


def _expect(data: bytes, at: int, end: int, tag: int) -> tuple[int, int]:
    found, start, stop = _header(data, at, end)
    if found != tag:
        raise BerError(f"expected tag 0x{tag:02x}, found 0x{found:02x}")
    return start, stop


def _value(data: bytes, tag: int, start: int, end: int) -> Value:
    if tag == OCTET_STRING or tag == IP_ADDRESS or tag == OPAQUE:
        if tag == IP_ADDRESS and end - start != 4:
            raise BerError("IpAddress is not 4 bytes")
        return data[start:end]
    limit = _UNSIGNED_LIMIT.get(tag)
    if limit is not None:
        value = _integer(data, start, end)
        if not 0 <= value < limit:
            raise BerError(f"value {value} out of range for tag 0x{tag:02x}")
        return value
    if tag == INTEGER:
        value = _integer(data, start, end)
        if not -(2**31) <= value < 2**31:
            raise BerError("Integer32 out of range")
        return value
    missing = _MISSING.get(tag)
    if missing is not None:
        if start != end:
            raise BerError("exception value with content")
        return missing
    if tag == NULL:
        if start != end:
            raise BerError("NULL with content")
        return b""
    if tag == OBJECT_IDENTIFIER:
        return ".".join(map(str, decode_oid(data[start:end]))).encode()  # not read by the collector
    if tag & 0x1F == 0x1F:  # as _header: SNMP has no tag above 30, which alone may take this form
        raise BerError("multi-byte tags are not SNMP")
    raise BerError(f"unknown value tag 0x{tag:02x}")


def decode_message(data: bytes) -> Message:
    """The SNMPv1/v2c message in ``data``; BerError for anything malformed or of another shape."""
    end = len(data)
    start, stop = _expect(data, 0, end, SEQUENCE)
    if stop != end:
        raise BerError("trailing bytes after the message")
    a, b = _expect(data, start, stop, INTEGER)
    version = _integer(data, a, b)
    a, c = _expect(data, b, stop, OCTET_STRING)
    community = data[a:c]
    pdu_type, at, pdu_end = _header(data, c, stop)
    if pdu_type not in _PDUS or pdu_end != stop:
        raise BerError("not an SNMP PDU")
    a, b = _expect(data, at, pdu_end, INTEGER)
    request_id = _integer(data, a, b)
    a, c = _expect(data, b, pdu_end, INTEGER)
    error_status = _integer(data, a, c)
    a, b = _expect(data, c, pdu_end, INTEGER)
    error_index = _integer(data, a, b)
    at, list_end = _expect(data, b, pdu_end, SEQUENCE)
    if list_end != pdu_end:
        raise BerError("trailing bytes in the PDU")
    if not (-(2**31) <= request_id < 2**31 and 0 <= error_index < 2**31):  # as RFC 3416 (and pysnmp) bound them
        raise BerError("PDU field out of range")
    return Message(version, community, pdu_type, request_id, error_status, error_index,
                   _varbinds(data, at, list_end))


_INT_RANGES = {INTEGER: (-(2**31), 2**31), COUNTER32: (0, 2**32), GAUGE32: (0, 2**32), TIME_TICKS: (0, 2**32),
               COUNTER64: (0, 2**64)}


def _varbinds(data: bytes, at: int, list_end: int) -> tuple[tuple[bytes, Value], ...]:
    """The varbind list between ``at`` and ``list_end``.

    Straight-line for the common shape (short-form lengths, an integer or
    octet-string value): about a microsecond a varbind. Anything else takes
    the general path below, which checks the same things step by step.
    """
    varbinds = []
    append = varbinds.append
    ranges = _INT_RANGES
    while at < list_end:
        # 30 L 06 l <oid> T v <value>, every length below 128
        if at + 4 <= list_end and data[at] == SEQUENCE and data[at + 2] == OBJECT_IDENTIFIER:
            vb_len, o_len = data[at + 1], data[at + 3]
            o_start = at + 4
            o_end = o_start + o_len
            vb_end = at + 2 + vb_len
            if vb_len < 0x80 and 0 < o_len < 0x80 and o_end + 2 <= vb_end <= list_end and not data[o_end - 1] & 0x80:
                tag, v_len = data[o_end], data[o_end + 1]
                v_start = o_end + 2
                if v_len < 0x80 and v_start + v_len == vb_end:
                    name = data[o_start:o_end]
                    if 0x80 in name:
                        _check_oid(data, o_start, o_end)
                    bounds = ranges.get(tag)
                    if bounds is not None and v_len:
                        value: Value = int.from_bytes(data[v_start:vb_end], "big", signed=True)
                        if not bounds[0] <= value < bounds[1]:  # type: ignore[operator]
                            raise BerError(f"value {value} out of range for tag 0x{tag:02x}")
                    elif tag == OCTET_STRING:
                        value = data[v_start:vb_end]
                    else:
                        value = _value(data, tag, v_start, vb_end)
                    append((name, value))
                    at = vb_end
                    continue
        vb_start, vb_end = _expect(data, at, list_end, SEQUENCE)
        o_start, o_end = _expect(data, vb_start, vb_end, OBJECT_IDENTIFIER)
        if o_start == o_end or data[o_end - 1] & 0x80:
            raise BerError("malformed OBJECT IDENTIFIER")
        if 0x80 in data[o_start:o_end]:  # rare (arcs of 16,384 and more): check for a padded sub-identifier
            _check_oid(data, o_start, o_end)
        tag, v_start, v_end = _header(data, o_end, vb_end)
        if v_end != vb_end:
            raise BerError("trailing bytes in a varbind")
        append((data[o_start:o_end], _value(data, tag, v_start, v_end)))
        at = vb_end
    return tuple(varbinds)


def _check_oid(data: bytes, start: int, end: int) -> None:
    """A sub-identifier never starts with 0x80 (X.690 8.19.2: it would be a padded encoding)."""
    fresh = True
    for at in range(start, end):
        if fresh and data[at] == 0x80:
            raise BerError("OID sub-identifier with a leading 0x80")
        fresh = not data[at] & 0x80


def decode_oid(content: bytes) -> tuple[int, ...]:
    """BER content bytes of an OBJECT IDENTIFIER -> its arcs."""
    arcs: list[int] = []
    value = 0
    fresh = True
    for byte in content:
        if fresh and byte == 0x80:
            raise BerError("OID sub-identifier with a leading 0x80")
        value = (value << 7) | (byte & 0x7F)
        fresh = not byte & 0x80
        if fresh:
            arcs.append(value)
            value = 0
    if not fresh or not arcs:
        raise BerError("malformed OBJECT IDENTIFIER")
    first = arcs[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    return head + tuple(arcs[1:])


def oid_bytes(oid: tuple[int, ...]) -> bytes:
    """The BER content bytes of ``oid`` (what :class:`Message` holds for a varbind name)."""
    if len(oid) < 2 or oid[0] > 2 or (oid[0] < 2 and oid[1] >= 40):
        raise ValueError(f"not a valid OID: {oid}")
    out = bytearray()
    for arc in (oid[0] * 40 + oid[1],) + tuple(oid[2:]):
        if arc < 0:
            raise ValueError(f"negative OID arc in {oid}")
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


def _int_tlv(value: int) -> bytes:
    return _tlv(INTEGER, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


_NULL = bytes((NULL, 0))


def encode_request(community: bytes, kind: int, names: "tuple[bytes, ...] | list[bytes]", request_id: int,
                   repetitions: int = 0) -> bytes:
    """An SNMPv2c GET or GETBULK (no non-repeaters) of OIDs given as BER content bytes.

    Byte for byte what pysnmp's protocol layer encodes for the same request
    (tests/unit/test_snmp_requests.py checks it), without building pyasn1 objects.
    """
    varbinds = b"".join(_tlv(SEQUENCE, _tlv(OBJECT_IDENTIFIER, name) + _NULL) for name in names)
    second, third = (0, repetitions) if kind == GET_BULK_REQUEST else (0, 0)
    pdu = _int_tlv(request_id) + _int_tlv(second) + _int_tlv(third) + _tlv(SEQUENCE, varbinds)
    return _tlv(SEQUENCE, _int_tlv(1) + _tlv(OCTET_STRING, community) + _tlv(kind, pdu))


def patch_request_id(packet: bytearray, offset: int, request_id: int) -> None:
    """Write ``request_id`` (in [REQUEST_ID_MIN, REQUEST_ID_MAX]) into its four content bytes at ``offset``."""
    packet[offset : offset + 4] = request_id.to_bytes(4, "big")


def error_status_name(status: int) -> str:
    return ERROR_STATUS_NAMES[status] if 0 <= status < len(ERROR_STATUS_NAMES) else f"error-status {status}"
