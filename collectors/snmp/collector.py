"""The SNMP collector: one target per device, link state and traffic from IF-MIB.

A poll reads only what the KPIs need: three scalars plus eight columns of
each configured link's row, by ifIndex, in a few GET PDUs sent at once. The
naming columns that map link names to ifIndex are walked (GETBULK) only when
they may have changed: first poll, reboot, ifNumber / ifTableLastChange
changed, a link not found or a row vanished, and every ten minutes anyway.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence, TypeVar

from agent.config import Config
from collectors.snmp.config import Link, SnmpDefaults, SnmpDevice
from collectors.snmp.series import (
    link_available as available_series,  # the KPI engine reads these series
)
from collectors.snmp.series import link_up as up_series
from agent.metrics import METRICS
from collectors.base import (
    CollectorError,
    Labels,
    Observation,
    PollResult,
    Sample,
    Target,
    sampler,
)
from collectors.snmp import oids
from collectors.snmp.series import device_answered
from collectors.snmp.counters import (
    LinkBaseline,
    Reading,
    UptimeChange,
    counters_rising,
    link_rates,
    max_plausible_rate,
    uptime_change,
)
from collectors.snmp.interfaces import (
    Interface,
    InterfaceTable,
    admin_up,
    capacity_bytes,
    decode_text,
    find_all,
    line_rate_bytes,
    oper_state,
    selector,
)
from collectors.snmp.session import DeviceSession, Engines, Sessions, Value, import_v3
from collectors.snmp.v2c import Rejections

log = logging.getLogger("collectors.snmp")

REWALK_INTERVAL = 600.0  # safety net: ifAlias edits and speed changes bump no change marker
MISSING_LINK_REWALK = 60.0  # re-walk for a link not found at most this often (a typo must not walk every poll)
WALK_REQUEST_BUDGET = 6  # GETBULK requests budgeted for a walk: 150 rows at 25 per response
POLL_SLACK = 1.0  # seconds on top of the request bounds: scheduling, decoding


@dataclass(frozen=True, slots=True)
class TargetLink:
    """A configured link, the name of the group it belongs to, and its metric labels."""

    link: Link
    group: str
    labels: Labels = ()  # (link, group, device), in agent.metrics' order
    # The ledger series the KPIs read, named once (they are written on every poll).
    up: str = ""
    available: str = ""

    @classmethod
    def of(cls, link: Link, group: str) -> "TargetLink":
        labels = tuple((name, value) if name == "link" else _shared_pair(name, value)
                       for name, value in zip(_LINK_LABELS, (link.name, group, link.device)))
        return cls(link, group, labels, up_series(link.name), available_series(link.name))

    def unknown(self) -> tuple[Observation, Observation]:
        return Observation(self.up, None), Observation(self.available, None)


@dataclass(frozen=True, slots=True)
class SnmpTarget:
    """One SNMP device to poll (implements collectors.base.Target)."""

    name: str
    interval: float
    poll_timeout: float
    device: SnmpDevice  # with snmp.defaults applied: port, version, timeout, retries, interval set
    links: tuple[TargetLink, ...] = ()


def resolve_device(device: SnmpDevice, defaults: SnmpDefaults) -> SnmpDevice:
    """``device`` with every unset field taken from ``snmp.defaults``."""
    return device.model_copy(
        update={
            "port": device.port if device.port is not None else defaults.port,
            "version": device.version or defaults.version,
            "community": device.community if device.community is not None else defaults.community,
            "timeout": device.timeout if device.timeout is not None else defaults.timeout,
            "retries": device.retries if device.retries is not None else defaults.retries,
            "interval": device.interval if device.interval is not None else defaults.interval,
        }
    )


def poll_timeout(device: SnmpDevice, has_links: bool) -> float:
    """Upper bound of one poll of a resolved ``device``, retries included.

    Each request may take timeout x (retries + 1). A device without links
    needs one request; with links: the scalars+rows round (its PDUs go out
    concurrently), a walk, and the rows again after it. Capped at the
    interval so polls never pile up, but never below one request's bound.
    """
    per_request = float(device.timeout or 0) * (int(device.retries or 0) + 1)
    rounds = 2 + WALK_REQUEST_BUDGET if has_links else 1
    floor = per_request + POLL_SLACK
    return min(per_request * rounds + POLL_SLACK, max(float(device.interval or 0), floor))




_LINK_LABELS = METRICS["sla_link_up"].labels
T, U = TypeVar("T"), TypeVar("U")


@functools.lru_cache(maxsize=1 << 14, typed=True)  # typed: 1000 and 1000.0 are written differently
def _shared_pair(first: T, second: U) -> tuple[T, U]:
    """One pair for the links that share it: a label (a device's 24 links, a group's thousands), or
    the (capacity, limit) of one speed (most of a fleet's ports have one of a few)."""
    return first, second


_SCALARS = (oids.SYS_UPTIME, oids.IF_NUMBER, oids.IF_TABLE_LAST_CHANGE)
_UPTIME = sampler("sla_snmp_device_uptime_seconds")
_REJECTED = sampler("sla_snmp_rejected_responses_total")
_RAW_COUNTERS = (
    ("sla_link_receive_bytes_total", oids.IF_HC_IN_OCTETS),
    ("sla_link_transmit_bytes_total", oids.IF_HC_OUT_OCTETS),
    ("sla_link_receive_errors_total", oids.IF_IN_ERRORS),
    ("sla_link_transmit_errors_total", oids.IF_OUT_ERRORS),
    ("sla_link_receive_discards_total", oids.IF_IN_DISCARDS),
    ("sla_link_transmit_discards_total", oids.IF_OUT_DISCARDS),
)


@dataclass(frozen=True, slots=True)
class RowLayout:
    """Where each matched interface's columns sit in the values a poll's GET returns."""

    oids: tuple[oids.Oid, ...]  # every matched row's columns, row after row
    offsets: Mapping[int, int]  # ifIndex -> offset of its first column

    @classmethod
    def of(cls, indices: set[int], columns: Sequence[oids.Column]) -> "RowLayout":
        ordered = sorted(indices)
        return cls(tuple(c.instance(i) for i in ordered for c in columns),
                   {i: n * len(columns) for n, i in enumerate(ordered)})


_NO_ROWS = RowLayout((), {})


@dataclass
class _DeviceState:
    """What the collector remembers about a device between polls."""

    # Whether the interfaces were walked. The table itself is let go once the links
    # are matched (12 MB for 60,000 links): only the next walk's matching reads one.
    walked: bool = False
    layout: RowLayout = _NO_ROWS
    walked_at: float = 0.0
    uptime: Reading | None = None
    if_number: Value | None = None
    last_change: Value | None = None
    matches: dict[str, int] = field(default_factory=dict)  # link name -> ifIndex
    speeds: dict[str, tuple[float, float]] = field(default_factory=dict)  # link -> (capacity, max plausible rate)
    baselines: dict[str, LinkBaseline] = field(default_factory=dict)
    # Links already logged, so a persistent condition is logged once.
    missing: set[str] = field(default_factory=set)
    ambiguous: set[str] = field(default_factory=set)
    no_speed: set[str] = field(default_factory=set)


def columns_for(link_metrics: Sequence[str]) -> tuple[oids.Column, ...]:
    """The row columns a poll reads: state always, then what ``snmp.link_metrics`` asks for.

    ifOperStatus comes first (the collector reads it at the row's offset).
    """
    columns = [oids.IF_OPER_STATUS, oids.IF_ADMIN_STATUS]
    if "traffic" in link_metrics:
        columns += [oids.IF_HC_IN_OCTETS, oids.IF_HC_OUT_OCTETS]
    if "errors" in link_metrics:
        columns += [oids.IF_IN_ERRORS, oids.IF_OUT_ERRORS, oids.IF_IN_DISCARDS, oids.IF_OUT_DISCARDS]
    return tuple(columns)


def _int(value: Value | None) -> int | None:
    return value if isinstance(value, int) else None


class SnmpCollector:
    """Polls SNMP devices for link state, capacity and traffic (collectors.base.Collector)."""

    kind = "snmp"

    def __init__(self, config: Config, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        links: dict[str, list[TargetLink]] = {}
        for group in config.link_groups:
            for link in group.links:
                links.setdefault(link.device, []).append(TargetLink.of(link, group.name))
        # The columns polled for every link: what the configured metrics need (see README).
        wanted = config.snmp.link_metrics
        self._columns = columns_for(wanted)
        position = {column.name: k for k, column in enumerate(self._columns)}
        self._rx, self._tx = position.get("ifHCInOctets"), position.get("ifHCOutOctets")
        self._counters = tuple((metric, position[column.name]) for metric, column in _RAW_COUNTERS
                               if column.name in position)
        self._rates = "rates" in wanted
        targets = []
        for device in config.snmp.devices:
            resolved = resolve_device(device, config.snmp.defaults)
            own = tuple(links.get(device.name, ()))
            targets.append(
                SnmpTarget(
                    name=device.name,
                    interval=float(resolved.interval or 0),
                    poll_timeout=poll_timeout(resolved, bool(own)),
                    device=resolved,
                    links=own,
                )
            )
        self._targets = tuple(targets)
        if any(target.device.version == "v3" for target in targets):
            import_v3()  # under way while the first polls start
        self._states: dict[str, _DeviceState] = {}
        # Outlives the engines (re-created per event loop), so the counters only grow.
        self._rejections = Rejections()
        self._sessions = Sessions(self._rejections)

    def targets(self) -> Sequence[SnmpTarget]:
        """One target per configured device, links or not."""
        return self._targets

    def shared_samples(self) -> tuple[Sample, ...]:
        """What belongs to no one device: replies discarded, by reason."""
        return tuple(_REJECTED(reason, value=count) for reason, count in self._rejections.counts.items())

    def unknown(self, target: Target) -> tuple[Observation, ...]:
        """Every link series of ``target``, and its answered series, as None (unknown)."""
        links = target.links if isinstance(target, SnmpTarget) else ()
        return (Observation(device_answered(target.name), None), *(obs for tl in links for obs in tl.unknown()))

    @property
    def _engines(self) -> Engines | None:  # the engines of the current loop (tests look at their sockets)
        return self._sessions.engines

    async def close(self) -> None:
        """Close the SNMP engines (their sockets); the collector may be polled again later."""
        self._sessions.close()

    async def poll(self, target: Target) -> PollResult:
        """Poll one device once, within ``target.poll_timeout``; CollectorError on any failure."""
        if not isinstance(target, SnmpTarget):
            raise CollectorError(f"not an SNMP target: {target.name}")
        try:
            async with asyncio.timeout(target.poll_timeout):
                return await self._poll(target)
        except TimeoutError:
            device = target.device
            raise CollectorError(
                f"{device.address}:{device.port}: poll did not finish within {target.poll_timeout:.1f}s"
            ) from None

    async def _poll(self, target: SnmpTarget) -> PollResult:
        session = await self._sessions.of(target.name, target.device)
        state = self._states.setdefault(target.name, _DeviceState())
        if not target.links:
            values = await session.get([oids.SYS_UPTIME])
            reading = Reading(self._clock(), self._uptime(values, session))
            discontinuities = self._note_uptime(target, state, uptime_change(state.uptime, reading), reading)
            return PollResult((Observation(device_answered(target.name), 1.0),),
                              (self._uptime_sample(target, reading),), discontinuities)

        polled = await session.get_values(_SCALARS + state.layout.oids)
        uptime = Reading(self._clock(), self._uptime_of(polled[0], session))
        if_number, last_change = polled[1], polled[2]
        layout, rows = state.layout, polled[3:]
        rows_at = uptime.at
        # The uptime verdict, once, before any walk: a reboot (uptime went back, or
        # grew by clearly less than the time elapsed) may have renumbered ifIndex,
        # so it triggers the walk, and the same verdict re-seeds the rates. The
        # counters compared are the rows read just now at the indices the baselines
        # were taken from.
        # The counters only tell a wrap from a reboot when sysUpTime went back: read them then.
        went_back = state.uptime is not None and uptime.value < state.uptime.value
        rising = counters_rising(self._counter_pairs(target, state, layout, rows)) if went_back else True
        change = uptime_change(state.uptime, uptime, rising)
        reasons = self._walk_reasons(target, state, uptime, change, if_number, last_change)
        if not reasons:
            # A configured row that answers noSuchInstance: the interface is
            # gone or was renumbered without the change markers moving.
            vanished = sorted(i for i, at in layout.offsets.items() if not isinstance(rows[at], int))
            if vanished:
                reasons.append(f"ifIndex {vanished} vanished")
        if reasons:
            await self._walk(target, state, session, reasons, uptime.at, _int(if_number))
            layout = state.layout
            rows = await session.get_values(layout.oids)
            rows_at = self._clock()
        # Remembered only now, so that a walk that failed is retried next poll.
        state.if_number, state.last_change = if_number, last_change

        discontinuities = self._note_uptime(target, state, change, uptime)
        observations: list[Observation] = [Observation(device_answered(target.name), 1.0)]
        samples: list[Sample] = [self._uptime_sample(target, uptime)]
        for tl in target.links:
            discontinuities += self._link(target, state, tl, layout, rows, rows_at, change, observations, samples)
        return PollResult(tuple(observations), tuple(samples), discontinuities)

    # -- scalars and walking -------------------------------------------------

    @staticmethod
    def _uptime(values: Mapping[oids.Oid, Value], session: DeviceSession) -> int:
        return SnmpCollector._uptime_of(values.get(oids.SYS_UPTIME), session)

    @staticmethod
    def _uptime_of(ticks: Value | None, session: DeviceSession) -> int:
        if not isinstance(ticks, int):
            raise CollectorError(f"{session.where}: sysUpTime.0 not returned ({getattr(ticks, 'value', ticks)})")
        return ticks

    def _note_uptime(self, target: SnmpTarget, state: _DeviceState, change: UptimeChange, now: Reading) -> int:
        """Remember the uptime; log and count a reboot."""
        previous, state.uptime = state.uptime, now
        if change is UptimeChange.REBOOT:
            log.info(
                "%s: device restarted (sysUpTime %ss -> %ss): counters re-seeded",
                target.name, previous.value // 100 if previous else "?", now.value // 100,
            )
            return 1
        if change is UptimeChange.WRAPPED:
            log.info("%s: sysUpTime wrapped past 2**32 ticks; not a restart", target.name)
        return 0

    @staticmethod
    def _uptime_sample(target: SnmpTarget, uptime: Reading) -> Sample:
        return _UPTIME(target.name, value=uptime.value / 100.0)

    def _walk_reasons(
        self,
        target: SnmpTarget,
        state: _DeviceState,
        uptime: Reading,
        change: UptimeChange,
        if_number: Value,
        last_change: Value,
    ) -> list[str]:
        if not state.walked:
            return ["first poll"]
        reasons = []
        if change is UptimeChange.REBOOT:
            reasons.append("device restarted")
        elif change is UptimeChange.WRAPPED:
            reasons.append("sysUpTime wrapped")  # not a restart, but cheap to confirm (once in 497 days)
        if state.if_number is not None and if_number != state.if_number:
            reasons.append("ifNumber changed")
        if isinstance(state.last_change, int) and last_change != state.last_change:
            reasons.append("ifTableLastChange changed")
        missing = any(tl.link.name not in state.matches for tl in target.links)
        if missing and uptime.at - state.walked_at >= MISSING_LINK_REWALK:
            reasons.append("a link was not found")
        if uptime.at - state.walked_at >= REWALK_INTERVAL:
            reasons.append("periodic refresh")
        return reasons

    async def _walk(
        self, target: SnmpTarget, state: _DeviceState, session: DeviceSession, reasons: list[str], now: float,
        if_number: int | None,
    ) -> None:
        selectors = {selector(tl.link)[0] for tl in target.links}
        columns = [oids.SELECTOR_COLUMNS[s] for s in ("if_name", "if_descr", "if_alias") if s in selectors]
        # ifHighSpeed even when every link has a contracted capacity: the line
        # rate is what bounds a plausible counter rate.
        columns.append(oids.IF_HIGH_SPEED)
        walked = await session.walk_columns([c.oid for c in columns], if_number)
        by_name = {c.name: _by_index(walked[c.oid]) for c in columns}

        def texts(column: oids.Column) -> dict[int, str]:
            return {i: decode_text(v) for i, v in by_name.get(column.name, {}).items() if isinstance(v, bytes)}

        table = InterfaceTable.from_columns(
            names=texts(oids.IF_NAME),
            descrs=texts(oids.IF_DESCR),
            aliases=texts(oids.IF_ALIAS),
            high_speeds={i: v for i, v in by_name.get("ifHighSpeed", {}).items() if isinstance(v, int)},
        )
        state.walked, state.walked_at = True, now
        log.debug("%s: walked %d interfaces (%s)", target.name, len(table), ", ".join(reasons))
        self._match(target, state, table)

    def _match(self, target: SnmpTarget, state: _DeviceState, table: InterfaceTable) -> None:
        """Map each link to its ifIndex in the fresh table; log what changed, once."""
        for tl in target.links:
            name = tl.link.name
            field_name, wanted = selector(tl.link)
            found = find_all(table, tl.link)
            if not found:
                state.matches.pop(name, None)
                if name not in state.missing:
                    state.missing.add(name)
                    log.warning(
                        "%s: link %s: no interface with %s=%r; its state is unknown",
                        target.name, name, field_name, wanted,
                    )
                continue
            if name in state.missing:
                state.missing.discard(name)
                log.info(
                    "%s: link %s: interface %s=%r found (ifIndex %d)",
                    target.name, name, field_name, wanted, found[0].index,
                )
            if len(found) > 1 and name not in state.ambiguous:
                state.ambiguous.add(name)
                log.warning(
                    "%s: link %s: %d interfaces have %s=%r; using the lowest ifIndex %d",
                    target.name, name, len(found), field_name, wanted, found[0].index,
                )
            old = state.matches.get(name)
            if old is not None and old != found[0].index:
                log.info("%s: link %s: ifIndex changed %d -> %d", target.name, name, old, found[0].index)
            state.matches[name] = found[0].index
            self._note_speed(target, state, tl.link, table.rows.get(found[0].index))
        state.layout = RowLayout.of(set(state.matches.values()), self._columns)

    @staticmethod
    def _note_speed(target: SnmpTarget, state: _DeviceState, link: Link, interface: Interface | None) -> None:
        """A link's capacity and highest plausible rate, known until the next walk."""
        capacity = capacity_bytes(link, interface) or 0.0
        # The larger of line rate and contract: a port may burst above its
        # contract, and virtual interfaces (lo, VLANIF, trunks) often report
        # a nominal ifHighSpeed below what they actually carry.
        limit = max_plausible_rate(max(line_rate_bytes(interface) or 0.0, link.capacity or 0.0) or None)
        state.speeds[link.name] = _shared_pair(capacity, limit)
        if capacity == 0.0 and link.name not in state.no_speed:
            state.no_speed.add(link.name)
            log.warning(
                "%s: link %s: ifHighSpeed is 0 or absent and no capacity is configured; capacity 0",
                target.name, link.name,
            )
        elif capacity > 0.0:
            state.no_speed.discard(link.name)

    # -- per link ------------------------------------------------------------

    def _counter_pairs(
        self, target: SnmpTarget, state: _DeviceState, layout: RowLayout, rows: Sequence[Value]
    ) -> list[tuple[int, int]]:
        """(previous, current) HC octet counters of links read from the same ifIndex as last time."""
        if self._rx is None or self._tx is None:
            return []
        pairs = []
        for tl in target.links:
            index, base = state.matches.get(tl.link.name), state.baselines.get(tl.link.name)
            at = layout.offsets.get(index) if index is not None else None
            if at is None or base is None or base.if_index != index:
                continue
            for before, column in ((base.rx, self._rx), (base.tx, self._tx)):
                now = _int(rows[at + column])
                if before is not None and now is not None:
                    pairs.append((before, now))
        return pairs

    def _link(
        self,
        target: SnmpTarget,
        state: _DeviceState,
        tl: TargetLink,
        layout: RowLayout,
        rows: Sequence[Value],
        at: float,
        change: UptimeChange,
        observations: list[Observation],
        samples: list[Sample],
    ) -> int:
        """Add one link's observations and samples; return its discontinuities (0 or 1)."""
        link = tl.link
        index = state.matches.get(link.name)
        offset = layout.offsets.get(index) if index is not None else None
        oper = _int(rows[offset]) if offset is not None else None  # ifOperStatus is the first column
        if index is None or offset is None or oper is None:
            observations.extend(tl.unknown())
            return 0
        capacity, limit = state.speeds.get(link.name, (0.0, max_plausible_rate(None)))
        up = oper_state(oper)
        available = None if up is None else capacity * up
        observations += [Observation(tl.up, up), Observation(tl.available, available)]

        labels = tl.labels
        if up is not None:
            samples.append(Sample("sla_link_up", labels, up))
        admin = admin_up(_int(rows[offset + 1]))
        if admin is not None:
            samples.append(Sample("sla_link_admin_up", labels, admin))
        samples.append(Sample("sla_link_capacity_bytes_per_second", labels, capacity))
        for metric, column in self._counters:
            value = rows[offset + column]
            if isinstance(value, int):
                samples.append(Sample(metric, labels, value))  # an int, as read: written exactly
        if self._rx is None or self._tx is None:
            return 0
        rx, tx = _int(rows[offset + self._rx]), _int(rows[offset + self._tx])
        if rx is None and tx is None:
            state.baselines.pop(link.name, None)
            return 0
        rates = link_rates(
            state.baselines.get(link.name),
            LinkBaseline(index, at, rx, tx),
            limit,
            rebooted=change is UptimeChange.REBOOT,
        )
        state.baselines[link.name] = rates.baseline
        if self._rates:
            if rates.rx is not None:
                samples.append(Sample("sla_link_receive_bytes_per_second", labels, rates.rx))
            if rates.tx is not None:
                samples.append(Sample("sla_link_transmit_bytes_per_second", labels, rates.tx))
        if rates.discontinuity:
            log.info(
                "%s: link %s: counter discontinuity (cleared, implausible, or interface changed)",
                target.name, link.name,
            )
        return int(rates.discontinuity)


def _by_index(column: Mapping[oids.Oid, Value]) -> dict[int, Value]:
    """``{(ifIndex,): value}`` -> ``{ifIndex: value}``; rows with a longer index are not IF-MIB's."""
    return {suffix[0]: value for suffix, value in column.items() if len(suffix) == 1}

