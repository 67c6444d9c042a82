"""Parsing of human-written quantities into base units.

Config files and the evaluation table speak in Gbit/s, percent, hours and
"≥99%"; everything inside the agent is in base units (seconds, bytes per
second, ratios 0-1), as Prometheus expects.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Callable

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d|w)\s*$")
_ISO_DURATION_RE = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)

# Decimal prefixes, as telecom links are sold (10G = 10 * 10**9 bit/s).
_RATE_PREFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}
_RATE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtKMGT]?)\s*(?:bit/s|bps|b/s|bit)?\s*$")
_BYTES_PREFIX = {
    "": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15,
    "ki": 2.0**10, "mi": 2.0**20, "gi": 2.0**30, "ti": 2.0**40, "pi": 2.0**50,
}
_BYTES_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtpKMGTP]i?)?\s*(?:B|bytes?)?\s*$")


def parse_duration(value: object) -> float:
    """Seconds from ``30``, ``"30s"``, ``"5m"``, ``"2h"``, ``"1d"`` or ISO 8601 ``"PT2H"``."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 5m, 2h or PT2H")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if match := _DURATION_RE.match(text):
            seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        elif (match := _ISO_DURATION_RE.match(text.upper())) and text.upper() not in ("P", "PT"):
            parts = {k: float(v) for k, v in match.groupdict().items() if v}
            seconds = (
                parts.get("w", 0) * 604800
                + parts.get("d", 0) * 86400
                + parts.get("h", 0) * 3600
                + parts.get("m", 0) * 60
                + parts.get("s", 0)
            )
        else:
            raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 5m, 2h, 1d or PT2H)")
    else:
        raise ValueError("expected a duration such as 30s, 5m, 2h or PT2H")
    if seconds <= 0:
        raise ValueError("a duration must be greater than zero")
    return seconds


def parse_bit_rate(value: object) -> float:
    """Bytes per second from a bit rate such as ``"10Gbit/s"``, ``"10G"``, ``"100 Mbps"``.

    A bare number is taken as bit/s, the unit links are contracted in.
    """
    if isinstance(value, bool):
        raise ValueError("expected a bit rate such as 10Gbit/s")
    if isinstance(value, (int, float)):
        bits = float(value)
    elif isinstance(value, str) and (match := _RATE_RE.match(value)):
        bits = float(match.group(1)) * _RATE_PREFIX[match.group(2).lower()]
    else:
        raise ValueError(f"{value!r} is not a bit rate (use e.g. 10Gbit/s, 500Mbit/s)")
    if bits <= 0:
        raise ValueError("a bit rate must be greater than zero")
    return bits / 8.0


def parse_bytes(value: object) -> float:
    """Bytes from ``"4000TB"`` (decimal), ``"100000GiB"`` (binary) or a bare number."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 100GB")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and (match := _BYTES_RE.match(value)):
        return float(match.group(1)) * _BYTES_PREFIX[(match.group(2) or "").lower()]
    raise ValueError(f"{value!r} is not a size (use e.g. 100GB, 4000TiB)")


_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
_OP_ALIASES = {"≥": ">=", "≤": "<=", "＞": ">", "＜": "<", "=>": ">=", "=<": "<="}
_TARGET_RE = re.compile(r"^\s*(>=|<=|=>|=<|>|<|≥|≤|＞|＜)\s*(.+?)\s*$")


@dataclass(frozen=True, slots=True)
class Target:
    """A KPI target: the comparison, the threshold in base units, and the text as written."""

    op: str
    value: float
    text: str

    def met_by(self, measured: float) -> bool:
        return _OPERATORS[self.op](measured, self.value)


def parse_quantity(text: str, unit: str) -> float:
    """A threshold written for a KPI of ``unit`` (a catalogue unit), in base units."""
    text = text.strip()
    if unit == "ratio":
        if text.endswith("%"):
            return float(text[:-1]) / 100.0
        number = float(text)
        if not 0.0 <= number <= 1.0:
            raise ValueError(f"{text!r}: write a ratio as a percentage (99%) or a number from 0 to 1")
        return number
    if unit == "bytes_per_second":
        return parse_bit_rate(text)
    if unit == "seconds":
        return parse_duration(text)
    if unit == "bytes":
        return parse_bytes(text)
    return float(text)


def parse_target(value: object, unit: str) -> Target:
    """``">= 99%"``, ``"≥15Gbit/s"``, ``"<=10s"`` for a KPI measured in ``unit``."""
    if not isinstance(value, str):
        raise ValueError("a target is a comparison and a value, e.g. '>= 99%'")
    match = _TARGET_RE.match(value)
    if not match:
        raise ValueError(f"{value!r}: a target starts with >=, >, <= or <, e.g. '>= 99%'")
    op = _OP_ALIASES.get(match.group(1), match.group(1))
    try:
        threshold = parse_quantity(match.group(2), unit)
    except ValueError as exc:
        raise ValueError(f"{value!r}: {exc}") from None
    return Target(op=op, value=threshold, text=value.strip())
