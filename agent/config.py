"""YAML configuration -> frozen, validated models.

Every problem is reported as ``FILE: path.to.key: what is wrong``, all at
once, so an operator fixes a config in one pass. Secrets (communities, keys,
tokens) are given as ``${ENV_VAR}``, ``{file: PATH}`` or ``{env: NAME}`` and
held as SecretStr, so they never show in reprs, logs or errors.

The core keys (agent, kpis, maintenance) are defined here; each source's
sections, the keys by which a KPI selects what of it is measured, and their
cross-checks come from its collectors/<source>/config.py (agent/config_sections.py).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Iterable, Literal, Mapping, Sequence
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from agent import units
from agent.catalogue import BY_ID, KpiDefinition
from agent.config_keys import error_message
from agent.schema import (
    ConfigError,
    ConfigPath,
    Duration,
    Items,
    ListenAddress,
    Listens,
    Model,
    Name,
    TimeZoneName,
    below_minimum,
    duration_at_least,
)
from agent.config_sections import PartialValidation, Problem, SectionView, unique, unknown_names
from agent.sources import config_sections
from agent.yamlfile import read_yaml


# Lower bounds of the durations that set how often the agent works, and why: below
# them it would load a source or itself without measuring anything better, or read
# healthy sources as unknown. (seconds, what a shorter one would break)
MIN_KPI_INTERVAL = (1.0, "each evaluation reads the month so far of every KPI from the ledger")

KpiInterval = Annotated[Duration, duration_at_least(*MIN_KPI_INTERVAL)]


def _shard_text(text: str | None) -> str | None:
    if text is not None:
        from agent.sharding import parse_shard

        return str(parse_shard(text))
    return text


class AgentSettings(Listens, Model):
    listen: ListenAddress = "127.0.0.1:9877"
    data_dir: Path = Path("data")
    timezone: TimeZoneName = "Asia/Shanghai"
    # How often month-to-date KPI figures are recomputed from the ledger.
    kpi_interval: KpiInterval = 15.0
    # TLS and basic auth of the HTTP endpoints (exporter-toolkit format; agent/webconfig.py).
    web_config_file: ConfigPath | None = None
    # Bounds on the HTTP listener (agent/web.py): open connections, and how long one
    # may sit without a request in progress (never sending one counts too).
    max_connections: int = Field(default=256, ge=8, le=65536)
    idle_timeout: Duration = Field(default=60.0, gt=0, le=3600)
    # This agent's part of a sharded fleet, "i/n" (agent/sharding.py); `run --shard` overrides it.
    shard: Annotated[str | None, AfterValidator(_shard_text)] = None


    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class _KpiFields(Model):
    """A KPI to measure: a catalogue id plus its source; any catalogue field may be overridden.

    The keys that choose what of a source it measures (a link group, clouds,
    gateways) are the sources' own (their config section's selectors), after ``id``.
    """

    id: Name
    name: str | None = None
    name_en: str | None = None
    category: tuple[str, str] | None = None
    kind: Literal["availability", "capacity_sum"] | None = None
    unit: Literal["ratio", "bytes_per_second", "bytes", "seconds", "count"] | None = None
    target: str | None = None
    objective: float | None = Field(None, gt=0, le=1)
    # Below this share of the period with data the figure is "insufficient data".
    min_coverage: float = Field(0.9, ge=0, le=1)


_SECTIONS = config_sections()
_SELECTORS = tuple(selector for section in _SECTIONS.values() for selector in section.selectors)
# The first few top-level keys, for the message on a config that is not a mapping at all.
_SECTION_EXAMPLES = ", ".join(["agent", *(key for section in _SECTIONS.values() for key, _, _ in section.fields)][:3])


def _fields(model: type[Model], *, first: int = 0) -> dict[str, Any]:
    """``model``'s fields as create_model takes them, from the ``first``-th on."""
    return {name: (info.annotation, info) for name, info in list(model.model_fields.items())[first:]}


KpiConfig = create_model(  # type: ignore[call-overload]
    "KpiConfig", __base__=Model, __module__=__name__, __doc__=_KpiFields.__doc__,
    id=(Name, ...), **{selector.key: (selector.annotation, None) for selector in _SELECTORS},
    **_fields(_KpiFields, first=1),
)


