"""Render a :class:`LabDevice` as snmpsim ``.snmprec`` text (``OID|TAG|VALUE``).

Dynamic values use snmpsim variation modules:

* ``67:numeric|rate=100`` for sysUpTime: snmpsim has no built-in uptime, a
  plain TimeTicks record would stay frozen. The numeric module counts from the
  moment the simulator process loaded it, so a restart looks like a reboot.
* ``70:numeric|rate=<bytes/s>,initial=<n>,wrap=1`` for the HC octet counters
  (value = initial + rate * seconds since start; ``wrap`` makes it wrap instead
  of sticking at the maximum, like a real counter).
* ``2:<writecache alias>|value=<n>`` for ifAdminStatus/ifOperStatus so an SNMP
  SET changes what later GETs return.
"""

from __future__ import annotations

from .devices import LabDevice

SYS = "1.3.6.1.2.1.1"
IF_NUMBER = "1.3.6.1.2.1.2.1.0"
IF_ENTRY = "1.3.6.1.2.1.2.2.1"
IFX_ENTRY = "1.3.6.1.2.1.31.1.1.1"

# Column OIDs used by the simulator for SETs and by tests.
IF_ADMIN_STATUS = f"{IF_ENTRY}.7"
IF_OPER_STATUS = f"{IF_ENTRY}.8"
SYS_UPTIME = f"{SYS}.3.0"
IF_NAME = f"{IFX_ENTRY}.1"
IF_HC_IN_OCTETS = f"{IFX_ENTRY}.6"
IF_HC_OUT_OCTETS = f"{IFX_ENTRY}.10"

_INTEGER, _OCTETS, _OID, _COUNTER32, _GAUGE32, _TIMETICKS, _COUNTER64 = (
    "2", "4", "6", "65", "66", "67", "70",
)


def _status(up: bool) -> int:
    return 1 if up else 2  # IF-MIB: up(1), down(2)


def _text(value: str) -> tuple[str, str]:
    """Tag and value for an OCTET STRING.

    snmpsim reads data files as ISO-8859-1 and a line break ends a record, so
    anything but printable ASCII (e.g. a Chinese ifAlias) is written as UTF-8
    hex with the ``4x`` tag.
    """
    if value.isascii() and value.isprintable():
        return _OCTETS, value
    return _OCTETS + "x", value.encode("utf-8").hex()


def _numeric(tag: str, rate: float, initial: int = 0, wrap: bool = False) -> tuple[str, str]:
    # numeric parses every option with float(); repr() never contains a comma.
    options = f"rate={float(rate)!r},initial={int(initial)}"
    if wrap:
        options += ",wrap=1"
    return f"{tag}:numeric", options


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(part) for part in oid.split("."))


def render_snmprec(device: LabDevice, writecache: str = "writecache") -> str:
    """Return the ``.snmprec`` text for ``device``, records sorted by OID.

    ``writecache`` is the alias under which snmpsim loaded its writecache
    module; the simulator gives each device its own alias because one
    writecache instance keys its store by OID only, so a SET on one device
    would otherwise show up on every device with the same ifIndex.
    """
    records: list[tuple[str, str, str]] = [
        (f"{SYS}.1.0", *_text(device.sys_descr)),
        (f"{SYS}.2.0", _OID, device.sys_object_id),
        (SYS_UPTIME, *_numeric(_TIMETICKS, 100)),  # hundredths of a second
        (f"{SYS}.5.0", *_text(device.sys_name)),
        (IF_NUMBER, _INTEGER, str(len(device.interfaces))),
    ]
    wc = f"{_INTEGER}:{writecache}"
    for iface in device.interfaces:
        i = iface.index
        records += [
            (f"{IF_ENTRY}.1.{i}", _INTEGER, str(i)),
            (f"{IF_ENTRY}.2.{i}", *_text(iface.descr)),
            (f"{IF_ENTRY}.3.{i}", _INTEGER, str(iface.if_type)),
            (f"{IF_ADMIN_STATUS}.{i}", wc, f"value={_status(iface.admin_up)}"),
            (f"{IF_OPER_STATUS}.{i}", wc, f"value={_status(iface.oper_up)}"),
            (f"{IF_ENTRY}.13.{i}", _COUNTER32, "0"),  # ifInDiscards
            (f"{IF_ENTRY}.14.{i}", _COUNTER32, "0"),  # ifInErrors
            (f"{IF_ENTRY}.19.{i}", _COUNTER32, "0"),  # ifOutDiscards
            (f"{IF_ENTRY}.20.{i}", _COUNTER32, "0"),  # ifOutErrors
            (f"{IF_NAME}.{i}", *_text(iface.name)),
            (f"{IF_HC_IN_OCTETS}.{i}",
             *_numeric(_COUNTER64, iface.in_rate_bps, iface.initial_in, wrap=True)),
            (f"{IF_HC_OUT_OCTETS}.{i}",
             *_numeric(_COUNTER64, iface.out_rate_bps, iface.initial_out, wrap=True)),
            (f"{IFX_ENTRY}.15.{i}", _GAUGE32, str(iface.high_speed_mbps)),
            (f"{IFX_ENTRY}.18.{i}", *_text(iface.alias)),
        ]
    # snmpsim answers GETNEXT by position in the file, so the order must be
    # numeric (1.10 after 1.9), not textual.
    records.sort(key=lambda r: _oid_key(r[0]))
    return "".join(f"{oid}|{tag}|{value}\n" for oid, tag, value in records)
