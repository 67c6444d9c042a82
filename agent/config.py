"""YAML configuration -> frozen, validated models.

Every problem is reported as ``FILE: path.to.key: what is wrong``, all at
once, so an operator fixes a config in one pass. Secrets (SNMP communities,
v3 keys) are given as ``${ENV_VAR}``, ``{file: PATH}`` or ``{env: NAME}`` and
held as SecretStr, so they never show in reprs, logs or errors.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, Sequence
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from agent import units
from agent.catalogue import BY_ID, KpiDefinition
from agent.config_keys import error_message
from agent.schema import (
    BitRate,
    ConfigError,
    Duration,
    Items,
    ListenAddress,
    Listens,
    Model,
    Name,
    Secret,
    TimeZoneName,
    below_minimum,
    duration_at_least,
)
from agent.yamlfile import read_yaml
from collectors.cloud.config import (
    CloudConfig,
    check_clouds,
)
from collectors.sms.config import SmsGateway, check_gateways


# Lower bounds of the durations that set how often the agent works, and why: below
# them it would load a source or itself without measuring anything better, or read
# healthy sources as unknown. (seconds, what a shorter one would break)
MIN_KPI_INTERVAL = (1.0, "each evaluation reads the month so far of every KPI from the ledger")
MIN_SNMP_INTERVAL = (1.0, "each poll walks the device's interface tables, which devices refresh every few seconds")
MIN_SNMP_TIMEOUT = (0.1, "a busy device's SNMP agent takes tens of milliseconds to answer; shorter reads it unknown")
MIN_CLOUD_INTERVAL = (10.0, "each poll authenticates and reads every region's inventory, and capacity changes in days")
MIN_CLOUD_TIMEOUT = (1.0, "one poll is several HTTPS requests per region")
MIN_SMS_INTERVAL = (1.0, "each poll reads the gateway's delivery-record feed from its cursor; nothing is missed between polls")
MIN_SMS_TIMEOUT = (1.0, "one poll is one or more HTTPS requests")
MIN_CANARY_INTERVAL = (10.0, "each probe sends a real text message")
MIN_CANARY_TIMEOUT = (1.0, "a delivery report takes seconds to come back; shorter fails every probe")

KpiInterval = Annotated[Duration, duration_at_least(*MIN_KPI_INTERVAL)]
SnmpInterval = Annotated[Duration, duration_at_least(*MIN_SNMP_INTERVAL)]
SnmpTimeout = Annotated[Duration, duration_at_least(*MIN_SNMP_TIMEOUT)]


def _shard_text(text: str | None) -> str | None:
    if text is not None:
        from agent.sharding import parse_shard

        return str(parse_shard(text))
    return text


def _relative_to_config(path: Path | None, info: ValidationInfo) -> Path | None:
    """A path written in the config, relative to the config file's directory (as secret files are)."""
    if path is None or path.is_absolute():
        return path
    return Path((info.context or {}).get("base_dir", Path.cwd())) / path


class AgentSettings(Listens, Model):
    listen: ListenAddress = "127.0.0.1:9877"
    data_dir: Path = Path("data")
    timezone: TimeZoneName = "Asia/Shanghai"
    # How often month-to-date KPI figures are recomputed from the ledger.
    kpi_interval: KpiInterval = 15.0
    # TLS and basic auth of the HTTP endpoints (exporter-toolkit format; agent/webconfig.py).
    web_config_file: Annotated[Path | None, AfterValidator(_relative_to_config)] = None
    # Bounds on the HTTP listener (agent/web.py): open connections, and how long one
    # may sit without a request in progress (never sending one counts too).
    max_connections: int = Field(default=256, ge=8, le=65536)
    idle_timeout: Duration = Field(default=60.0, gt=0, le=3600)
    # This agent's part of a sharded fleet, "i/n" (agent/sharding.py); `run --shard` overrides it.
    shard: Annotated[str | None, AfterValidator(_shard_text)] = None


    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


AuthProtocol = Literal["md5", "sha", "sha224", "sha256", "sha384", "sha512"]
PrivProtocol = Literal["des", "3des", "aes", "aes128", "aes192", "aes256", "aes192c", "aes256c"]


