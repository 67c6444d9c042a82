"""Descriptions of the simulated devices served by the lab.

Rates are in **bytes per second** (the unit the octet counters count in),
although the field names end in ``_bps`` (bytes per second, not bits). Use
:func:`gbit` / :func:`mbit` to write link loads in the usual bit units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The data file name is the v2c community and the v3 context name; snmpsim
# only registers names up to 32 characters as context names, and the
# community "index" is taken by snmpsim's own data-file index.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_RESERVED_NAMES = frozenset({"index"})

IF_TYPE_ETHERNET = 6  # ethernetCsmacd
IF_TYPE_LOOPBACK = 24  # softwareLoopback

# sysObjectID values under Huawei's enterprise arc (2011); the product leaves
# are illustrative, the agent only needs them to be stable.
HUAWEI_NE40E_OID = "1.3.6.1.4.1.2011.2.62.2.9"
HUAWEI_AR_OID = "1.3.6.1.4.1.2011.2.224.279"


def gbit(value: float) -> float:
    """Convert a load in Gbit/s to bytes/s."""
    return value * 1e9 / 8


def mbit(value: float) -> float:
    """Convert a load in Mbit/s to bytes/s."""
    return value * 1e6 / 8


@dataclass(frozen=True)
class LabInterface:
    """One interface: IF-MIB identity, status and how fast its counters grow."""

    index: int
    name: str
    descr: str
    alias: str
    high_speed_mbps: int
    oper_up: bool = True
    admin_up: bool = True
    in_rate_bps: float = 0.0  # bytes/s added to ifHCInOctets
    out_rate_bps: float = 0.0  # bytes/s added to ifHCOutOctets
    initial_in: int = 0
    initial_out: int = 0
    if_type: int = IF_TYPE_ETHERNET

    def __post_init__(self) -> None:
        if not 1 <= self.index <= 2**31 - 1:
            raise ValueError(f"interface {self.name!r}: ifIndex {self.index} out of range")
        if self.in_rate_bps < 0 or self.out_rate_bps < 0:
            raise ValueError(f"interface {self.name!r}: negative rate")
        if not (0 <= self.initial_in < 2**64 and 0 <= self.initial_out < 2**64):
            raise ValueError(f"interface {self.name!r}: initial counter out of Counter64 range")


@dataclass(frozen=True)
class LabDevice:
    """One simulated SNMP agent; ``name`` is its community and v3 context name.

    ``reachable=False`` keeps the device out of the simulator: requests for it
    go unanswered (snmpsim silently drops unknown communities and contexts),
    which is what a powered-off or firewalled device looks like to a poller.
    """

    name: str
    sys_name: str
    sys_descr: str
    interfaces: tuple[LabInterface, ...]
    sys_object_id: str = HUAWEI_NE40E_OID
    reachable: bool = True

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.name) or self.name in _RESERVED_NAMES:
            raise ValueError(
                f"device name {self.name!r}: use 1-32 of [A-Za-z0-9._-], not 'index'"
            )
        indexes = [i.index for i in self.interfaces]
        if len(set(indexes)) != len(indexes):
            raise ValueError(f"device {self.name!r}: duplicate ifIndex in {indexes}")

    def interface(self, if_index: int) -> LabInterface:
        """Return the interface with this ifIndex (KeyError if absent)."""
        for iface in self.interfaces:
            if iface.index == if_index:
                return iface
        raise KeyError(f"device {self.name!r} has no ifIndex {if_index}")


_NE40E_DESCR = (
    "Huawei Versatile Routing Platform Software VRP (R) software, "
    "Version 8.180 (NE40E V800R011C00SPC200) HUAWEI NE40E-X8A"
)
_AR_DESCR = (
    "Huawei Versatile Routing Platform Software VRP (R) software, "
    "Version 5.170 (AR6140 V300R019C10SPC300) HUAWEI AR6140-16G4XG"
)


def _mgmt(index: int) -> LabInterface:
    return LabInterface(
        index, "GigabitEthernet0/0/0", "GigabitEthernet0/0/0", "management",
        1000, in_rate_bps=mbit(0.2), out_rate_bps=mbit(0.4),
    )


def _loopback(index: int) -> LabInterface:
    return LabInterface(
        index, "LoopBack0", "LoopBack0", "router-id", 0, if_type=IF_TYPE_LOOPBACK
    )


# The center's demo infrastructure: two internet egress routers (three
# carriers, 10G each) and the mobile-office egress router (two 1G links).
# Internal links carry roughly the egress traffic in the other direction.
DEMO_DEVICES: tuple[LabDevice, ...] = (
    LabDevice(
        name="egress-r1",
        sys_name="egress-r1",
        sys_descr=_NE40E_DESCR,
        interfaces=(
            LabInterface(1, "XGigabitEthernet0/0/1", "XGigabitEthernet0/0/1",
                         "ChinaTelecom egress 10G", 10000,
                         in_rate_bps=gbit(3.2), out_rate_bps=gbit(1.2)),
            LabInterface(2, "XGigabitEthernet0/0/2", "XGigabitEthernet0/0/2",
                         "ChinaUnicom egress 10G", 10000,
                         in_rate_bps=gbit(2.4), out_rate_bps=gbit(0.8)),
            LabInterface(3, "XGigabitEthernet0/0/3", "XGigabitEthernet0/0/3",
                         "to core-sw1 10G", 10000,
                         in_rate_bps=gbit(1.1), out_rate_bps=gbit(3.0)),
            LabInterface(4, "XGigabitEthernet0/0/4", "XGigabitEthernet0/0/4",
                         "to core-sw2 10G", 10000,
                         in_rate_bps=gbit(0.9), out_rate_bps=gbit(2.6)),
            _mgmt(5),
            _loopback(8),
        ),
    ),
    LabDevice(
        name="egress-r2",
        sys_name="egress-r2",
        sys_descr=_NE40E_DESCR,
        interfaces=(
            LabInterface(1, "XGigabitEthernet0/0/1", "XGigabitEthernet0/0/1",
                         "ChinaMobile egress 10G", 10000,
                         in_rate_bps=gbit(2.8), out_rate_bps=gbit(0.9)),
            LabInterface(3, "XGigabitEthernet0/0/3", "XGigabitEthernet0/0/3",
                         "to core-sw1 10G", 10000,
                         in_rate_bps=gbit(0.9), out_rate_bps=gbit(2.8)),
            _mgmt(5),
            _loopback(8),
        ),
    ),
    LabDevice(
        name="mobile-r1",
        sys_name="mobile-r1",
        sys_descr=_AR_DESCR,
        sys_object_id=HUAWEI_AR_OID,
        interfaces=(
            LabInterface(1, "GigabitEthernet0/0/1", "GigabitEthernet0/0/1",
                         "mobile-office ChinaTelecom 1G", 1000,
                         in_rate_bps=mbit(420), out_rate_bps=mbit(160)),
            LabInterface(2, "GigabitEthernet0/0/2", "GigabitEthernet0/0/2",
                         "mobile-office ChinaUnicom 1G", 1000,
                         in_rate_bps=mbit(310), out_rate_bps=mbit(120)),
            LabInterface(3, "GigabitEthernet0/0/3", "GigabitEthernet0/0/3",
                         "to mobile-office LAN 1G", 1000,
                         in_rate_bps=mbit(280), out_rate_bps=mbit(730)),
            _loopback(8),
        ),
    ),
)
