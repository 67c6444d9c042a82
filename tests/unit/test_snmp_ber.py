"""The lean SNMPv2c decoder agrees with pysnmp's own (pyasn1) decoder, varbind type by type.

Messages are built and encoded by pysnmp; each is decoded by both decoders and
the results compared. Malformed input (truncated, bytes flipped, appended)
must either decode to exactly what pysnmp decodes or be refused with BerError:
never a different value, never another exception.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import univ
from pysnmp.proto import api, rfc1902, rfc1905

from collectors.snmp import ber

V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]

oids = st.tuples(st.integers(0, 2), st.integers(0, 39)).flatmap(
    lambda head: st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=12).map(lambda tail: head + tuple(tail))
)
values = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(rfc1902.Integer32),
    st.binary(max_size=300).map(rfc1902.OctetString),
    st.just(V2C.Null("")),
    oids.map(rfc1902.ObjectName),
    st.binary(min_size=4, max_size=4).map(rfc1902.IpAddress),
    st.integers(0, 2**32 - 1).map(rfc1902.Counter32),
    st.integers(0, 2**32 - 1).map(rfc1902.Gauge32),
    st.integers(0, 2**32 - 1).map(rfc1902.TimeTicks),
    st.binary(max_size=40).map(rfc1902.Opaque),
    st.integers(0, 2**64 - 1).map(rfc1902.Counter64),
    st.sampled_from([rfc1905.noSuchObject, rfc1905.noSuchInstance, rfc1905.endOfMibView]),
)


def encode(community: bytes, request_id: int, status: int, index: int, varbinds: list[tuple[Any, Any]],
           pdu_kind: Any = None) -> bytes:
    pdu = (pdu_kind or V2C.ResponsePDU)()
    V2C.apiPDU.set_defaults(pdu)
    V2C.apiPDU.set_request_id(pdu, request_id)
    V2C.apiPDU.set_error_status(pdu, status)
    V2C.apiPDU.set_error_index(pdu, index)
    V2C.apiPDU.set_varbinds(pdu, varbinds)
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_community(message, community)
    V2C.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def _plain(value: Any) -> ber.Value:
    """pysnmp's value as the collector sees it (collectors/snmp/session.py does the same)."""
    if isinstance(value, rfc1905.NoSuchInstance):
        return ber.Missing.NO_SUCH_INSTANCE
    if isinstance(value, rfc1905.NoSuchObject):
        return ber.Missing.NO_SUCH_OBJECT
    if isinstance(value, rfc1905.EndOfMibView):
        return ber.Missing.END_OF_MIB_VIEW
    if isinstance(value, univ.Integer):  # Integer32, Counter32/64, Gauge32, TimeTicks, Unsigned32
        return int(value)
    if isinstance(value, univ.OctetString):  # also IpAddress, Opaque, Null
        return value.asOctets()
    return str(value).encode()


def reference(data: bytes) -> ber.Message:
    """pysnmp's reading of ``data``, in the lean decoder's terms; raises on anything pysnmp refuses."""
    message, rest = decoder.decode(data, asn1Spec=V2C.Message())
    if rest:
        raise ValueError("trailing bytes")
    pdu = V2C.apiMessage.get_pdu(message)
    # A GetBulk's two integers after the request-id are non-repeaters and max-repetitions: the same
    # wire positions the lean decoder reads as error-status and error-index.
    status, index = ("non-repeaters", "max-repetitions") if "max-repetitions" in pdu else ("error-status", "error-index")
    return ber.Message(
        version=int(message["version"]),
        community=bytes(message["community"]),
        pdu_type=pdu.tagSet[0][0] | pdu.tagSet[0][1] | pdu.tagSet[0][2],
        request_id=int(pdu["request-id"]),  # fields, not the api getters: those also judge the values
        error_status=int(pdu[status]),
        error_index=int(pdu[index]),
        varbinds=tuple((ber.oid_bytes(tuple(name)), _plain(value)) for name, value in V2C.apiPDU.get_varbinds(pdu)),
    )


messages = st.builds(
    encode,
    community=st.binary(max_size=40),
    request_id=st.integers(-(2**31), 2**31 - 1),
    status=st.integers(0, 18),
    index=st.integers(0, 50),
    varbinds=st.lists(st.tuples(oids, values), max_size=30),
)


@given(messages)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_well_formed_messages_decode_as_pysnmp_decodes_them(data):
    assert ber.decode_message(data) == reference(data)


# Where the lean decoder is deliberately stricter than pyasn1 (collectors/snmp/ber.py says why).
STRICTER = ("indefinite length", "empty INTEGER", "multi-byte tags are not SNMP")


def _agrees_or_refuses(data: bytes) -> None:
    try:
        expected: ber.Message | None = reference(data)
    except (PyAsn1Error, ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError):
        expected = None
    refusal = ""
    try:
        found: ber.Message | None = ber.decode_message(data)
    except ber.BerError as exc:
        found, refusal = None, str(exc)
    if found is not None:
        assert found == expected, "accepted what pysnmp refuses, or read it differently"
    if expected is not None and found is None:
        assert refusal in STRICTER, f"refused what pysnmp reads: {refusal}"


@given(messages, st.data())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_malformed_messages_are_refused_or_read_exactly_as_pysnmp_reads_them(data, draw):
    mutation = draw.draw(st.sampled_from(["truncate", "flip", "append", "splice"]))
    raw = bytearray(data)
    if mutation == "truncate":
        raw = raw[: draw.draw(st.integers(0, len(raw) - 1))]
    elif mutation == "flip":
        for _ in range(draw.draw(st.integers(1, 3))):
            raw[draw.draw(st.integers(0, len(raw) - 1))] ^= draw.draw(st.integers(1, 255))
    elif mutation == "append":
        raw += draw.draw(st.binary(min_size=1, max_size=8))
    else:
        at = draw.draw(st.integers(0, len(raw)))
        raw[at:at] = draw.draw(st.binary(min_size=1, max_size=8))
    _agrees_or_refuses(bytes(raw))