class SnmpDefaults(Model):
    port: int = Field(default=161, ge=1, le=65535)
    version: Literal["v2c", "v3"] = "v2c"
    community: Secret | None = None
    timeout: SnmpTimeout = 2.0
    retries: int = Field(default=1, ge=0, le=10)
    interval: SnmpInterval = 30.0


class SnmpDevice(Model):
    """One SNMP agent; unset fields fall back to ``snmp.defaults``."""

    name: Name
    address: str
    port: int | None = Field(None, ge=1, le=65535)
    version: Literal["v2c", "v3"] | None = None
    community: Secret | None = None
    user: str | None = None
    auth_protocol: AuthProtocol | None = None
    auth_key: Secret | None = None
    priv_protocol: PrivProtocol | None = None
    priv_key: Secret | None = None
    context: str = ""
    timeout: SnmpTimeout | None = None
    retries: int | None = Field(None, ge=0, le=10)
    interval: SnmpInterval | None = None

    @field_validator("auth_key", "priv_key")
    @classmethod
    def _v3_key_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 8:
            raise ValueError("SNMPv3 keys must be at least 8 characters")
        return value


LinkMetric = Literal["traffic", "errors", "rates"]


class SnmpSettings(Model):
    defaults: SnmpDefaults = SnmpDefaults()
    # Polls in flight at once across all devices.
    max_concurrency: int = Field(default=64, ge=1, le=4096)
    # What is read for each link besides its state (ifOperStatus, ifAdminStatus): each costs
    # columns on every poll of every link, so only what is asked for is polled.
    link_metrics: Items[LinkMetric] = ("traffic", "errors")
    devices: Items[SnmpDevice] = ()

    @field_validator("link_metrics")
    @classmethod
    def _rates_need_traffic(cls, metrics: tuple[str, ...]) -> tuple[str, ...]:
        if "rates" in metrics and "traffic" not in metrics:
            raise ValueError("rates are computed from the traffic counters: add traffic")
        return metrics


class Link(Model):
    """An interface of a device, chosen by name, never by ifIndex (it changes on reboot)."""

    name: Name
    device: str
    if_name: str | None = None
    if_descr: str | None = None
    if_alias: str | None = None
    # Contracted capacity; overrides ifHighSpeed when given.
    capacity: BitRate | None = None

    @model_validator(mode="after")
    def _one_selector(self) -> "Link":
        chosen = [f for f in ("if_name", "if_descr", "if_alias") if getattr(self, f) is not None]
        if len(chosen) != 1:
            raise ValueError("give exactly one of if_name, if_descr, if_alias to choose the interface")
        return self


class LinkGroup(Model):
    name: Name
    description: str = ""
    links: Items[Link]

    @field_validator("links")
    @classmethod
    def _not_empty(cls, links: tuple[Link, ...]) -> tuple[Link, ...]:
        if not links:
            raise ValueError("a link group needs at least one link")
        return links


class KpiConfig(Model):
    """A KPI to measure: a catalogue id plus its source; any catalogue field may be overridden."""

    id: Name
    link_group: str | None = None  # for link KPIs: the group measured
    clouds: Items[str] | None = None  # for cloud KPIs: the clouds summed (default: all)
    gateways: Items[str] | None = None  # for SMS KPIs: the gateways counted (default: all)
    name: str | None = None
    name_en: str | None = None
    category: tuple[str, str] | None = None
    kind: Literal["availability", "capacity_sum"] | None = None
    unit: Literal["ratio", "bytes_per_second", "bytes", "seconds", "count"] | None = None
    target: str | None = None
    objective: float | None = Field(None, gt=0, le=1)
    # Below this share of the period with data the figure is "insufficient data".
    min_coverage: float = Field(0.9, ge=0, le=1)


