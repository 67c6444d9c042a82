"""Counter baselines kept in the ledger, so an input failure while the agent was stopped is not missed.

A ``counter_increase`` row (upsInputLineBads) is judged against the counter's
value at the previous poll. Held only in memory, the first poll after a restart
would only set the baseline, and a failure counted by the card meanwhile would
be lost. The baselines are kept as a ledger cursor per unit
(``power:<unit>:baselines``, JSON ``{"<dotted OID>": value}``), keyed by OID so
that a profile edited between runs drops what no longer applies. The first
poll after a restart then sees the increase: a fault at that poll (its time is
the poll's; the card does not say when).

A ledger that cannot be read or written costs only that: the poll goes on with
the baselines in memory, and one warning is logged per unit.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from collectors.power.judge import Baselines
from collectors.power.profile import Profile

log = logging.getLogger(__name__)


def cursor_name(unit: str) -> str:
    return f"power:{unit}:baselines"


def encode(profile: Profile, baselines: Baselines) -> str:
    return json.dumps({".".join(map(str, profile.checks[i].oid)): v for i, v in sorted(baselines.items())},
                      sort_keys=True)


def decode(profile: Profile, text: str | None) -> dict[int, int]:
    """The baselines by check index; anything unreadable, or of an OID the profile no longer counts, is dropped."""
    try:
        stored = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(stored, dict):
        return {}
    out: dict[int, int] = {}
    for index, check in enumerate(profile.checks):
        value = stored.get(".".join(map(str, check.oid)))
        if check.test == "increase" and isinstance(value, int) and not isinstance(value, bool):
            out[index] = value
    return out


READ_WAIT = 2.0  # seconds the first poll of a unit waits for its baselines (a locked ledger: it goes on without)


class BaselineStore:
    """Each unit's baselines: read from the ledger once, written back in the background when they change.

    A poll never waits on a write: a ledger held locked by another process would otherwise make the
    poll overrun its timeout and the unit read as unknown.
    """

    def __init__(self, ledger: Any) -> None:
        self._ledger = ledger  # None: memory only (a collector built without a ledger)
        self._known: dict[str, Baselines] = {}
        self._pending: dict[str, tuple[str, float]] = {}  # unit -> the newest (text, time) not yet written
        self._writers: dict[str, asyncio.Task[None]] = {}
        self._warned: set[str] = set()

    async def get(self, unit: str, profile: Profile) -> Baselines:
        if unit not in self._known:
            text = None
            if self._ledger is not None:
                try:
                    text = await asyncio.wait_for(self._io(unit, "read", self._ledger.get_cursor, cursor_name(unit)),
                                                  READ_WAIT)
                except TimeoutError:
                    self._warn(unit, "read", f"no answer within {READ_WAIT:g}s")
            self._known[unit] = decode(profile, text)
        return self._known[unit]

    def put(self, unit: str, profile: Profile, baselines: Baselines, at: float) -> None:
        if baselines == self._known.get(unit):
            return  # the usual poll: the counter did not move
        self._known[unit] = baselines
        if self._ledger is None:
            return
        self._pending[unit] = (encode(profile, baselines), at)
        if unit not in self._writers:
            self._writers[unit] = asyncio.get_running_loop().create_task(self._write(unit))

    async def _write(self, unit: str) -> None:
        try:
            while unit in self._pending:
                text, at = self._pending.pop(unit)
                await self._io(unit, "write", self._ledger.set_cursor, cursor_name(unit), text, at)
        finally:
            self._writers.pop(unit, None)

    async def close(self, wait: float = 5.0) -> None:
        """Let the writes under way finish (bounded), so a clean stop keeps the last baselines."""
        if self._writers:
            await asyncio.wait(list(self._writers.values()), timeout=wait)

    async def _io(self, unit: str, what: str, call: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(call, *args)
        except Exception as exc:  # a locked or broken ledger: the in-memory baselines still serve
            self._warn(unit, what, str(exc))
            return None

    def _warn(self, unit: str, what: str, why: str) -> None:
        if unit not in self._warned:
            self._warned.add(unit)
            log.warning("power unit %s: cannot %s its counter baselines in the ledger (%s); an input failure "
                        "while the agent is stopped may be missed", unit, what, why)


__all__ = ["BaselineStore", "cursor_name", "decode", "encode"]