@given(st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_random_bytes_are_refused_with_ber_error_only(data):
    _agrees_or_refuses(data)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "truncated"),
        (b"\x30\x80\x02\x01\x01\x00\x00", "indefinite length"),
        (b"\x30\x84\xff\xff\xff\xff", "truncated"),
        (b"\x30\x03\x02\x01\x01\x00", "trailing bytes after the message"),
    ],
)
def test_hand_made_malformed_messages(data, problem):
    with pytest.raises(ber.BerError, match=problem):
        ber.decode_message(data)


def _one_varbind(value_tlv: bytes) -> bytes:
    """A Response with one varbind (OID 0.0) whose value is ``value_tlv``, encoded by hand."""
    def tlv(tag: int, content: bytes) -> bytes:
        return bytes([tag, len(content)]) + content
    varbind = tlv(0x30, b"\x06\x01\x00" + value_tlv)
    pdu = tlv(0xA2, b"\x02\x01\x05\x02\x01\x00\x02\x01\x00" + tlv(0x30, varbind))
    return tlv(0x30, b"\x02\x01\x01\x04\x01c" + pdu)


@pytest.mark.parametrize(
    ("value_tlv", "expected"),
    [
        (b"\x41\x05\x00\xff\xff\xff\xff", 2**32 - 1),  # Counter32 at its top, with the sign byte
        (b"\x41\x03\x00\x00\x05", 5),  # padded (not minimal): accepted, as pysnmp accepts it
        (b"\x02\x02\x00\x05", 5),
        (b"\x46\x09\x00" + b"\xff" * 8, 2**64 - 1),
        (b"\x41\x01\xff", None),  # a negative Counter32
        (b"\x46\x01\x80", None),  # a negative Counter64
        (b"\x02\x05\x00\xff\xff\xff\xff", None),  # Integer32 out of range
        (b"\x05\x01\x00", None),  # NULL with content
        (b"\x81\x01\x00", None),  # noSuchInstance with content
        (b"\x40\x03\x01\x02\x03", None),  # a 3-byte IpAddress
        (b"\x01\x01\x01", None),  # BOOLEAN is no SNMP type
        (b"\x47\x01\x05", None),  # UInteger32 (RFC 1442 only): pysnmp does not know it either
    ],
)
def test_edge_values_as_pysnmp_reads_them(value_tlv, expected):
    data = _one_varbind(value_tlv)
    _agrees_or_refuses(data)
    if expected is None:
        with pytest.raises(ber.BerError):
            ber.decode_message(data)
    else:
        assert ber.decode_message(data).varbinds == ((b"\x00", expected),) == reference(data).varbinds


def test_an_empty_integer_is_refused_though_pysnmp_reads_it_as_zero():
    """X.690 8.3.1: an INTEGER has at least one content octet; a device sending none is broken, not at 0."""
    data = _one_varbind(b"\x41\x00")  # a Counter32 with no content
    assert reference(data).varbinds == ((b"\x00", 0),)
    with pytest.raises(ber.BerError, match="empty INTEGER"):
        ber.decode_message(data)


def test_indefinite_lengths_are_refused_though_pysnmp_reads_them():
    """RFC 3417 section 8: SNMP uses the definite form of length only; nothing else is ever sent."""
    data = encode(b"c", 5, 0, 0, [((1, 3, 6), V2C.Null(""))])
    indefinite = b"\x30\x80" + data[2:] + b"\x00\x00"
    assert reference(indefinite).request_id == 5
    with pytest.raises(ber.BerError, match="indefinite length"):
        ber.decode_message(indefinite)


def test_a_get_request_is_read_too_so_the_caller_can_refuse_it_by_type():
    data = encode(b"public", 7, 0, 0, [((1, 3, 6, 1, 2, 1, 1, 3, 0), V2C.Null(""))], pdu_kind=V2C.GetRequestPDU)
    assert ber.decode_message(data).pdu_type == ber.GET_REQUEST


@given(oids)
def test_oid_bytes_round_trip(oid):
    assert ber.decode_oid(ber.oid_bytes(oid)) == oid


def test_oid_bytes_match_pyasn1():
    for oid in [(1, 3, 6, 1, 2, 1, 1, 3, 0), (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 4_000_000_000), (2, 999, 3)]:
        encoded = bytes(encoder.encode(rfc1902.ObjectName(oid)))
        _, start, end = ber._header(encoded, 0, len(encoded))
        assert ber.oid_bytes(oid) == encoded[start:end]


def test_a_tag_below_31_in_the_multi_octet_form_is_refused_though_pyasn1_reads_it() -> None:
    # Found by the mutation test: 9f 01 00 is [context 1] (noSuchInstance) written in two octets.
    varbinds = [((0, 0), rfc1902.Integer32(8388608)), ((0, 0), rfc1902.TimeTicks(0))]
    data = bytearray(encode(b"\x00", 8388608, 0, 0, varbinds))
    data[40] ^= 220  # the second value's tag 0x43 (TimeTicks) becomes 0x9f
    assert reference(bytes(data)).varbinds[1][1] is ber.Missing.NO_SUCH_INSTANCE
    with pytest.raises(ber.BerError, match="^multi-byte tags are not SNMP$"):
        ber.decode_message(bytes(data))
