"""Config of the SNMP source: the ``snmp:`` section (defaults, devices) and ``link_groups:``.

Same conventions as agent/config.py: frozen models that reject unknown keys,
secrets (communities, v3 keys) as ``${ENV}`` / ``{env: NAME}`` / ``{file: PATH}``
held as SecretStr, durations as ``30s`` / ``5m``. Imported while agent.config
builds ``Config``: it must not import agent.config.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Iterator, Literal, Mapping, Sequence

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from agent.config_sections import (
    ConfigSection,
    KpiSelector,
    MaintenanceScope,
    Names,
    PartialValidation,
    Problem,
    SectionView,
    unique,
    unknown_names,
)
from agent.schema import BitRate, Duration, Items, Model, Name, Secret, config_dir, duration_at_least

MIN_SNMP_INTERVAL = (1.0, "each poll walks the device's interface tables, which devices refresh every few seconds")
MIN_SNMP_TIMEOUT = (0.1, "a busy device's SNMP agent takes tens of milliseconds to answer; shorter reads it unknown")

SnmpInterval = Annotated[Duration, duration_at_least(*MIN_SNMP_INTERVAL)]
SnmpTimeout = Annotated[Duration, duration_at_least(*MIN_SNMP_TIMEOUT)]

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
    # What the device is (router, switch, server, cabinet, ups, ...) and whose it is, from the CMDB
    # (snmp.inventory) or written here: managed_devices, servers, power_cabinets, connected_organisations.
    type: str | None = Field(None, min_length=1, max_length=40)
    organisation: str | None = Field(None, min_length=1, max_length=100)

    @field_validator("auth_key", "priv_key")
    @classmethod
    def _v3_key_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 8:
            raise ValueError("SNMPv3 keys must be at least 8 characters")
        return value


LinkMetric = Literal["traffic", "errors", "rates"]


class Credentials(Model):
    """The SNMP settings a CMDB row refers to by name (the CSV holds no secret)."""

    version: Literal["v2c", "v3"] | None = None
    community: Secret | None = None
    user: str | None = None
    auth_protocol: AuthProtocol | None = None
    auth_key: Secret | None = None
    priv_protocol: PrivProtocol | None = None
    priv_key: Secret | None = None
    context: str = ""


class Inventory(Model):
    """Devices from a CSV export of the CMDB (collectors/snmp/inventory.py), added to ``devices``."""

    file: Path
    credentials: dict[Name, Credentials] = {}


class SnmpSettings(Model):
    defaults: SnmpDefaults = SnmpDefaults()
    # Polls in flight at once across all devices.
    max_concurrency: int = Field(default=64, ge=1, le=4096)
    # What is read for each link besides its state (ifOperStatus, ifAdminStatus): each costs
    # columns on every poll of every link, so only what is asked for is polled.
    link_metrics: Items[LinkMetric] = ("traffic", "errors")
    devices: Items[SnmpDevice] = ()
    inventory: Inventory | None = None

    @field_validator("inventory", mode="before")
    @classmethod
    def _inventory_relative(cls, value: Any, info: ValidationInfo) -> Any:
        # The file is relative to the config file, as secret files are.
        if isinstance(value, dict) and isinstance(value.get("file"), str):
            value = {**value, "file": config_dir(info) / value["file"]}
        return value

    @model_validator(mode="after")
    def _inventory_devices(self, info: ValidationInfo) -> "SnmpSettings":
        if self.inventory is None:
            return self
        from collectors.snmp.inventory import load

        credentials = {name: c.model_dump(exclude_none=True, exclude_defaults=True)
                       for name, c in self.inventory.credentials.items()}
        rows = load(self.inventory.file, credentials, [d.name for d in self.devices])  # ValueError: one line
        added = tuple(SnmpDevice.model_validate(row, context=info.context) for row in rows)
        return self.model_copy(update={"devices": self.devices + added})

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


class SnmpConfigAccess:
    """What the loaded Config offers of this section (mixed into agent.config's Config).

    No annotations here: pydantic would take them for fields of Config, out of order.
    """

    if TYPE_CHECKING:
        snmp: SnmpSettings
        link_groups: tuple[LinkGroup, ...]

    def device(self, name: str) -> SnmpDevice:
        return next(d for d in self.snmp.devices if d.name == name)

    def link_group(self, name: str) -> LinkGroup:
        return next(g for g in self.link_groups if g.name == name)


@dataclass
class SnmpView(SectionView):
    """The SNMP checks' view: the devices, groups and links that validated, at their original index."""

    defaults: SnmpDefaults | None
    devices: Sequence[SnmpDevice | None]
    device_names: Names
    groups: Sequence[LinkGroup | None]
    links: Sequence[tuple[str, Link]]  # (key path, link) of every link that validated
    link_names: Names
    group_names: Names

    @property
    def polls(self) -> bool:  # type: ignore[override]
        return bool(self.devices) or self.device_names is None

    @property
    def names(self) -> Mapping[str, Names]:  # type: ignore[override]
        return {"link group": self.group_names, "link": self.link_names, "SNMP device": self.device_names}

    def problems(self) -> list[Problem]:
        problems = unique(self.devices, "snmp.devices") + unique(self.groups, "link_groups")
        seen_links: set[str] = set()
        for where, link in self.links:
            if link.name in seen_links:
                problems.append((f"{where}.name", f"duplicate link name {link.name!r}"))
            seen_links.add(link.name)
            if self.device_names is not None and link.device not in self.device_names:
                problems.append((f"{where}.device", f"no device named {link.device!r} in snmp.devices"))
        defaults = self.defaults
        for d, device in enumerate(self.devices):
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
        return problems

    def kpi_problems(self, kpi: Any, where: str) -> list[Problem]:
        from agent.catalogue import BY_ID  # the rows, not agent.config

        source = BY_ID[kpi.id].source if kpi.id in BY_ID else "link_group"
        if source != "link_group":  # the inventory counts: every device, or a group's links if one is named
            return unknown_names([kpi.link_group] if kpi.link_group else [], self.group_names,
                                 f"{where}.link_group", "link group")
        if kpi.link_group is None:
            return [(f"{where}.link_group", "missing: which link group this KPI measures")]
        return unknown_names([kpi.link_group], self.group_names, f"{where}.link_group", "link group")


def view(config: SnmpConfigAccess) -> SnmpView:
    links = [(f"link_groups[{g}].links[{l}]", link)
             for g, group in enumerate(config.link_groups) for l, link in enumerate(group.links)]
    return SnmpView(
        defaults=config.snmp.defaults,
        devices=config.snmp.devices,
        device_names=frozenset(d.name for d in config.snmp.devices),
        groups=config.link_groups,
        links=links,
        link_names=frozenset(link.name for _, link in links),
        group_names=frozenset(g.name for g in config.link_groups),
    )


def partial_view(data: Mapping[str, Any], seen: PartialValidation) -> SnmpView:
    snmp = data.get("snmp", {})
    if isinstance(snmp, dict):
        defaults = seen.one(SnmpDefaults, snmp.get("defaults", {}))
        raw_devices = seen.listed(snmp, "snmp", "devices")
    else:
        defaults, raw_devices = None, None
    devices = [seen.entry(SnmpDevice, raw, "snmp", "devices", d) for d, raw in enumerate(raw_devices or [])]
    raw_groups = seen.entries(seen.section("link_groups"))
    groups: list[LinkGroup | None] = []
    links: list[tuple[str, Link]] = []
    link_names: set[str] | None = None if raw_groups is None else set()
    for g, raw_group in enumerate(raw_groups or []):
        groups.append(seen.one(LinkGroup, raw_group))
        raw_links = raw_group.get("links") if isinstance(raw_group, dict) else None
        in_group = seen.names(raw_links if isinstance(raw_links, list) else None, "link_groups", g, "links")
        link_names = None if link_names is None or in_group is None else link_names | in_group
        for l, raw_link in enumerate(raw_links if isinstance(raw_links, list) else []):
            link = seen.entry(Link, raw_link, "link_groups", g, "links", l)
            if link is not None:
                links.append((f"link_groups[{g}].links[{l}]", link))
    return SnmpView(
        defaults=defaults,
        devices=devices,
        device_names=seen.names(raw_devices, "snmp", "devices"),
        groups=groups,
        links=links,
        link_names=None if link_names is None else frozenset(link_names),
        group_names=seen.names(raw_groups, "link_groups"),
    )


def link_scope(link: str, group: str, device: str) -> tuple[tuple[str, str], ...]:
    """The (window key, name) pairs by which a maintenance window covers a link: it, its group, its device."""
    return (("links", link), ("link_groups", group), ("devices", device))


def _covered_series(config: Any, key: str, names: frozenset[str]) -> Iterator[str]:
    """The series of the links (and, by ``devices``, the devices) that a window listing ``names`` covers."""
    from collectors.snmp import series  # the series module imports nothing of the config

    for group in config.link_groups:
        for link in group.links:
            if any(k == key and name in names for k, name in link_scope(link.name, group.name, link.device)):
                yield series.link_up(link.name)
                yield series.link_available(link.name)
    if key == "devices":
        yield from (series.device_answered(name) for name in names)


def _scope(key: str, what: str) -> MaintenanceScope:
    return MaintenanceScope(key, what, lambda config, names: _covered_series(config, key, names))


SECTION = ConfigSection(
    fields=(("snmp", SnmpSettings, SnmpSettings()), ("link_groups", Items[LinkGroup], ())),
    hint="snmp.devices (with link_groups and kpis)",
    measures="a link group",
    view=view,
    partial_view=partial_view,
    selectors=(KpiSelector("link_group", str | None, "a link group"),),
    checked={
        SnmpDevice: (frozenset({"name", "version", "community", "user", "auth_key", "priv_key"}), frozenset()),
        Link: (frozenset({"name", "device"}), frozenset({"if_name", "if_descr", "if_alias"})),
    },
    mixin=SnmpConfigAccess,
    scopes=(_scope("links", "link"), _scope("link_groups", "link group"), _scope("devices", "SNMP device")),
)
