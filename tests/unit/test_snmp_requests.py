"""Pre-encoded requests, reply checks and the walk budget: hand-worked cases."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors.snmp import ber, replies, requests
from collectors.snmp.ber import Missing
from collectors.snmp.session import MIN_WALK_REQUESTS, walk_request_limit

UPTIME, IF_NUMBER = (1, 3, 6, 1, 2, 1, 1, 3, 0), (1, 3, 6, 1, 2, 1, 2, 1, 0)
NAME = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1)
SPEED = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15)


@given(st.integers(ber.REQUEST_ID_MIN, ber.REQUEST_ID_MAX))
def test_a_patched_request_decodes_with_its_new_id_and_nothing_else_changed(request_id):
    request = requests.build(b"public", ber.GET_REQUEST, [UPTIME, IF_NUMBER])
    message = ber.decode_message(request.with_id(request_id))
    assert (message.request_id, message.community, message.pdu_type) == (request_id, b"public", ber.GET_REQUEST)
    assert [name for name, _ in message.varbinds] == list(request.names)
    assert len(request.with_id(request_id)) == len(request.packet)


def test_a_bulk_request_carries_its_repetitions():
    request = requests.build(b"c", ber.GET_BULK_REQUEST, [NAME, SPEED], repetitions=25)
    message = ber.decode_message(request.with_id(ber.REQUEST_ID_MAX))
    # GETBULK puts non-repeaters and max-repetitions where other PDUs have error-status and error-index.
    assert (message.pdu_type, message.error_status, message.error_index) == (ber.GET_BULK_REQUEST, 0, 25)


def test_a_get_reply_must_echo_the_oids_in_order():
    assert replies.echoes([UPTIME, IF_NUMBER], [UPTIME, IF_NUMBER], 0)
    assert not replies.echoes([UPTIME, IF_NUMBER], [IF_NUMBER, UPTIME], 0)
    assert not replies.echoes([UPTIME, IF_NUMBER], [UPTIME], 0)
    assert replies.echoes([UPTIME, IF_NUMBER], [], 1)  # tooBig carries no varbinds
    assert not replies.echoes([UPTIME, IF_NUMBER], [], 0)


def test_a_bulk_reply_must_follow_each_column():
    rows = [(NAME + (1,), b"ge1"), (SPEED + (1,), 1000), (NAME + (2,), b"ge2"), (SPEED + (2,), 1000)]
    assert replies.follows([NAME, SPEED], 25, rows)
    assert not replies.follows([NAME, SPEED], 25, rows[1:])  # shifted: a speed where a name belongs
    assert not replies.follows([NAME, SPEED], 1, rows)  # more rows than asked for
    assert not replies.follows([NAME + (5,), SPEED], 25, rows)  # ge1 is not after the cursor ge5
    past = [(NAME + (1,), b"ge1"), (SPEED + (1,), 1000), (SPEED, 5), ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 16), 2)]
    assert replies.follows([NAME, SPEED], 25, past)  # a column may end by running past itself
    end = [(NAME + (9,), Missing.END_OF_MIB_VIEW), (NAME + (9,), Missing.END_OF_MIB_VIEW)]
    assert replies.follows([NAME + (9,)], 25, end)  # endOfMibView repeats the OID it could not pass
    assert not replies.follows([NAME], 25, [])


@pytest.mark.parametrize(
    ("if_number", "limit"),
    [(None, MIN_WALK_REQUESTS), (-1, MIN_WALK_REQUESTS), (24, MIN_WALK_REQUESTS), (1_500, MIN_WALK_REQUESTS),
     (2_000, 83), (5_000, 203)],  # ceil((n + 16) / 25) + 2
)
def test_the_walk_budget_follows_ifnumber(if_number, limit):
    assert walk_request_limit(if_number) == limit


@given(
    community=st.binary(max_size=300),
    kind=st.sampled_from([ber.GET_REQUEST, ber.GET_BULK_REQUEST]),
    oids=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 39)).flatmap(
        lambda head: st.lists(st.integers(0, 2**32 - 1), max_size=12).map(lambda tail: head + tuple(tail))),
        max_size=60),
    request_id=st.integers(ber.REQUEST_ID_MIN, ber.REQUEST_ID_MAX),
    repetitions=st.integers(0, 2**31 - 1),
)
def test_requests_are_encoded_byte_for_byte_as_pysnmp_encodes_them(community, kind, oids, request_id, repetitions):
    repetitions = repetitions if kind == ber.GET_BULK_REQUEST else 0
    request = requests.build(community, kind, oids, repetitions)
    assert request.with_id(request_id) == requests.pysnmp_encoded(community, kind, oids, request_id, repetitions)