class MaintenanceWindow(Model):
    """Excluded time: a one-off ``start``/``end`` or a recurring ``rrule`` + ``duration``.

    Scope: the listed ``links`` and every link of the listed ``link_groups``
    (either or both); with neither, everything (every link, cloud and SMS KPI).
    """

    name: str
    link_groups: Items[str] | None = None
    links: Items[str] | None = None

    @field_validator("link_groups", "links")
    @classmethod
    def _not_empty(cls, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if names is not None and not names:
            raise ValueError("an empty list scopes the window to nothing: name at least one, or leave the key out "
                             "(no links and no link_groups: a window for everything)")
        return names

    @property
    def is_global(self) -> bool:
        return self.link_groups is None and self.links is None

    def applies_to(self, group: str | None, link: str | None) -> bool:
        """Whether the window covers ``link`` of ``group`` (None: a KPI not about one link / group)."""
        return (self.is_global or (group is not None and group in (self.link_groups or ()))
                or (link is not None and link in (self.links or ())))
    start: datetime | None = None
    end: datetime | None = None
    rrule: str | None = None
    dtstart: datetime | None = None
    duration: Duration | None = None
    timezone: TimeZoneName | None = None

    @model_validator(mode="after")
    def _shape(self) -> "MaintenanceWindow":
        if self.rrule is None:
            if self.start is None or self.end is None:
                raise ValueError("a one-off window needs start and end (or give rrule and duration)")
            if self.duration is not None or self.dtstart is not None:
                raise ValueError("duration and dtstart belong to recurring windows (rrule)")
            if (self.start.tzinfo is None) != (self.end.tzinfo is None):
                raise ValueError("start and end must both have a UTC offset or both have none")
            if self.end <= self.start:
                raise ValueError("end must be after start")
        else:
            if self.duration is None or self.dtstart is None:
                raise ValueError("a recurring window needs rrule, dtstart and duration")
            if self.start is not None or self.end is not None:
                raise ValueError("start/end are for one-off windows; a recurring one uses dtstart")
            try:
                rule = parse_rrule(self.rrule, self.dtstart, ZoneInfo(self.timezone or "UTC"))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"rrule {self.rrule!r} is not valid RFC 5545: {exc}") from None
            if getattr(rule, "_interval", 1) < 1:
                raise ValueError(f"rrule {self.rrule!r}: INTERVAL must be at least 1")
        return self


_UNTIL_UTC = re.compile(r"UNTIL=(\d{8}T\d{6})Z", re.I)


def parse_rrule(text: str, dtstart: datetime, zone: ZoneInfo) -> rrule:
    """An RRULE expanded in wall-clock time of ``zone`` (naive datetimes).

    Rules are expanded on naive wall-clock times so "02:00 every Sunday" stays
    02:00 across DST changes; a UTC ``UNTIL=...Z`` (the RFC 5545 form for a
    zoned start) is converted to the same wall clock.
    """

    def local_until(match: re.Match[str]) -> str:
        utc = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=ZoneInfo("UTC"))
        return "UNTIL=" + utc.astimezone(zone).strftime("%Y%m%dT%H%M%S")

    naive_start = dtstart.astimezone(zone).replace(tzinfo=None) if dtstart.tzinfo else dtstart
    rule = rrulestr(_UNTIL_UTC.sub(local_until, text), dtstart=naive_start)
    if not isinstance(rule, rrule):
        raise ValueError("give a single RRULE")
    return rule


class Config(Model):
    agent: AgentSettings = AgentSettings()
    snmp: SnmpSettings = SnmpSettings()
    link_groups: Items[LinkGroup] = ()
    clouds: Items[CloudConfig] = ()
    sms: Items[SmsGateway] = ()
    kpis: Items[KpiConfig] = ()
    maintenance: Items[MaintenanceWindow] = ()

    def device(self, name: str) -> SnmpDevice:
        return next(d for d in self.snmp.devices if d.name == name)

    def link_group(self, name: str) -> LinkGroup:
        return next(g for g in self.link_groups if g.name == name)


