"""What a config reload changes: which targets keep running, which stop, which start.

A target is *unchanged* when the new config defines it exactly as the running
one (same kind, name and every field of its definition: address, credentials,
links, interval, ...). An unchanged target keeps its task and its collector
(counter baselines, ifIndex maps, tokens, cursors), so it is neither re-polled
at once nor re-seeded. A changed target is restarted with the new definition;
its series carry on (the next poll continues or closes their open segments).
A removed target stops, and those of its series that no remaining target
writes have their open ledger segments ended at the stop time, as a clean
stop does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from agent.config import Config
from agent.scheduler import TargetKey
from collectors.base import Collector, Target

Scheduled = tuple[Collector, Target]


def same_target(a: Target, b: Target) -> bool:
    """Whether two targets are defined identically (field by field; config models compare by value)."""
    if type(a) is not type(b):
        return False
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return all(getattr(a, f.name) == getattr(b, f.name) for f in dataclasses.fields(a))
    return a == b


@dataclass
class Plan:
    keep: list[TargetKey] = field(default_factory=list)
    stop: list[TargetKey] = field(default_factory=list)  # removed, or changed (then also in start)
    start: list[Scheduled] = field(default_factory=list)  # new, or the new definition of a changed one
    retired_series: set[str] = field(default_factory=set)  # written by a stopped target and by no target now

    @property
    def removed(self) -> list[TargetKey]:
        started = {(c.kind, t.name) for c, t in self.start}
        return [key for key in self.stop if key not in started]


def plan(running: Mapping[TargetKey, Scheduled], collectors: Sequence[Collector]) -> Plan:
    """Compare the running targets with those of the freshly built ``collectors``."""
    result = Plan()
    wanted: dict[TargetKey, Scheduled] = {(c.kind, t.name): (c, t) for c in collectors for t in c.targets()}
    for key, (collector, target) in running.items():
        new = wanted.get(key)
        if new is not None and same_target(target, new[1]):
            result.keep.append(key)
        else:
            result.stop.append(key)
    kept = set(result.keep)
    result.start = [scheduled for key, scheduled in wanted.items() if key not in kept]
    still_written = _series(wanted.values())
    result.retired_series = _series(running[key] for key in result.stop) - still_written
    return result


def _series(scheduled: Iterable[Scheduled]) -> set[str]:
    # A collector's unknown() names every ledger series a target writes.
    return {obs.series for collector, target in scheduled for obs in collector.unknown(target)}


def restart_only(old: Config, new: Config) -> tuple[Config, list[str]]:
    """``new`` with the settings that need a restart kept as running, and a log line for each one changed."""
    notes = []
    kept = {}
    for key in ("listen", "data_dir"):
        before, after = getattr(old.agent, key), getattr(new.agent, key)
        if before != after:
            notes.append(f"agent.{key} changed ({before} -> {after}): takes effect after a restart; "
                         f"still using {before}")
            kept[key] = before
    if not kept:
        return new, notes
    return new.model_copy(update={"agent": new.agent.model_copy(update=kept)}), notes
