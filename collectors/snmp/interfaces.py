"""Pure interface logic: the walked interface table, link matching, status mapping.

No I/O: the session walks the columns, these functions interpret them.
Links are configured by name, never by ifIndex, because ifIndex may be
renumbered when a device reboots or a module is inserted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from collectors.snmp.config import Link

# IF-MIB ifOperStatus values.
OPER_UP = 1
OPER_DOWN = 2
OPER_TESTING = 3
OPER_UNKNOWN = 4
OPER_DORMANT = 5
OPER_NOT_PRESENT = 6
OPER_LOWER_LAYER_DOWN = 7

# The SLA question is "could the link carry traffic?". down, notPresent (the
# hardware is gone) and lowerLayerDown (e.g. the physical port under a
# sub-interface is down) all answer no, so they count as down time. testing,
# unknown and dormant do not say whether the link could carry traffic:
# dormant waits for an external event (dial-on-demand, standby member),
# testing is an operator action, unknown is the device admitting it does not
# know. Counting those as down would blame the provider, counting them as up
# would hide outages, so they are unknown time (neither up nor down).
_OPER_STATE: dict[int, float | None] = {
    OPER_UP: 1.0,
    OPER_DOWN: 0.0,
    OPER_NOT_PRESENT: 0.0,
    OPER_LOWER_LAYER_DOWN: 0.0,
    OPER_TESTING: None,
    OPER_UNKNOWN: None,
    OPER_DORMANT: None,
}


def oper_state(status: int | None) -> float | None:
    """ifOperStatus -> 1.0 (up), 0.0 (down) or None (unknown); None or out of range -> None."""
    if status is None:
        return None
    return _OPER_STATE.get(status)


def admin_up(status: int | None) -> float | None:
    """ifAdminStatus -> 1.0 if up(1), 0.0 for down(2)/testing(3); None if absent."""
    if status is None:
        return None
    return 1.0 if status == 1 else 0.0


def decode_text(raw: bytes) -> str:
    """An SNMP DisplayString as text.

    UTF-8 first; devices configured in Chinese may send GB18030/GBK
    descriptions, which would otherwise never match the (UTF-8) config.
    Trailing NULs, which some agents pad names with, are dropped.
    """
    raw = raw.rstrip(b"\x00")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


@dataclass(frozen=True, slots=True)
class Interface:
    """One row of the interface table as walked."""

    index: int
    name: str | None = None
    descr: str | None = None
    alias: str | None = None
    high_speed: int | None = None  # ifHighSpeed, Mbit/s

    def field(self, selector: str) -> str | None:
        """The naming value a link selector (if_name/if_descr/if_alias) compares with."""
        return {"if_name": self.name, "if_descr": self.descr, "if_alias": self.alias}[selector]


@dataclass(frozen=True, slots=True)
class InterfaceTable:
    """The walked naming columns of a device, by ifIndex."""

    rows: Mapping[int, Interface]

    @classmethod
    def from_columns(
        cls,
        names: Mapping[int, str] | None = None,
        descrs: Mapping[int, str] | None = None,
        aliases: Mapping[int, str] | None = None,
        high_speeds: Mapping[int, int] | None = None,
    ) -> "InterfaceTable":
        """Join walked columns (each ``{ifIndex: value}``) into rows."""
        names, descrs, aliases, high_speeds = names or {}, descrs or {}, aliases or {}, high_speeds or {}
        indexes = set(names) | set(descrs) | set(aliases) | set(high_speeds)
        return cls(
            {
                i: Interface(i, names.get(i), descrs.get(i), aliases.get(i), high_speeds.get(i))
                for i in sorted(indexes)
            }
        )

    def __len__(self) -> int:
        return len(self.rows)


def selector(link: Link) -> tuple[str, str]:
    """The link's one selector as ``(field, value)``, e.g. ``("if_name", "GE0/0/1")``."""
    for field in ("if_name", "if_descr", "if_alias"):
        value = getattr(link, field)
        if value is not None:
            return field, value
    raise ValueError(f"link {link.name!r} has no interface selector")  # config validation prevents this


def find_all(table: InterfaceTable, link: Link) -> list[Interface]:
    """Every interface whose selected naming field equals the link's value exactly, by ifIndex."""
    field, value = selector(link)
    return [row for row in table.rows.values() if row.field(field) == value]


def match_link(table: InterfaceTable, link: Link) -> Interface | None:
    """The interface a link selects: exact match; the lowest ifIndex if several match.

    Exact (case- and space-sensitive) on purpose: "GE0/0/1" must never pick
    "GE0/0/10". Duplicates happen with ifDescr on some platforms; the lowest
    ifIndex is a stable choice and the caller logs the ambiguity.
    """
    matches = find_all(table, link)
    return matches[0] if matches else None


def capacity_bytes(link: Link, interface: Interface | None) -> float | None:
    """Capacity in bytes/s: the contracted capacity, else ifHighSpeed; None if neither is known.

    ifHighSpeed 0 (unknown / not applicable) yields 0.0: the caller logs it.
    """
    if link.capacity is not None:
        return link.capacity
    if interface is None or interface.high_speed is None:
        return None
    return interface.high_speed * 1e6 / 8


def line_rate_bytes(interface: Interface | None) -> float | None:
    """Physical speed in bytes/s from ifHighSpeed, None if unknown or 0."""
    if interface is None or not interface.high_speed:
        return None
    return interface.high_speed * 1e6 / 8
