"""Whether a reply answers the request it claims to answer: the OIDs it must echo or follow.

Pure functions, shared by the v2c path (collectors/snmp/v2c.py, which
discards a reply that fails them and keeps waiting) and the v3 path
(collectors/snmp/v3.py, which fails the request: pysnmp has already matched
the reply). Names are compared as given: BER content bytes or OID tuples.
"""

from __future__ import annotations

from typing import Any, Sequence

from collectors.snmp.ber import Missing, Value
from collectors.snmp.oids import Oid


def echoes(asked: Sequence[Any], names: Sequence[Any], error_status: int) -> bool:
    """A GET reply carries the OIDs asked, in order; an error reply carries them or none (tooBig, RFC 3416 4.2.1)."""
    if list(names) == list(asked):
        return True
    return error_status != 0 and not names


def follows(starts: Sequence[Oid], repetitions: int, rows: Sequence[tuple[Oid, Value]]) -> bool:
    """A GETBULK reply (no non-repeaters) of columns walked from ``starts``.

    Varbind ``i`` belongs to column ``i % len(starts)``, and each comes after
    the previous one of its column (the first: after the OID asked). An OID
    past its column is allowed, as that is how a column ends; endOfMibView
    repeats the OID it could not go past (RFC 3416 4.2.3).
    """
    width = len(starts)
    if not rows or len(rows) > width * max(repetitions, 1):
        return False
    last = list(starts)
    for position, (oid, value) in enumerate(rows):
        column = position % width
        if oid <= last[column] and not (value is Missing.END_OF_MIB_VIEW and oid == last[column]):
            return False
        last[column] = oid
    return True
