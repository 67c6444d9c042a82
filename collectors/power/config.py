"""Config of the data-center power source: the ``power:`` section, a list of units.

A unit is one UPS or distribution cabinet read over SNMP. Its ``device``
names an entry of ``snmp.devices``, so address, version and credentials are
written once, where every SNMP device's are; its ``profile`` says what to read
and when it is a fault (collectors/power/profile.py)::

    power:
      - {name: ups-a, device: ups-a-card, profile: ups-rfc1628}
      - {name: cab-a1, device: cab-a1-card, profile: cabinet-generic, interval: 15s}
      - {name: cab-x, device: cab-x-card, profile: profiles/vendor-x.yaml}   # a site's own profile

Same conventions as the other sources (frozen models, unknown keys refused,
durations as ``30s``). Imported while agent.config builds Config: it must not
import agent.config.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated, Any, Mapping, Sequence

from pydantic import AfterValidator, ValidationInfo, model_validator

from agent.config_sections import (
    Duration as Minimum,
    KpiSelector,
    MaintenanceScope,
    NamedList,
    NamedListView,
    Names,
    PartialValidation,
    Problem,
    unique,
    unknown_names,
)
from agent.schema import Duration, Items, Model, Name, config_dir
from collectors.power.profile import check_reference
from collectors.power.series import unit_fault


def _no_colon(value: str) -> str:
    # Unit names are part of the ledger series ``power:<unit>:fault``.
    if ":" in value:
        raise ValueError(f"{value!r}: power unit names may not contain ':'")
    return value


def _profile(value: str, info: ValidationInfo) -> str:
    return check_reference(value, config_dir(info))


UnitName = Annotated[Name, AfterValidator(_no_colon)]


class PowerUnit(Model):
    """One UPS or cabinet, polled on its own interval."""

    name: UnitName
    device: str  # an snmp.devices entry
    # A bundled profile's name, or a .yaml file relative to the config (kept as an absolute path).
    profile: Annotated[str, AfterValidator(_profile)]
    interval: Duration = 30.0
    # The whole poll (every SNMP request and retry); beyond it the unit is unknown for that poll.
    timeout: Duration = 5.0

    @model_validator(mode="after")
    def _bounds(self) -> "PowerUnit":
        if self.timeout > self.interval:
            raise ValueError(f"timeout ({self.timeout:g}s) must not exceed interval ({self.interval:g}s)")
        return self

    @property
    def poll_timeout(self) -> float:
        return self.timeout


def check_units(units: Sequence[PowerUnit | None]) -> list[Problem]:
    """Problems across units (duplicate names)."""
    return unique(units, "power")


# -- the section, for agent.config ------------------------------------------------------------------

MIN_POWER_INTERVAL = (5.0, "a UPS or cabinet's SNMP card is a small computer that answers slowly under load")
MIN_POWER_TIMEOUT = (0.5, "a unit's poll covers its SNMP requests and their retries")


def _minimums(where: str, unit: PowerUnit | None) -> list[Minimum]:
    if unit is None:  # did not validate: its own errors are reported
        return []
    return [(f"{where}.interval", unit.interval, MIN_POWER_INTERVAL),
            (f"{where}.timeout", unit.timeout, MIN_POWER_TIMEOUT)]


_LIST = NamedList(
    key="power", model=PowerUnit, what="power unit", needs="needs at least one entry in power",
    selector=KpiSelector("power_units", Items[str] | None, "power units"), check=check_units,
    minimums=_minimums, hint="power (with snmp.devices)",
    scope=MaintenanceScope("power_units", "power unit", lambda config, names: map(unit_fault, names)),
)


@dataclass
class PowerView(NamedListView):
    """The list's own checks, and that each unit's device is an SNMP device."""

    device_names: Names = None

    def problems(self) -> list[Problem]:
        problems = super().problems()
        for i, unit in enumerate(self.entries or ()):
            if unit is not None:
                problems += unknown_names([unit.device], self.device_names, f"power[{i}].device", "SNMP device")
        return problems


def _view(config: Any) -> PowerView:
    units = config.power
    return PowerView(units, frozenset(u.name for u in units), _LIST, polls=bool(units),
                     device_names=frozenset(d.name for d in config.snmp.devices))


def _partial_view(data: Mapping[str, Any], seen: PartialValidation) -> PowerView:
    raw = seen.entries(seen.section("power"))
    # Unit by unit, so that one wrong unit leaves the others' devices checked.
    units = None if raw is None else [seen.entry(PowerUnit, entry, "power", i) for i, entry in enumerate(raw)]
    snmp = data.get("snmp", {})
    devices = seen.names(seen.listed(snmp, "snmp", "devices"), "snmp", "devices") if isinstance(snmp, dict) else None
    return PowerView(units, seen.names(raw, "power"), _LIST, polls=raw is None or bool(raw), device_names=devices)


SECTION = dataclasses.replace(
    _LIST.section(), view=_view, partial_view=_partial_view,
    checked={PowerUnit: (frozenset({"name", "device"}), frozenset({"interval", "timeout"}))},
)

__all__ = ["PowerUnit", "SECTION", "check_units"]
