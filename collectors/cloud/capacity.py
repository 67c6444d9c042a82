"""Pure capacity arithmetic: API records -> offered capacity and usage in base units.

No I/O here, so every rule is tested exhaustively without a server.

Units. OpenStack's "MB" and "GB" are binary: Nova reports MEMORY_MB from the
hypervisor in MiB and DISK_GB as bytes / units.Gi, and Cinder drivers report
``total_capacity_gb`` as bytes / units.Gi (oslo_utils.units.Gi = 2**30). So
MEMORY_MB x 2**20 and DISK_GB / ``*_capacity_gb`` x 2**30 give bytes, applied
everywhere. The evaluation table writes the KPI targets "100000 GB" and
"4000 TB"; the catalogue (agent/catalogue.py) reads them in the units the
cloud reports, ``>= 100000GiB`` and ``>= 4000TiB`` (agent.units.parse_bytes:
GB/TB decimal, GiB/TiB binary), the stricter reading. Comparing bytes with
them is the agent's job; the demo is above both readings.

Offered capacity of one Placement inventory is what Placement itself will
allocate: ``(total - reserved) * allocation_ratio``, floored because
allocations are whole units. Cinder pools offer ``total * (1 -
reserved_percentage / 100)``; thin-provisioning over-subscription is *not*
applied to storage: the KPI counts storage the cloud has, not promises.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Union

RESOURCES = ("vcpu", "memory", "storage")

MIB = 2**20
GIB = 2**30

# Placement resource class per resource, and the factor from its unit to base units.
PLACEMENT_CLASS = {"vcpu": "VCPU", "memory": "MEMORY_MB", "storage": "DISK_GB"}
PLACEMENT_FACTOR = {"VCPU": 1, "MEMORY_MB": MIB, "DISK_GB": GIB}

_COUNT_UNITS = {"cores": 1, "vcpu": 1, "count": 1}
_BYTE_UNITS = {
    "B": 1, "bytes": 1,
    "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50,
}


class CapacityError(ValueError):
    """A record that cannot yield a trustworthy figure; the message is one line."""


@dataclass(frozen=True, slots=True)
class Totals:
    """One resource of one region in base units; ``used`` None when not reported."""

    capacity: float
    used: float | None

    @property
    def utilization(self) -> float | None:
        """used / capacity, None when either is unknown or capacity is 0."""
        if self.used is None or self.capacity <= 0:
            return None
        return self.used / self.capacity


@dataclass(frozen=True, slots=True)
class Inventory:
    total: int
    reserved: int
    allocation_ratio: float

    @property
    def offered(self) -> int:
        """Units Placement will allocate: floor((total - reserved) * allocation_ratio)."""
        # round() first: 23 * 1.3 is 29.900000000000002 and 10 * 2.3 is 22.999999999999996.
        return math.floor(round((self.total - self.reserved) * self.allocation_ratio, 6))


@dataclass(frozen=True, slots=True)
class ProviderReport:
    """What Placement said about one resource provider in one poll."""

    uuid: str
    inventories: Mapping[str, Any]  # the "inventories" object, keyed by resource class
    usages: Mapping[str, Any]  # the "usages" object, keyed by resource class


def _integer(record: Mapping[str, Any], key: str, where: str) -> int:
    if key not in record:
        raise CapacityError(f"{where}: field {key!r} missing")
    value = record[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise CapacityError(f"{where}: field {key!r} is {type(value).__name__}, expected an integer")
    if value < 0:
        raise CapacityError(f"{where}: field {key!r} is negative ({value})")
    return value


def _number(record: Mapping[str, Any], key: str, where: str) -> float:
    if key not in record:
        raise CapacityError(f"{where}: field {key!r} missing")
    value = record[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CapacityError(f"{where}: field {key!r} is {type(value).__name__}, expected a number")
    if not math.isfinite(value) or value < 0:
        raise CapacityError(f"{where}: field {key!r} is {value}, expected a finite number >= 0")
    return float(value)


def parse_inventory(record: Any, where: str) -> Inventory:
    """One Placement inventory record (total, reserved, allocation_ratio) checked for sense."""
    if not isinstance(record, Mapping):
        raise CapacityError(f"{where}: inventory is {type(record).__name__}, expected an object")
    total = _integer(record, "total", where)
    reserved = _integer(record, "reserved", where)
    ratio = _number(record, "allocation_ratio", where)
    if reserved > total:
        # Placement refuses such writes, so it is corrupt data, not a full provider.
        raise CapacityError(f"{where}: reserved ({reserved}) exceeds total ({total})")
    if ratio <= 0:
        raise CapacityError(f"{where}: allocation_ratio must be > 0, got {ratio}")
    return Inventory(total, reserved, ratio)


def placement_totals(providers: Iterable[ProviderReport], resource_classes: Iterable[str]) -> dict[str, Totals]:
    """Offered capacity and allocations per resource class, summed over providers, in base units.

    Every provider is counted, roots and nested children alike: an inventory
    lives on exactly one provider, so nothing is counted twice. A provider
    without an inventory of a class contributes nothing to it.
    """
    classes = tuple(resource_classes)
    offered = dict.fromkeys(classes, 0)
    used = dict.fromkeys(classes, 0)
    providers = tuple(providers)
    if not providers:
        # No compute node registered (yet): the capacity is unknown, not zero.
        raise CapacityError("no resource providers listed; region capacity unknown")
    for provider in providers:
        for rc in classes:
            if rc not in provider.inventories:
                continue
            where = f"provider {provider.uuid} {rc}"
            inventory = parse_inventory(provider.inventories[rc], where)
            offered[rc] += inventory.offered
            if rc not in provider.usages:
                # Placement reports a usage (0 included) for every inventoried class.
                raise CapacityError(f"{where}: no usage reported for an inventoried class")
            used[rc] += _integer(provider.usages, rc, f"{where} usage")
    return {rc: Totals(float(offered[rc] * PLACEMENT_FACTOR[rc]), float(used[rc] * PLACEMENT_FACTOR[rc])) for rc in classes}


def cinder_totals(pools: Iterable[Any]) -> Totals:
    """Block storage from Cinder ``get_pools?detail=True`` entries, in bytes.

    Capacity is ``total_capacity_gb * (1 - reserved_percentage / 100)``, used
    is ``total - free``; a pool without ``reserved_percentage`` reserves none. Drivers that cannot tell report "infinite" or
    "unknown": such a pool makes the total unknowable, so it is an error. No
    pools at all is an error too: Cinder answers ``[]`` until its volume
    services report (after a cinder-scheduler restart, say), and that is
    unknown storage, not none.
    """
    pools = tuple(pools)
    if not pools:
        raise CapacityError("no pools reported (volume services not reporting yet?); storage capacity unknown")
    capacity = 0.0
    used = 0.0
    for i, pool in enumerate(pools):
        if not isinstance(pool, Mapping):
            raise CapacityError(f"pool #{i}: is {type(pool).__name__}, expected an object")
        name = pool.get("name")
        where = f"pool {name}" if isinstance(name, str) else f"pool #{i}"
        caps = pool.get("capabilities")
        if not isinstance(caps, Mapping):
            raise CapacityError(f"{where}: 'capabilities' missing (was detail=True honoured?)")
        for key in ("total_capacity_gb", "free_capacity_gb"):
            if isinstance(caps.get(key), str):
                raise CapacityError(f"{where}: {key} is {caps[key]!r}; its capacity cannot be counted")
        total = _number(caps, "total_capacity_gb", where)
        free = _number(caps, "free_capacity_gb", where)
        # Optional in a driver's capabilities (Cinder's own default is 0); present, it must be a number.
        reserved = _number(caps, "reserved_percentage", where) if "reserved_percentage" in caps else 0.0
        if reserved > 100:
            raise CapacityError(f"{where}: reserved_percentage {reserved:g} exceeds 100")
        if free > total:
            raise CapacityError(f"{where}: free_capacity_gb ({free:g}) exceeds total_capacity_gb ({total:g})")
        capacity += total * (1 - reserved / 100) * GIB
        used += (total - free) * GIB
    return Totals(capacity, used)


# -- the generic collector's declarative mapping -----------------------------

WILDCARD = "*"
Step = Union[str, int]  # a key, a list index, or WILDCARD (every element, summed)
_SEGMENT = re.compile(r"^([A-Za-z0-9_\-]+)((?:\[(?:\d+|\*)\])*)$")
_INDEX = re.compile(r"\[(\d+|\*)\]")


def parse_path(path: str) -> tuple[Step, ...]:
    """``data.pools[*].cpu.total`` -> ("data", "pools", "*", "cpu", "total"); ValueError if malformed.

    Keys are letters, digits, ``_`` and ``-``; ``[n]`` picks a list element,
    ``[*]`` takes every element and the values found are summed. A leading
    ``$.`` is allowed (JSONPath habit) and ignored.
    """
    text = path.strip()
    text = text[2:] if text.startswith("$.") else text
    if not text:
        raise ValueError(f"{path!r} is not a JSON path (e.g. data.vcpu.total or pools[*].total_gb)")
    steps: list[Step] = []
    for segment in text.split("."):
        match = _SEGMENT.match(segment)
        if not match:
            raise ValueError(f"{path!r}: bad segment {segment!r} (keys are [A-Za-z0-9_-], then [n] or [*])")
        steps.append(match.group(1))
        for index in _INDEX.findall(match.group(2)):
            steps.append(WILDCARD if index == WILDCARD else int(index))
    return tuple(steps)


def _as_number(value: Any, where: str) -> float:
    # Vendor APIs often send numbers as strings ("1024.5"); accepted when they parse.
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise CapacityError(f"{where}: {value[:40]!r} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CapacityError(f"{where}: is {type(value).__name__}, expected a number")
    if not math.isfinite(value) or value < 0:
        raise CapacityError(f"{where}: {value} is not a finite number >= 0")
    return float(value)


def extract(document: Any, path: str) -> float:
    """The number at ``path`` in ``document`` (summed over ``[*]``); CapacityError if absent or not a number."""
    nodes: list[Any] = [document]
    where = "$"
    for step in parse_path(path):
        found: list[Any] = []
        for node in nodes:
            if step == WILDCARD:
                if not isinstance(node, list):
                    raise CapacityError(f"{path}: {where} is {type(node).__name__}, expected a list")
                found.extend(node)
            elif isinstance(step, int):
                if not isinstance(node, list) or step >= len(node):
                    raise CapacityError(f"{path}: {where}[{step}] missing")
                found.append(node[step])
            else:
                if not isinstance(node, Mapping) or step not in node:
                    raise CapacityError(f"{path}: field {step!r} missing at {where}")
                found.append(node[step])
        if step == WILDCARD and not found:
            # An empty list would sum to a false zero capacity.
            raise CapacityError(f"{path}: {where}[*] matched no elements")
        nodes = found
        where = f"{where}.{step}" if isinstance(step, str) and step != WILDCARD else f"{where}[{step}]"
    return sum(_as_number(node, path) for node in nodes)


def unit_factor(unit: str) -> int:
    """Base units per ``unit``: cores/vcpu/count -> 1; B, KB..PB (10**3n), KiB..PiB (2**10n)."""
    if unit in _COUNT_UNITS:
        return _COUNT_UNITS[unit]
    if unit in _BYTE_UNITS:
        return _BYTE_UNITS[unit]
    known = ", ".join([*_COUNT_UNITS, *_BYTE_UNITS])
    raise ValueError(f"unknown unit {unit!r} (one of {known}; GB is 10**9, GiB is 2**30)")


def unit_kind(unit: str) -> str:
    """``"count"`` or ``"bytes"``."""
    unit_factor(unit)
    return "count" if unit in _COUNT_UNITS else "bytes"


def generic_totals(document: Any, capacity_path: str, used_path: str | None, unit: str) -> Totals:
    """One mapped resource of a vendor document, in base units."""
    factor = unit_factor(unit)
    capacity = extract(document, capacity_path) * factor
    used = extract(document, used_path) * factor if used_path is not None else None
    return Totals(capacity, used)
