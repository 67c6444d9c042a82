"""One poll's values judged against a profile (pure): each condition 1, 0 or unknown, and the unit's fault.

Three-valued, as the ledger is: a condition holds (1.0) when any of its rows
holds, even if another of its rows could not be read; it does not hold (0.0)
when every row was read and none holds; otherwise it is unknown (None). The
unit's fault combines its conditions the same way, so a UPS known to be on
battery is a fault even while its alarm count is missing, and a unit is never
called normal on values it could not read.

A ``counter_increase`` row compares the counter with the previous poll's
value (its baseline): up is an event, so the condition holds for this one
poll; the first reading only sets the baseline; down is a discontinuity (the
card rebooted, or the counter wrapped), never a fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from collectors.power.profile import Check, Profile
from collectors.snmp.ber import Value
from collectors.snmp.oids import Oid

Baselines = Mapping[int, int]  # check index -> the counter's value at the last poll that read it


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one poll says of a unit."""

    fault: float | None
    conditions: Mapping[str, float | None]  # in the profile's order
    baselines: Baselines  # for the next poll
    discontinuities: int = 0  # counters that went down


def any_of(values: list[float | None]) -> float | None:
    """Three-valued or: 1 if any is 1, else unknown if any is unknown, else 0 (0 for none at all)."""
    if any(v == 1.0 for v in values):
        return 1.0
    return None if any(v is None for v in values) else 0.0


def _state(value: Value) -> int | str | None:
    if isinstance(value, int):
        return value
    if isinstance(value, bytes):  # a DisplayString state ("ALARM"): compared as text
        return value.decode("utf-8", errors="replace").strip()
    return None  # noSuchObject, noSuchInstance, endOfMibView


def _row(check: Check, value: Value | None, baseline: int | None) -> tuple[float | None, int | None, bool]:
    """(the row's verdict, its new baseline, whether its counter went down)."""
    state = None if value is None else _state(value)
    if state is None:
        # Absent: an optional row never holds; a required one leaves the condition unknown.
        return (0.0 if check.optional else None), baseline, False
    if check.test == "in":
        return (1.0 if state in check.states else 0.0), baseline, False
    if not isinstance(state, int):
        return None, baseline, False  # a text where a number was declared: the profile does not fit the device
    if check.test == "above":
        return (1.0 if state > check.above else 0.0), baseline, False
    if baseline is None:
        return 0.0, state, False  # the first reading: nothing to compare with yet
    if state < baseline:
        return 0.0, state, True
    return (1.0 if state > baseline else 0.0), state, False


def judge(profile: Profile, values: Mapping[Oid, Value], baselines: Baselines) -> Verdict:
    """The unit's verdict from one poll's ``values`` (a missing OID reads as absent)."""
    rows: dict[str, list[float | None]] = {name: [] for name in profile.conditions}
    kept: dict[int, int] = {}
    went_down = 0
    for index, check in enumerate(profile.checks):
        verdict, baseline, down = _row(check, values.get(check.oid), baselines.get(index))
        rows[check.condition].append(verdict)
        if baseline is not None:
            kept[index] = baseline
        went_down += down
    conditions = {name: any_of(found) for name, found in rows.items()}
    return Verdict(any_of(list(conditions.values())), conditions, kept, went_down)


def number(values: Mapping[Oid, Value], oid: Oid) -> int | None:
    """A reading's value when the device gave a number."""
    value = values.get(oid)
    return value if isinstance(value, int) else None


__all__ = ["Baselines", "Verdict", "any_of", "judge", "number"]