@dataclass(frozen=True)
class _Checkable:
    """What the cross-checks look at: the items that validated, at their original index.

    For a config that validated this is all of it. For one that did not, an
    entry that failed is ``None`` (its own errors are already reported) and a
    section that failed as a whole is ``None``; a set of names is ``None``
    when an entry's name cannot be read at all, so a reference to it is not
    called dangling. The checks skip whatever they cannot judge: a problem
    they report is real, never a consequence of another one.
    """

    defaults: SnmpDefaults | None
    devices: Sequence[SnmpDevice | None]
    device_names: frozenset[str] | None
    groups: Sequence[LinkGroup | None]
    links: Sequence[tuple[str, Link]]  # (key path, link) of every link that validated
    link_names: frozenset[str] | None
    group_names: frozenset[str] | None
    kpis: Sequence[KpiConfig | None]
    clouds: Sequence[Any] | None
    cloud_names: frozenset[str] | None
    any_clouds: bool
    sms: Sequence[SmsGateway] | None
    gateway_names: frozenset[str] | None
    any_sms: bool
    any_kpis: bool
    maintenance: Sequence[MaintenanceWindow | None]
    entry_problems: Sequence[tuple[str, str]] = ()  # model checks of entries with other wrong fields

    @classmethod
    def of(cls, config: Config) -> "_Checkable":
        links = [
            (f"link_groups[{g}].links[{l}]", link)
            for g, group in enumerate(config.link_groups)
            for l, link in enumerate(group.links)
        ]
        return cls(
            defaults=config.snmp.defaults,
            devices=config.snmp.devices,
            device_names=frozenset(d.name for d in config.snmp.devices),
            groups=config.link_groups,
            links=links,
            link_names=frozenset(link.name for _, link in links),
            group_names=frozenset(g.name for g in config.link_groups),
            kpis=config.kpis,
            clouds=config.clouds,
            cloud_names=frozenset(c.name for c in config.clouds),
            any_clouds=bool(config.clouds),
            sms=config.sms,
            gateway_names=frozenset(g.name for g in config.sms),
            any_sms=bool(config.sms),
            any_kpis=bool(config.kpis),
            maintenance=config.maintenance,
        )

    @classmethod
    def of_invalid(
        cls, data: dict[str, Any], context: dict[str, Any], errors: Sequence[tuple[Any, ...]]
    ) -> "_Checkable":
        """Each section, and each entry of a list, validated on its own.

        ``errors`` are the locations of the schema errors. An entry whose own
        name is wrong makes its list's names unknown (the operator may have
        meant the name a reference uses). An entry with other wrong fields is
        validated again without them: its model check runs if it reads none
        of them (reported in ``entry_problems``), and the cross-checks use it
        if they read none of them.
        """
        entry_problems: list[tuple[str, str]] = []

        def one(kind: Any, raw: Any) -> Any:
            try:
                return TypeAdapter(kind).validate_python(raw, context=context)
            except ValidationError:
                return None

        def entry(kind: type[Model], raw: Any, *where: Any) -> Any:
            try:
                return kind.model_validate(raw, context=context)
            except ValidationError:
                pass
            wrong = {loc[len(where)] for loc in errors if len(loc) > len(where) and loc[: len(where)] == where}
            if not isinstance(raw, dict) or not wrong or not all(isinstance(w, str) for w in wrong):
                return None
            try:
                rest = kind.model_validate({k: v for k, v in raw.items() if k not in wrong}, context=context)
            except ValidationError as exc:
                if wrong.isdisjoint(_MODEL_CHECKED[kind]):
                    for error in exc.errors(include_url=False, include_input=False):
                        if not error["loc"]:  # the model's own check, on fields that are all right
                            entry_problems.append((_format_loc(where, data), error["msg"].removeprefix("Value error, ")))
                return None
            return rest if wrong.isdisjoint(_CROSS_CHECKED[kind]) else None

        absent = object()

        def entries(raw: Any) -> list[Any] | None:
            """A list section's entries: [] if absent, None if it is not a list."""
            if raw is absent:
                return []
            return list(raw) if isinstance(raw, list) else None

        def names(raw: list[Any] | None, *where: str | int) -> frozenset[str] | None:
            if raw is None:
                return None
            for loc in errors:
                # (where..., index, [union tag,] "name"): an entry's name itself is wrong.
                if loc[: len(where)] == where and "name" in loc[len(where) + 1 : len(where) + 3]:
                    return None
            found = [item.get("name") if isinstance(item, dict) else None for item in raw]
            named = [n for n in found if isinstance(n, str)]
            return frozenset(named) if len(named) == len(found) else None

        snmp = data.get("snmp", {})
        if isinstance(snmp, dict):
            defaults = one(SnmpDefaults, snmp.get("defaults", {}))
            raw_devices = entries(snmp.get("devices", absent))
        else:
            defaults, raw_devices = None, None
        devices = [entry(SnmpDevice, raw, "snmp", "devices", d) for d, raw in enumerate(raw_devices or [])]
        raw_groups = entries(data.get("link_groups", absent))
        groups: list[LinkGroup | None] = []
        links: list[tuple[str, Link]] = []
        link_names: set[str] | None = None if raw_groups is None else set()
        for g, raw_group in enumerate(raw_groups or []):
            groups.append(one(LinkGroup, raw_group))
            raw_links = raw_group.get("links") if isinstance(raw_group, dict) else None
            in_group = names(raw_links if isinstance(raw_links, list) else None, "link_groups", g, "links")
            link_names = None if link_names is None or in_group is None else link_names | in_group
            for l, raw_link in enumerate(raw_links if isinstance(raw_links, list) else []):
                link = entry(Link, raw_link, "link_groups", g, "links", l)
                if link is not None:
                    links.append((f"link_groups[{g}].links[{l}]", link))
        raw_kpis = entries(data.get("kpis", absent))
        raw_clouds, raw_sms = entries(data.get("clouds", absent)), entries(data.get("sms", absent))
        raw_windows = entries(data.get("maintenance", absent))
        return cls(
            defaults=defaults,
            devices=devices,
            device_names=names(raw_devices, "snmp", "devices"),
            groups=groups,
            links=links,
            link_names=None if link_names is None else frozenset(link_names),
            group_names=names(raw_groups, "link_groups"),
            kpis=[entry(KpiConfig, raw, "kpis", k) for k, raw in enumerate(raw_kpis or [])],
            clouds=one(Items[CloudConfig], raw_clouds) if raw_clouds is not None else None,
            cloud_names=names(raw_clouds, "clouds"),
            any_clouds=raw_clouds is None or bool(raw_clouds),
            sms=one(Items[SmsGateway], raw_sms) if raw_sms is not None else None,
            gateway_names=names(raw_sms, "sms"),
            any_sms=raw_sms is None or bool(raw_sms),
            any_kpis=raw_kpis is None or bool(raw_kpis),
            maintenance=[entry(MaintenanceWindow, raw, "maintenance", m) for m, raw in enumerate(raw_windows or [])],
            entry_problems=tuple(entry_problems),
        )


