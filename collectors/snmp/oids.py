"""The numeric OIDs the SNMP collector reads, as data.

Numeric only: responses are requested with ``lookupMib=False`` so no MIB is
loaded to decode them, and the code never depends on a MIB module being
installed on the agent host. Tuples rather than strings so that an instance
OID is just ``column + (if_index,)`` and prefix tests are slicing.
"""

from __future__ import annotations

from dataclasses import dataclass

Oid = tuple[int, ...]


def parse(text: str) -> Oid:
    """``"1.3.6.1.2.1.1.3.0"`` -> ``(1, 3, 6, 1, 2, 1, 1, 3, 0)``."""
    return tuple(int(part) for part in text.strip(".").split("."))


def dotted(oid: Oid) -> str:
    """The dotted text form, for messages."""
    return ".".join(str(part) for part in oid)


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: its short name (as used in messages) and its OID."""

    name: str
    oid: Oid

    def instance(self, index: int) -> Oid:
        """The OID of this column's cell in row ``index``, one shared tuple per OID."""
        oid = self.oid + (index,)
        return _INSTANCES.setdefault(oid, oid)


# Devices of a fleet mostly number their interfaces alike, so the request layouts of 2,500 devices
# share a few hundred cell OIDs: one tuple each instead of one per device (30 MB at 60,000 links).
# Bounded by the distinct cells ever asked for, which is what separate copies would hold anyway.
_INSTANCES: dict[Oid, Oid] = {}


# Scalars (instance .0 included).
SYS_UPTIME = parse("1.3.6.1.2.1.1.3.0")  # SNMPv2-MIB::sysUpTime.0, TimeTicks (1/100 s)
IF_NUMBER = parse("1.3.6.1.2.1.2.1.0")  # IF-MIB::ifNumber.0
IF_TABLE_LAST_CHANGE = parse("1.3.6.1.2.1.31.1.5.0")  # IF-MIB::ifTableLastChange.0 (optional)

# IF-MIB ifTable (ifEntry 1.3.6.1.2.1.2.2.1) and ifXTable (ifXEntry 1.3.6.1.2.1.31.1.1.1) columns.
IF_DESCR = Column("ifDescr", parse("1.3.6.1.2.1.2.2.1.2"))
IF_ADMIN_STATUS = Column("ifAdminStatus", parse("1.3.6.1.2.1.2.2.1.7"))
IF_OPER_STATUS = Column("ifOperStatus", parse("1.3.6.1.2.1.2.2.1.8"))
IF_IN_DISCARDS = Column("ifInDiscards", parse("1.3.6.1.2.1.2.2.1.13"))
IF_IN_ERRORS = Column("ifInErrors", parse("1.3.6.1.2.1.2.2.1.14"))
IF_OUT_DISCARDS = Column("ifOutDiscards", parse("1.3.6.1.2.1.2.2.1.19"))
IF_OUT_ERRORS = Column("ifOutErrors", parse("1.3.6.1.2.1.2.2.1.20"))
IF_NAME = Column("ifName", parse("1.3.6.1.2.1.31.1.1.1.1"))
IF_HC_IN_OCTETS = Column("ifHCInOctets", parse("1.3.6.1.2.1.31.1.1.1.6"))
IF_HC_OUT_OCTETS = Column("ifHCOutOctets", parse("1.3.6.1.2.1.31.1.1.1.10"))
IF_HIGH_SPEED = Column("ifHighSpeed", parse("1.3.6.1.2.1.31.1.1.1.15"))  # Mbit/s
IF_ALIAS = Column("ifAlias", parse("1.3.6.1.2.1.31.1.1.1.18"))

# Read every poll for each configured link's row: exactly what the KPIs and
# the link metrics need, nothing more (the poll budget is ~0.1 CPU-s per
# 1,000 varbinds, so every extra column costs across 2,500 devices).
LINK_COLUMNS: tuple[Column, ...] = (
    IF_OPER_STATUS,
    IF_ADMIN_STATUS,
    IF_HC_IN_OCTETS,
    IF_HC_OUT_OCTETS,
    IF_IN_ERRORS,
    IF_OUT_ERRORS,
    IF_IN_DISCARDS,
    IF_OUT_DISCARDS,
)

# The naming columns walked to find a link's ifIndex, keyed by the Link field
# that selects by them.
SELECTOR_COLUMNS: dict[str, Column] = {
    "if_name": IF_NAME,
    "if_descr": IF_DESCR,
    "if_alias": IF_ALIAS,
}