class _WindowChecks(Model):
    """The checks and scope of a maintenance window (its fields: MaintenanceWindow)."""

    _scope: frozenset[tuple[str, str]] = PrivateAttr(frozenset())

    @model_validator(mode="after")
    def _listed(self) -> Any:
        # Once, not at each look: the link states ask every window of every link at a reload.
        self._scope = frozenset((key, name) for key in _SCOPE_KEYS for name in getattr(self, key) or ())
        return self

    @property
    def scope(self) -> frozenset[tuple[str, str]]:
        """The (key, name) pairs the window lists (empty: a window for everything)."""
        return self._scope

    @property
    def is_global(self) -> bool:
        return not self.scope

    def applies_to(self, scope: Iterable[tuple[str, str]]) -> bool:
        """Whether the window covers a target that belongs to ``scope`` ((key, name) pairs: its link, its group)."""
        return self.is_global or not self.scope.isdisjoint(scope)

    @model_validator(mode="after")
    def _shape(self) -> Any:
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


def _not_empty(cls: type, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if names is not None and not names:
        raise ValueError("an empty list scopes the window to nothing: name at least one, or leave the key out "
                         f"(a window that sets none of {', '.join(_SCOPE_KEYS)} is for everything)")
    return names


# The scope keys of every source (snmp's links and link_groups, probes, power_units), in collector order.
_SCOPES = tuple(scope for section in _SECTIONS.values() for scope in section.scopes)
_SCOPE_KEYS = tuple(scope.key for scope in _SCOPES)
if len(set(_SCOPE_KEYS)) != len(_SCOPE_KEYS):  # a package bug, not a config problem
    raise RuntimeError(f"two sources declare the same maintenance scope key: {_SCOPE_KEYS}")

MaintenanceWindow = create_model(  # type: ignore[call-overload]
    "MaintenanceWindow", __base__=_WindowChecks, __module__=__name__,
    __doc__=("Excluded time: a one-off ``start``/``end`` or a recurring ``rrule`` + ``duration``.\n\n"
             "Scope: what the keys of the sources' scopes list (" + ", ".join(_SCOPE_KEYS) + "), any of them; with "
             "none, everything (every target and every KPI)."),
    __validators__={"_not_empty": field_validator(*_SCOPE_KEYS)(_not_empty)},
    name=(str, ...),
    **{key: (Items[str] | None, None) for key in _SCOPE_KEYS},
    start=(datetime | None, None), end=(datetime | None, None), rrule=(str | None, None),
    dtstart=(datetime | None, None), duration=(Duration | None, None), timezone=(TimeZoneName | None, None),
)


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


class _ConfigCore(Model):
    agent: AgentSettings = AgentSettings()
    kpis: Items[KpiConfig] = ()  # type: ignore[valid-type]
    maintenance: Items[MaintenanceWindow] = ()


# The whole config: agent, then each source's sections in collector order, then kpis and maintenance.
Config = create_model(  # type: ignore[call-overload]
    "Config", __module__=__name__,
    __base__=(Model, *(section.mixin for section in _SECTIONS.values() if section.mixin is not None)),
    agent=(AgentSettings, AgentSettings()),
    **{key: (annotation, default) for section in _SECTIONS.values() for key, annotation, default in section.fields},
    **_fields(_ConfigCore, first=1),
)


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

    sections: Mapping[str, SectionView]  # each source's view, by package
    kpis: Sequence[Any]  # KpiConfig | None
    any_kpis: bool
    maintenance: Sequence[MaintenanceWindow | None]
    entry_problems: Sequence[Problem] = ()  # model checks of entries with other wrong fields

    @classmethod
    def of(cls, config: Any) -> "_Checkable":
        return cls(sections={name: section.view(config) for name, section in _SECTIONS.items()},
                   kpis=config.kpis, any_kpis=bool(config.kpis), maintenance=config.maintenance)

    @classmethod
    def of_invalid(
        cls, data: dict[str, Any], context: dict[str, Any], errors: Sequence[tuple[Any, ...]]
    ) -> "_Checkable":
        """Each section, and each entry of a list, validated on its own (see PartialValidation)."""
        seen = PartialValidation(data, context, errors, _CHECKED, _format_loc)
        sections = {name: section.partial_view(data, seen) for name, section in _SECTIONS.items()}
        raw_kpis = seen.entries(seen.section("kpis"))
        raw_windows = seen.entries(seen.section("maintenance"))
        return cls(
            sections=sections,
            kpis=[seen.entry(KpiConfig, raw, "kpis", k) for k, raw in enumerate(raw_kpis or [])],
            any_kpis=raw_kpis is None or bool(raw_kpis),
            maintenance=[seen.entry(MaintenanceWindow, raw, "maintenance", m) for m, raw in enumerate(raw_windows or [])],
            entry_problems=tuple(seen.entry_problems),
        )


# Entry model -> (the fields the cross-checks read: an entry with a wrong field among these is left out of
# them; the fields its own check, its model_validator, reads).
_CHECKED: dict[type, tuple[frozenset[str], frozenset[str]]] = {
    KpiConfig: (frozenset({"id", *(s.key for s in _SELECTORS), "name", "kind", "unit", "target"}), frozenset()),
    MaintenanceWindow: (frozenset(_SCOPE_KEYS),
                        frozenset({"start", "end", "rrule", "dtstart", "duration", "timezone"})),
}
for _section in _SECTIONS.values():
    _CHECKED.update(_section.checked)


def _cross_check(config: Any) -> list[Problem]:
    """Problems no single model can see: duplicates and dangling references."""
    return _check(_Checkable.of(config))


def _check(seen_: _Checkable) -> list[Problem]:
    """The cross-checks of whatever in ``seen_`` validated (see _Checkable)."""
    problems: list[Problem] = list(seen_.entry_problems)
    views = seen_.sections
    # With KPIs configured, their own checks already name the source they lack.
    if not any(view.polls for view in views.values()) and not seen_.any_kpis:
        hints = [section.hint for section in _SECTIONS.values() if section.hint]  # "": measures nothing itself
        problems.append(("(top level)", "measures nothing: configure " + ", ".join(hints[:-1]) + " or " + hints[-1]))
    for view in views.values():
        problems.extend(view.problems())
    problems.extend(unique(seen_.kpis, "kpis", "id"))
    for k, kpi in enumerate(seen_.kpis):
        if kpi is None:
            continue
        where = f"kpis[{k}]"
        definition = BY_ID.get(kpi.id)
        if definition is None and (kpi.kind is None or kpi.unit is None or kpi.target is None or kpi.name is None):
            known = ", ".join(sorted(BY_ID))
            problems.append((f"{where}.id", f"unknown KPI {kpi.id!r}; known: {known} (or give name, kind, unit, target)"))
            continue
        package = serving_package(definition.source if definition else _custom_kpi_source())
        own = _SECTIONS[package]
        for selector in _SELECTORS:
            if selector not in own.selectors and getattr(kpi, selector.key) is not None:
                problems.append((f"{where}.{selector.key}", selector.misused(kpi.id, own.measures)))
        problems.extend(views[package].kpi_problems(kpi, where))
        unit = kpi.unit or (definition.unit if definition else "count")
        target = kpi.target or (definition.target if definition else None)
        if target is not None:
            try:
                units.parse_target(target, unit)
            except ValueError as exc:
                problems.append((f"{where}.target", str(exc)))
    names: dict[str, Any] = {}
    for view in views.values():
        names.update(view.names)
    for m, window in enumerate(seen_.maintenance):
        if window is None:
            continue
        for scope in _SCOPES:
            problems.extend(unknown_names(getattr(window, scope.key), names.get(scope.what),
                                          f"maintenance[{m}].{scope.key}", scope.what))
    durations = [check for view in views.values() for check in view.durations()]
    found = [(where, below_minimum(seconds, *bound)) for where, seconds, bound in durations]
    problems.extend((where, problem) for where, problem in found if problem is not None)
    return problems


def _custom_kpi_source() -> str:
    from agent.sources import custom_kpi_source

    return custom_kpi_source()


def serving_package(catalogue_source: str) -> str:
    """The collectors/ package that serves KPIs of ``catalogue_source`` (agent/sources.py)."""
    from agent.sources import serving

    return serving(catalogue_source).name


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
        raise ConfigError([f"{source}: (top level): expected a mapping of sections ({_SECTION_EXAMPLES}, ...)"])
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

_PLACEHOLDER = "unresolved-secret"  # 8+ characters: as long as any secret's minimum


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
        source=base.source if base else _custom_kpi_source(),
        description=base.description if base else "",
        resource=base.resource if base else None,
    )
