"""Power profiles: what to read from a UPS or a distribution cabinet, and when it is a fault, as data.

A profile is a YAML file: the bundled ones live in collectors/power/profiles/
(``profile: ups-rfc1628``); a site's own is a path ending in ``.yaml``,
relative to the config file (``profile: profiles/our-pdu.yaml``). Real PDU
MIBs differ by vendor, so a new cabinet model is a new file, not new code.

    description: what the profile reads
    conditions:            # each: a named fault condition read from one scalar OID
      - {name: on_battery, oid: 1.3.6.1.2.1.33.1.4.1.0, fault_when_in: [5]}
      - {name: alarm, oid: 1.3.6.1.2.1.33.1.6.1.0, fault_when_above: 0}
      - {name: input_failure, oid: 1.3.6.1.2.1.33.1.3.1.0, counter_increase: true}
    readings:              # optional: raw values exposed as metrics (collectors/power/metrics.py)
      output_source: 1.3.6.1.2.1.33.1.4.1.0

A condition has exactly one test: ``fault_when_in`` (an enumeration's values,
integers or the text an OCTET STRING holds), ``fault_when_above`` (a number)
or ``counter_increase: true`` (a counter that went up since the last poll is an
event: that poll reads the condition as holding). Several rows may share a
name (three phases, one ``phase_loss``): the condition holds when any of them
does. ``optional: true`` lets an OID some models lack be absent: it then never
holds, where a missing required OID makes the condition, and the unit, unknown.

Imported while agent.config builds Config (the units' ``profile`` is checked
there): no agent.config here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, field_validator, model_validator

from agent.config_keys import error_message
from agent.schema import ConfigError, Items, Model
from agent.yamlfile import load_text, read_yaml
from collectors.snmp.oids import Oid, parse

BUNDLED = "collectors/power/profiles"  # as messages name the bundled files
_SUFFIXES = (".yaml", ".yml")

# The raw values a profile may expose, each one metric family (collectors/power/metrics.py).
Reading = Literal["output_source", "battery_status", "alarms_present", "input_line_bads", "breaker_state"]
READINGS: tuple[str, ...] = Reading.__args__  # type: ignore[attr-defined]

_OID = re.compile(r"^\.?[0-2](\.(0|[1-9][0-9]{0,9})){1,127}$")
RESERVED = "fault"  # power:<unit>:fault is the unit's own series


def _oid(value: str) -> str:
    if not _OID.match(value):
        raise ValueError(f"{value!r} is not a numeric OID (e.g. 1.3.6.1.2.1.33.1.4.1.0)")
    return value.strip(".")


def _state(value: Any) -> int | str:
    # bool is an int in Python, and YAML's yes/no would slip in as 1/0.
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{value!r}: a state is an integer (an enumeration's value) or a text")
    return value


def _condition_name(value: str) -> str:
    if value == RESERVED:
        raise ValueError(f"{RESERVED!r} is the unit's own series: name the condition after what it means")
    return value


DottedOid = Annotated[str, AfterValidator(_oid)]
State = Annotated[int | str, BeforeValidator(_state)]
# Part of the ledger series power:<unit>:<condition> and a label value of sla_power_fault.
ConditionName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$"), AfterValidator(_condition_name)]


class ConditionRow(Model):
    """One test of one OID; see the module doc."""

    name: ConditionName
    oid: DottedOid
    fault_when_in: Items[State] | None = None
    fault_when_above: float | None = None
    counter_increase: bool = False
    optional: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _one_test(self) -> "ConditionRow":
        given = [key for key, set_ in (("fault_when_in", self.fault_when_in is not None),
                                       ("fault_when_above", self.fault_when_above is not None),
                                       ("counter_increase", self.counter_increase)) if set_]
        if len(given) != 1:
            raise ValueError("give exactly one of fault_when_in, fault_when_above, counter_increase: true"
                             + (f" (found {', '.join(given)})" if given else ""))
        if self.fault_when_in is not None and not self.fault_when_in:
            raise ValueError("fault_when_in: list at least one value")
        return self


class ProfileFile(Model):
    """A profile file as written."""

    description: str = ""
    conditions: Items[ConditionRow]
    readings: dict[Reading, DottedOid] = {}

    @field_validator("conditions")
    @classmethod
    def _rows(cls, rows: tuple[ConditionRow, ...]) -> tuple[ConditionRow, ...]:
        if not rows:
            raise ValueError("a profile needs at least one condition")
        seen: set[tuple[str, str]] = set()
        for row in rows:
            if (row.name, row.oid) in seen:
                raise ValueError(f"{row.name} reads {row.oid} twice")
            seen.add((row.name, row.oid))
        return rows


@dataclass(frozen=True, slots=True)
class Check:
    """A condition row made ready to judge a value: ``test`` is in, above or increase."""

    condition: str
    oid: Oid
    test: Literal["in", "above", "increase"]
    states: frozenset[int | str] = frozenset()
    above: float = 0.0
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Profile:
    """A loaded profile: its checks, condition names (in file order) and readings."""

    name: str  # as the unit's config gives it
    source: str  # the file, as messages name it
    description: str
    checks: tuple[Check, ...]
    conditions: tuple[str, ...]
    readings: tuple[tuple[str, Oid], ...]
    oids: tuple[Oid, ...]  # what one poll GETs: every OID once, the checks' first


def _check(row: ConditionRow) -> Check:
    oid = parse(row.oid)
    if row.fault_when_in is not None:
        return Check(row.name, oid, "in", states=frozenset(row.fault_when_in), optional=row.optional)
    if row.fault_when_above is not None:
        return Check(row.name, oid, "above", above=row.fault_when_above, optional=row.optional)
    return Check(row.name, oid, "increase", optional=row.optional)


def _where(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if part == "[key]":
            continue  # pydantic's marker of a mapping's key: the key itself is the last part before it
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def parse_profile(data: Any, name: str, source: str) -> Profile:
    """A profile from parsed YAML; ConfigError with one ``FILE: key: problem`` line per problem."""
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: (top level): expected a mapping with conditions (and readings)"])
    try:
        written = ProfileFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([f"{source}: {_where(tuple(e['loc']))}: {error_message(ProfileFile, e)}"
                           for e in exc.errors(include_url=False, include_input=False)]) from None
    checks = tuple(_check(row) for row in written.conditions)
    readings = tuple((reading, parse(oid)) for reading, oid in written.readings.items())
    return Profile(name, source, written.description, checks, tuple(dict.fromkeys(c.condition for c in checks)),
                   readings, tuple(dict.fromkeys([c.oid for c in checks] + [oid for _, oid in readings])))


def is_path(reference: str) -> bool:
    """Whether a unit's ``profile`` names a file of the site's (else a bundled profile)."""
    return reference.endswith(_SUFFIXES)


def bundled() -> list[str]:
    """The bundled profiles' names."""
    folder = resources.files("collectors.power").joinpath("profiles")
    return sorted(entry.name.rsplit(".", 1)[0] for entry in folder.iterdir() if entry.name.endswith(_SUFFIXES))