# The fields of an entry the cross-checks read: an entry with a wrong field among
# these is left out of them.
_CROSS_CHECKED: dict[type, frozenset[str]] = {
    SnmpDevice: frozenset({"name", "version", "community", "user", "auth_key", "priv_key"}),
    Link: frozenset({"name", "device"}),
    KpiConfig: frozenset({"id", "link_group", "clouds", "gateways", "name", "kind", "unit", "target"}),
    MaintenanceWindow: frozenset({"link_groups", "links"}),
}
# The fields a model's own check (its model_validator) reads.
_MODEL_CHECKED: dict[type, frozenset[str]] = {
    SnmpDevice: frozenset(),
    Link: frozenset({"if_name", "if_descr", "if_alias"}),
    KpiConfig: frozenset(),
    MaintenanceWindow: frozenset({"start", "end", "rrule", "dtstart", "duration", "timezone"}),
}


def _cross_check(config: Config) -> list[tuple[str, str]]:
    """Problems no single model can see: duplicates and dangling references."""
    return _check(_Checkable.of(config))


def _check(seen_: _Checkable) -> list[tuple[str, str]]:
    """The cross-checks of whatever in ``seen_`` validated (see _Checkable)."""
    problems: list[tuple[str, str]] = list(seen_.entry_problems)

    def unique(items: Sequence[Any], where: str, attr: str = "name") -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item is None:
                continue
            value = getattr(item, attr)
            if value in seen:
                problems.append((f"{where}[{i}].{attr}", f"duplicate {attr} {value!r}"))
            seen.add(value)

    # With KPIs configured, their own checks already name the source they lack.
    nothing_polled = not seen_.devices and seen_.device_names is not None and not seen_.any_clouds and not seen_.any_sms
    if nothing_polled and not seen_.any_kpis:
        problems.append(("(top level)", "measures nothing: configure snmp.devices (with link_groups and kpis), "
                                        "clouds or sms"))
    unique(seen_.devices, "snmp.devices")
    unique(seen_.groups, "link_groups")
    unique(seen_.kpis, "kpis", "id")
    devices = seen_.device_names
    link_names: set[str] = set()
    for where, link in seen_.links:
        if link.name in link_names:
            problems.append((f"{where}.name", f"duplicate link name {link.name!r}"))
        link_names.add(link.name)
        if devices is not None and link.device not in devices:
            problems.append((f"{where}.device", f"no device named {link.device!r} in snmp.devices"))
    defaults = seen_.defaults
    for d, device in enumerate(seen_.devices):
        if device is None:
            continue
        where = f"snmp.devices[{d}]"
        version = device.version or (defaults.version if defaults is not None else None)
        if version == "v2c" and device.community is None and defaults is not None and defaults.community is None:
            problems.append((f"{where}.community", "SNMPv2c needs a community (here or in snmp.defaults)"))
        if version == "v3" and not device.user:
            problems.append((f"{where}.user", "SNMPv3 needs a user"))
        if device.priv_key is not None and device.auth_key is None:
            problems.append((f"{where}.priv_key", "needs auth_key: SNMPv3 has no privacy without authentication"))
    if seen_.clouds is not None:
        problems.extend(check_clouds(seen_.clouds))
    if seen_.sms is not None:
        problems.extend(check_gateways(seen_.sms))
    groups, clouds, gateways = seen_.group_names, seen_.cloud_names, seen_.gateway_names
    for k, kpi in enumerate(seen_.kpis):
        if kpi is None:
            continue
        where = f"kpis[{k}]"
        definition = BY_ID.get(kpi.id)
        if definition is None and (kpi.kind is None or kpi.unit is None or kpi.target is None or kpi.name is None):
            known = ", ".join(sorted(BY_ID))
            problems.append((f"{where}.id", f"unknown KPI {kpi.id!r}; known: {known} (or give name, kind, unit, target)"))
            continue
        source = definition.source if definition else "link_group"
        if source != "sms" and kpi.gateways is not None:
            problems.append((f"{where}.gateways", f"{kpi.id} does not measure SMS gateways"))
        if source == "sms":
            for key, value, what in (("link_group", kpi.link_group, "a link group"), ("clouds", kpi.clouds, "clouds")):
                if value is not None:
                    problems.append((f"{where}.{key}", f"{kpi.id} measures SMS gateways, not {what}"))
            if not seen_.any_sms:
                problems.append((f"{where}.id", f"{kpi.id} needs at least one gateway in sms"))
            for name in kpi.gateways or ():
                if gateways is not None and name not in gateways:
                    problems.append((f"{where}.gateways", f"no SMS gateway named {name!r}"))
        elif source == "cloud":
            if kpi.link_group is not None:
                problems.append((f"{where}.link_group", f"{kpi.id} measures clouds, not a link group"))
            if not seen_.any_clouds:
                problems.append((f"{where}.id", f"{kpi.id} needs at least one entry in clouds"))
            for name in kpi.clouds or ():
                if clouds is not None and name not in clouds:
                    problems.append((f"{where}.clouds", f"no cloud named {name!r}"))
        elif kpi.clouds is not None:
            problems.append((f"{where}.clouds", f"{kpi.id} measures a link group, not clouds"))
        elif kpi.link_group is None:
            problems.append((f"{where}.link_group", "missing: which link group this KPI measures"))
        elif groups is not None and kpi.link_group not in groups:
            problems.append((f"{where}.link_group", f"no link group named {kpi.link_group!r}"))
        unit = kpi.unit or (definition.unit if definition else "count")
        target = kpi.target or (definition.target if definition else None)
        if target is not None:
            try:
                units.parse_target(target, unit)
            except ValueError as exc:
                problems.append((f"{where}.target", str(exc)))
    for m, window in enumerate(seen_.maintenance):
        if window is None:
            continue
        for key, listed, known, what in (("link_groups", window.link_groups, groups, "link group"),
                                         ("links", window.links, seen_.link_names, "link")):
            for name in listed or ():
                if known is not None and name not in known:
                    problems.append((f"maintenance[{m}].{key}", f"no {what} named {name!r}"))
    problems.extend(_polling_too_fast(seen_))
    return problems


