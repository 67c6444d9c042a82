"""Splitting one fleet over several agents: ``--shard i/n`` with rendezvous hashing.

Every agent of a sharded deployment reads the same config and keeps the
targets it owns. A target's owner is the shard with the highest hash of
(target, shard): deterministic everywhere without coordination, and going
from n to n+1 shards moves only the targets the new shard wins, about 1/(n+1)
of them, where ``hash % n`` would move almost all.

A KPI is evaluated on each shard over the inputs that shard owns; one with no
input on a shard is not evaluated there. The center-wide figure is computed
where the shards' series meet (Prometheus, Thanos, ...): from the per-link
state counters, or by ``sla-agent export --source prometheus`` (README, Scaling).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.config import Config

_SHARD = re.compile(r"(\d+)/(\d+)")
MAX_SHARDS = 1024


@dataclass(frozen=True, slots=True)
class Shard:
    index: int  # 0-based, like Prometheus' hashmod
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, key: str) -> bool:
        return self.count == 1 or owner(key, self.count) == self.index


ALL = Shard(0, 1)


def parse_shard(text: str) -> Shard:
    """``"i/n"`` (0 <= i < n) as a Shard; ValueError with the reason otherwise."""
    match = _SHARD.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r}: give the shard as i/n, e.g. 0/2 (shards are numbered from 0)")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"{text!r}: the number of shards must be between 1 and {MAX_SHARDS}")
    if index >= count:
        raise ValueError(f"{text!r}: shard index {index} is out of range (0 to {count - 1} for {count} shards)")
    return Shard(index, count)


def _score(key: str, index: int) -> int:
    # blake2b, not hash(): Python salts str hashes per process, and every shard must agree.
    digest = hashlib.blake2b(f"{index}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(key: str, count: int) -> int:
    """The shard (0 to count-1) that owns ``key``."""
    return max(range(count), key=lambda index: _score(key, index))


def target_key(kind: str, name: str) -> str:
    """What is hashed for a target: its kind and name (names are unique within a kind only)."""
    return f"{kind}:{name}"


def select(config: "Config", shard: Shard) -> "Config":
    """``config`` with only the targets ``shard`` owns, their links, and the KPIs that read any of them.

    The result is for running only: it is not validated again (a link group
    may be left with no links, and its KPI is then dropped).
    """
    if shard.count == 1:
        return config
    # Each source says which of its targets the shard keeps, the KPI engine what each KPI reads.
    from agent.kpi import plan
    from agent.sources import sources

    def owns(kind: str, name: str) -> bool:
        return shard.owns(target_key(kind, name))

    updates: dict[str, object] = {}
    for spec in sources():
        updates.update(spec.shard(config, owns))
    selected = config.model_copy(update=updates)
    measured = {p.config.id for p in plan(selected) if p.inputs}
    return selected.model_copy(update={"kpis": tuple(k for k in selected.kpis if k.id in measured)})