@functools.lru_cache(maxsize=64)
def _load(reference: str, stamp: int) -> Profile:
    # ``stamp`` (a file's mtime) makes an edited profile load anew on the next config load.
    if is_path(reference):
        return parse_profile(read_yaml(Path(reference)), reference, reference)
    if reference not in bundled():
        raise ConfigError([f"no bundled power profile named {reference!r} "
                           f"(bundled: {', '.join(bundled())}; a file of your own ends in .yaml)"])
    source = f"{BUNDLED}/{reference}.yaml"
    text = resources.files("collectors.power").joinpath("profiles", f"{reference}.yaml").read_text(encoding="utf-8")
    return parse_profile(load_text(text, source), reference, source)


def load_profile(reference: str) -> Profile:
    """The profile a unit names (a bundled name, or an absolute path); ConfigError if it is wrong."""
    stamp = 0
    if is_path(reference):
        try:
            stamp = Path(reference).stat().st_mtime_ns
        except OSError:
            stamp = -1  # unreadable: _load says why
    return _load(reference, stamp)


def check_reference(reference: str, base_dir: Path) -> str:
    """A unit's ``profile`` as the config keeps it (a path made absolute); ValueError with one line if it is wrong."""
    resolved = reference
    if is_path(reference):
        path = Path(reference)
        resolved = str(path if path.is_absolute() else (base_dir / path).resolve())
    try:
        load_profile(resolved)
    except ConfigError as exc:
        first = exc.problems[0]
        more = len(exc.problems) - 1
        raise ValueError(first + (f" (and {more} more problem{'s' if more > 1 else ''} in the file)"
                                  if more else "")) from None
    return resolved


__all__ = ["BUNDLED", "Check", "ConditionRow", "Profile", "READINGS", "bundled", "check_reference", "is_path",
           "load_profile", "parse_profile"]