def _polling_too_fast(seen_: _Checkable) -> list[tuple[str, str]]:
    """Cloud and SMS durations below their minimums (their models belong to the collectors)."""
    checks: list[tuple[str, float, tuple[float, str]]] = []
    for c, cloud in enumerate(seen_.clouds or ()):
        checks += [(f"clouds[{c}].interval", cloud.interval, MIN_CLOUD_INTERVAL),
                   (f"clouds[{c}].timeout", cloud.timeout, MIN_CLOUD_TIMEOUT)]
    for g, gateway in enumerate(seen_.sms or ()):
        checks += [(f"sms[{g}].interval", gateway.interval, MIN_SMS_INTERVAL),
                   (f"sms[{g}].timeout", gateway.timeout, MIN_SMS_TIMEOUT)]
        if gateway.canary is not None:
            checks += [(f"sms[{g}].canary.interval", gateway.canary.interval, MIN_CANARY_INTERVAL),
                       (f"sms[{g}].canary.timeout", gateway.canary.timeout, MIN_CANARY_TIMEOUT)]
    found = [(where, below_minimum(seconds, *bound)) for where, seconds, bound in checks]
    return [(where, problem) for where, problem in found if problem is not None]


def _format_loc(loc: tuple[Any, ...], data: Any) -> str:
    """``link_groups[0].links[1].name`` from a pydantic error location.

    The location is walked through the input: a part that is not a key or
    index of it is pydantic's own (a union member such as ``openstack``, a
    validator name) and is left out of the path the operator sees.
    """
    path = ""
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, (list, tuple)) and 0 <= part < len(node):
            path += f"[{part}]"
            node = node[part]
        elif isinstance(node, dict) and part in node:
            path += f".{part}" if path else str(part)
            node = node[part]
        elif isinstance(part, str) and not isinstance(node, dict) or part in _PYDANTIC_PARTS or _is_tag(part, node):
            continue
        else:  # a missing key: it is the last part and names what is missing
            path += f".{part}" if path else str(part)
            node = None
    return path or "(top level)"


