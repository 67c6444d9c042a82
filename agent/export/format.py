"""Figures written the way the evaluation table writes its targets (pure).

The table writes ``≥15G``, ``≥15000核``, ``100000GB``, ``≥17000 万条``, ``≤10 秒``;
a measured figure is written in the same unit and scale, so staff compare like
with like: 17.5 Gbit/s is ``17.5G``, 170,000,000 messages ``17000万条``. Values
are rounded towards failing the target (a 98.996 % availability against ≥99 %
reads 98.99 %, never 99.00 %) so a rounded figure never looks met when it is not.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

Lang = Literal["zh", "en"]

_TARGET_TEXT = re.compile(r"^\s*(?:[^\d]*?)(?P<op>[≥≤><]=?|=)?\s*(?P<number>\d+(?:[.,]\d+)*)\s*(?P<suffix>[^\s、，,;；()（）/]*)")
# Bit rates are sold with decimal prefixes; "10G" on a link is 10 * 10**9 bit/s.
_RATE_SCALE = {"k": 1e3 / 8, "m": 1e6 / 8, "g": 1e9 / 8, "t": 1e12 / 8}
# The cloud reports binary units and the targets are read the same way (README: Cloud capacity).
_BYTES_SCALE = {"k": 2.0**10, "m": 2.0**20, "g": 2.0**30, "t": 2.0**40, "p": 2.0**50}
_COUNT_SCALE = {"万": 1e4, "亿": 1e8, "千": 1e3}
_SECONDS_SCALE = {"秒": 1.0, "s": 1.0, "分钟": 60.0, "分": 60.0, "min": 60.0, "小时": 3600.0, "h": 3600.0, "天": 86400.0}


def target_suffix(target_text: str) -> str:
    """The unit written after the number of a target, e.g. ``万条`` of ``≥17000 万条``."""
    match = _TARGET_TEXT.match(target_text or "")
    return match.group("suffix") if match else ""


COVERAGE_DECIMALS = 1  # 99.7 %: more only where fewer would read 0 % or 100 %
_MAX_DECIMALS = 12


@dataclass(frozen=True, slots=True)
class Figure:
    """A number as the report writes it: ``number``, already rounded to ``decimals``, then ``suffix``.

    A percentage keeps ``number`` as the ratio (0.9997 for ``99.97%``), as a spreadsheet's percent
    format does; so the xlsx can store ``number`` with a format of ``decimals`` places and show
    exactly the text the other formats write.
    """

    number: float
    decimals: int
    suffix: str = ""
    percent: bool = False

    def __str__(self) -> str:
        shown = self.number * 100 if self.percent else self.number
        return f"{shown:.{self.decimals}f}{'%' if self.percent else ''}{self.suffix}"


def _scaled(value: float, decimals: int, direction: str) -> int:
    """``value`` x 10**decimals as an integer, rounded in ``direction`` (see ``number``)."""
    raw = value * 10**decimals
    if direction == "down":
        return math.floor(raw + 1e-6)  # 0.99 * 100 is 98.999...: not a real shortfall
    if direction == "up":
        return math.ceil(raw - 1e-6)
    return round(raw)


def figure(value: float, decimals: int = 2, direction: str = "nearest", suffix: str = "") -> Figure:
    """``value`` with at most ``decimals`` decimals, trailing zeros dropped, then ``suffix``."""
    scaled = _scaled(value, decimals, direction)
    while decimals and scaled % 10 == 0:
        scaled, decimals = scaled // 10, decimals - 1
    return Figure(scaled / 10**decimals, decimals, suffix)


def number(value: float, decimals: int = 2, direction: str = "nearest") -> str:
    """``value`` with at most ``decimals`` decimals, trailing zeros dropped.

    ``direction`` "down" / "up" rounds towards -inf / +inf (see the module doc).
    """
    return str(figure(value, decimals, direction))


def rounding(op: str | None) -> str:
    """How to round a figure compared with ``op``: towards failing it."""
    if op in (">=", ">"):
        return "down"
    if op in ("<=", "<"):
        return "up"
    return "nearest"


def percent_figure(ratio: float, op: str | None = None, decimals: int = 2) -> Figure:
    """``0.99953`` as ``99.95%``: always ``decimals`` places (the table's ≥99% reads better against 99.00%)."""
    return Figure(_scaled(ratio * 100, decimals, rounding(op)) / 10 ** (decimals + 2), decimals, percent=True)


def percent(ratio: float, op: str | None = None, decimals: int = 2) -> str:
    """``0.99953`` -> ``99.95%`` (see ``percent_figure``)."""
    return str(percent_figure(ratio, op, decimals))


def coverage(ratio: float) -> Figure:
    """A data coverage as every format writes it (column and note): ``99.7%``.

    Rounded down, as a coverage is held against its minimum, with as many more decimals
    as it takes for a coverage above 0 not to read ``0.0%`` (``0.04%``) and, with the rounding
    tolerance, one below 1 not to read ``100.0%``. Only none reads ``0%``, only all ``100%``.
    """
    if ratio <= 0 or ratio >= 1:
        return Figure(0.0 if ratio <= 0 else 1.0, 0, percent=True)
    for decimals in range(COVERAGE_DECIMALS, _MAX_DECIMALS + 1):
        shown = percent_figure(ratio, ">=", decimals)
        if 0 < shown.number < 1:
            return shown
    return percent_figure(ratio, "<=", _MAX_DECIMALS)  # a speck of data: the least figure above 0 shown


def value_figure(measured: float, unit: str, target_text: str, op: str | None = None) -> Figure:
    """A figure in base units written like ``target_text`` (unit and scale), rounded towards failing ``op``."""
    suffix = target_suffix(target_text)
    direction = rounding(op)
    if unit == "ratio":
        return percent_figure(measured, op)
    if unit == "bytes_per_second":
        prefix = (suffix[:1] or "g").lower()
        scale = _RATE_SCALE.get(prefix, _RATE_SCALE["g"])
        return figure(measured / scale, 2, direction, suffix if prefix in _RATE_SCALE else "G")
    if unit == "bytes":
        prefix = (suffix[:1] or "g").lower()
        if prefix not in _BYTES_SCALE:
            prefix, suffix = "g", "GB"
        return figure(measured / _BYTES_SCALE[prefix], 1, direction, suffix)
    if unit == "seconds":
        key = next((k for k in _SECONDS_SCALE if suffix.startswith(k)), None)
        if key is None:
            key, suffix = "秒", "秒"
        return figure(measured / _SECONDS_SCALE[key], 2, direction, suffix)
    key = next((k for k in _COUNT_SCALE if suffix.startswith(k)), None)
    scale = _COUNT_SCALE[key] if key else 1.0
    return figure(measured / scale, 2, direction, suffix)


def value(measured: float, unit: str, target_text: str, op: str | None = None) -> str:
    """``value_figure`` as text: ``99.97%``, ``29.99G``, ``2800万条``."""
    return str(value_figure(measured, unit, target_text, op))


def hours(seconds: float, lang: Lang = "zh") -> Figure:
    """A stretch of time in one unit, for a column of numbers (the xlsx): ``2 小时``, ``0.68 小时``."""
    return figure(seconds / 3600.0, 2, suffix=" 小时" if lang == "zh" else " h")


def duration(seconds: float, lang: Lang = "zh") -> str:
    """A stretch of time for notes: ``41 分钟``, ``2.5 小时``, ``3.2 天``."""
    minutes = seconds / 60.0
    if minutes < 90:
        return f"{number(minutes, 1)} {'分钟' if lang == 'zh' else 'min'}"
    hours = minutes / 60.0
    if hours < 72:
        return f"{number(hours, 1)} {'小时' if lang == 'zh' else 'h'}"
    return f"{number(hours / 24.0, 1)} {'天' if lang == 'zh' else 'days'}"


def op_symbol(op: str) -> str:
    return {">=": "≥", "<=": "≤", ">": ">", "<": "<"}.get(op, op)