format_loc = _format_loc  # for the other files a person writes (agent/webconfig.py)

_PYDANTIC_PARTS = frozenset({"function-after", "function-before", "function-wrap", "function-plain"})


def _is_tag(part: Any, node: Any) -> bool:
    """A discriminated-union tag: the value of the node's own ``type`` key."""
    return isinstance(node, dict) and part == node.get("type")


def parse_config(data: Any, source: str, env: Mapping[str, str] | None = None, base_dir: Path | None = None) -> Config:
    """Validate already-parsed YAML; raise ConfigError with every problem."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: (top level): expected a mapping of sections (agent, snmp, link_groups, ...)"])
    context = {"env": os.environ if env is None else env, "base_dir": base_dir or Path.cwd()}
    try:
        config = Config.model_validate(data, context=context)
    except ValidationError as exc:
        problems = []
        errors = exc.errors(include_url=False, include_input=False)
        for error in errors:
            problems.append(f"{source}: {_format_loc(tuple(error['loc']), data)}: {error_message(Config, error)}")
        # The cross-checks too, on whatever validated: every independent problem in one pass.
        cross = _check(_Checkable.of_invalid(data, context, [tuple(e["loc"]) for e in errors]))
        problems.extend(f"{source}: {path}: {message}" for path, message in cross if
                        f"{source}: {path}: {message}" not in problems)
        raise ConfigError(problems) from None
    cross = _cross_check(config) + _unresolved_references(config)
    if cross:
        raise ConfigError([f"{source}: {path}: {message}" for path, message in cross])
    return config


_REFERENCE = re.compile(r"\$\{[^}]*\}")


def _unresolved_references(node: object, path: str = "") -> list[tuple[str, str]]:
    """Every ``${...}`` left in a field that does not read the environment.

    Only secrets resolve ``${VAR}``; anywhere else the text would be used as
    written (sent to an API, used as a host name), so it is refused. With
    secrets left out (``--no-secrets``) a reference reads as the placeholder.
    """
    if isinstance(node, BaseModel):
        return [problem for name in type(node).model_fields
                for problem in _unresolved_references(getattr(node, name), f"{path}.{name}" if path else name)]
    if isinstance(node, (tuple, list)):
        return [problem for i, item in enumerate(node) for problem in _unresolved_references(item, f"{path}[{i}]")]
    if isinstance(node, dict):
        return [problem for key, value in node.items() for problem in _unresolved_references(value, f"{path}.{key}")]
    if not isinstance(node, (str, Path)):
        return []
    text = str(node)
    if _PLACEHOLDER in text:
        shown = "a ${...} reference"
    elif match := _REFERENCE.search(text):
        shown = match.group(0)
    else:
        return []
    return [(path, f"{shown} is not resolved here: only secrets (communities, keys, passwords, tokens) "
                   "read the environment; write the value itself")]


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a YAML config file."""
    path = Path(path)
    data = read_yaml(path)
    return parse_config(data, str(path), env=env, base_dir=path.parent.resolve())

_PLACEHOLDER = "unresolved-secret"  # 8+ characters, as SNMPv3 keys must be


def _is_secret_reference(node: object) -> bool:
    """``${VAR}``, ``{env: NAME}`` or ``{file: PATH}``: the config's secret syntax (agent/schema.py)."""
    if isinstance(node, dict):
        return len(node) == 1 and set(node) in ({"env"}, {"file"})
    return isinstance(node, str) and node.startswith("${") and node.endswith("}")


def _redact(node: object) -> object:
    """``node`` with every secret reference replaced by a placeholder.

    Rules, dashboards and exports never use a secret, and they are made on
    machines that have none (CI, a workstation, the office that files the
    report): exactly the secret references are replaced and everything else
    is validated as usual.
    """
    if _is_secret_reference(node):
        return _PLACEHOLDER
    if isinstance(node, dict):
        return {key: _redact(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_redact(value) for value in node]
    return node


def secret_references(node: object) -> int:
    """How many secret references ``node`` (parsed YAML) holds: what ``check --no-secrets`` did not check."""
    if _is_secret_reference(node):
        return 1
    if isinstance(node, dict):
        return sum(secret_references(value) for value in node.values())
    if isinstance(node, list):
        return sum(secret_references(value) for value in node)
    return 0


def load_config_without_secrets(path: str | Path) -> Config:
    """The config at ``path``, validated, with secrets left unresolved (ConfigError if invalid).

    For commands that read only the ledger and the catalogue (rules,
    dashboards, export): they must not need, nor ever touch, a credential.
    """
    path = Path(path)
    return parse_config(_redact(read_yaml(path)), str(path), env={}, base_dir=path.parent.resolve())


def load_for_command(path: str | Path, *, secrets: bool = True) -> Config | None:
    """For CLI commands: the config, or None after printing each problem on its own stderr line."""
    try:
        return load_config(path) if secrets else load_config_without_secrets(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def kpi_definition(kpi: KpiConfig) -> KpiDefinition:
    """The catalogue entry for ``kpi`` with the config's overrides applied."""
    base = BY_ID.get(kpi.id)
    level1, level2 = kpi.category or ((base.level1, base.level2) if base else ("", ""))
    unit = kpi.unit or (base.unit if base else "count")
    target = kpi.target or (base.target if base else "")
    return KpiDefinition(
        id=kpi.id,
        name_zh=kpi.name or (base.name_zh if base else kpi.id),
        name_en=kpi.name_en or (base.name_en if base else kpi.id),
        level1=level1,
        level2=level2,
        kind=kpi.kind or (base.kind if base else "availability"),
        unit=unit,
        target=target,
        target_text=(base.target_text if base and not kpi.target else target),
        objective=kpi.objective if kpi.objective is not None else (base.objective if base else None),
        source=base.source if base else "link_group",
        description=base.description if base else "",
        resource=base.resource if base else None,
    )
