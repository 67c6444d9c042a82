"""What a source package declares of the config: its sections, its KPI selectors and their checks.

agent/config.py builds ``Config`` and ``KpiConfig`` from these and runs the
checks; each collectors/<source>/config.py declares one :class:`ConfigSection`
(its ``SECTION``). A section's models and checks must not import agent.config:
it is imported while ``Config`` is being built.

The checks run on a config that validated and, to report every independent
problem in one pass, on one that did not: then a section sees only what
validated on its own (see :class:`PartialValidation`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence, TypeVar

from pydantic import TypeAdapter, ValidationError

if TYPE_CHECKING:
    from agent.schema import Model

T = TypeVar("T")
Problem = tuple[str, str]  # (key path, what is wrong)
Names = frozenset[str] | None  # None: an entry's name cannot be read, so no reference is called dangling


@dataclass(frozen=True, slots=True)
class KpiSelector:
    """A key of a KPI's config that chooses what of a source it measures (a link group, clouds, gateways)."""

    key: str
    annotation: Any
    noun: str  # what it selects, as a message says it: "a link group", "clouds"
    # The problem when a KPI of another source sets it ({id}: the KPI, {serving}: what that KPI measures).
    misuse: str = "{id} measures {serving}, not {noun}"

    def misused(self, kpi_id: str, serving: str) -> str:
        return self.misuse.format(id=kpi_id, serving=serving, noun=self.noun)


class SectionView:
    """What the checks of one source see of a config (valid, or the parts of it that validated)."""

    polls: bool = False  # something is (or, where unreadable, may be) configured to poll
    names: Mapping[str, Names] = {}  # the names others may refer to, by what they name ("link group", "link")

    def problems(self) -> list[Problem]:
        """The section's own cross-checks: duplicates, dangling references, combinations."""
        return []

    def kpi_problems(self, kpi: Any, where: str) -> list[Problem]:
        """The checks of a KPI this source serves (its selectors set right, what it needs configured)."""
        return []

    def durations(self) -> list[tuple[str, float, tuple[float, str]]]:
        """(key path, seconds, (minimum, why)) of the durations with a lower bound the models do not hold."""
        return []


@dataclass(frozen=True, slots=True)
class MaintenanceScope:
    """A key of a maintenance window that limits it to some of a source's targets (``links: [cu-1]``).

    A window that sets none of the sources' scope keys covers everything.
    """

    key: str  # the window's key: "links"
    what: str  # what it lists, as the section view's ``names`` says it (the names checked against): "link"
    # The ledger series the listed names cover, given (Config, names): a link's state and capacity.
    covers: Callable[[Any, frozenset[str]], Iterable[str]]


@dataclass(frozen=True)
class ConfigSection:
    """One source's part of the config."""

    # Top-level keys it adds to Config, in order: (key, annotation, default).
    fields: tuple[tuple[str, Any, Any], ...]
    # What to configure for the source to measure something ("clouds"), for the "measures nothing" problem;
    # "" for a source that measures what the others poll.
    hint: str
    # What its KPIs measure, as a message says it ("SMS gateways").
    measures: str
    view: Callable[[Any], SectionView]  # of a Config that validated
    partial_view: Callable[[Mapping[str, Any], "PartialValidation"], SectionView]
    selectors: tuple[KpiSelector, ...] = ()
    # Entry models -> (fields the cross-checks read, fields the model's own check reads); see PartialValidation.
    checked: Mapping[type, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)
    # Methods the loaded Config offers for this section (a mixin without fields), e.g. device(name).
    mixin: type | None = None
    # The keys by which a maintenance window covers only some of its targets.
    scopes: tuple[MaintenanceScope, ...] = ()


_ABSENT = object()


class PartialValidation:
    """Each section, and each entry of a list, of a config that failed, validated on its own.

    ``errors`` are the locations of the schema errors. An entry whose own name
    is wrong makes its list's names unknown (the operator may have meant the
    name a reference uses). An entry with other wrong fields is validated again
    without them: its model check runs if it reads none of them (reported in
    ``entry_problems``), and the cross-checks use it if they read none of them.
    """

    def __init__(self, data: Mapping[str, Any], context: dict[str, Any], errors: Sequence[tuple[Any, ...]],
                 checked: Mapping[type, tuple[frozenset[str], frozenset[str]]],
                 format_loc: Callable[[tuple[Any, ...], Any], str]):
        self.data, self.context, self.errors = data, context, errors
        self._checked, self._format_loc = checked, format_loc
        self.entry_problems: list[Problem] = []

    def one(self, kind: Any, raw: Any) -> Any:
        """``raw`` as ``kind``, or None if it does not validate."""
        try:
            return TypeAdapter(kind).validate_python(raw, context=self.context)
        except ValidationError:
            return None

    def entry(self, kind: type[Model], raw: Any, *where: Any) -> Any:
        """The entry at ``where``, or what of it the cross-checks may use, or None."""
        try:
            return kind.model_validate(raw, context=self.context)
        except ValidationError:
            pass
        wrong = {loc[len(where)] for loc in self.errors if len(loc) > len(where) and loc[: len(where)] == where}
        if not isinstance(raw, dict) or not wrong or not all(isinstance(w, str) for w in wrong):
            return None
        cross_checked, model_checked = self._checked.get(kind, (frozenset(), frozenset()))
        try:
            rest = kind.model_validate({k: v for k, v in raw.items() if k not in wrong}, context=self.context)
        except ValidationError as exc:
            if wrong.isdisjoint(model_checked):
                for error in exc.errors(include_url=False, include_input=False):
                    if not error["loc"]:  # the model's own check, on fields that are all right
                        message = error["msg"].removeprefix("Value error, ")
                        self.entry_problems.append((self._format_loc(where, self.data), message))
            return None
        return rest if wrong.isdisjoint(cross_checked) else None

    def entries(self, raw: Any) -> list[Any] | None:
        """A list section's entries: [] if absent, None if it is not a list."""
        if raw is _ABSENT:
            return []
        return list(raw) if isinstance(raw, list) else None

    def section(self, key: str) -> Any:
        """A top-level section's raw value, or a marker that ``entries`` reads as absent."""
        return self.data.get(key, _ABSENT)

    def listed(self, raw: Any, *where: Any) -> list[Any] | None:
        """The raw entries of the list at ``where`` (from ``raw``, its parent): [] if absent, None if not a list."""
        return self.entries(raw.get(where[-1], _ABSENT) if isinstance(raw, dict) else _ABSENT)

    def names(self, raw: list[Any] | None, *where: str | int) -> Names:
        """The names of the entries ``raw`` at ``where``; None if one cannot be read."""
        if raw is None:
            return None
        for loc in self.errors:
            # (where..., index, [union tag,] "name"): an entry's name itself is wrong.
            if loc[: len(where)] == where and "name" in loc[len(where) + 1 : len(where) + 3]:
                return None
        found = [item.get("name") if isinstance(item, dict) else None for item in raw]
        named = [n for n in found if isinstance(n, str)]
        return frozenset(named) if len(named) == len(found) else None


Duration = tuple[str, float, tuple[float, str]]  # (key path, seconds, (minimum, why)): see SectionView.durations


@dataclass
class NamedListView(SectionView):
    """The view of a section that is one list of named entries (``clouds:``, ``sms:``)."""

    entries: Sequence[Any] | None  # None: the section did not validate
    entry_names: Names
    spec: "NamedList"
    polls: bool = False

    @property
    def names(self) -> Mapping[str, Names]:  # type: ignore[override]
        return {self.spec.what: self.entry_names}

    def problems(self) -> list[Problem]:
        return self.spec.check(self.entries) if self.entries is not None else []

    def kpi_problems(self, kpi: Any, where: str) -> list[Problem]:
        spec = self.spec
        problems = [] if self.polls else [(f"{where}.id", f"{kpi.id} {spec.needs}")]
        key = spec.selector.key
        return problems + unknown_names(getattr(kpi, key), self.entry_names, f"{where}.{key}", spec.what)

    def durations(self) -> list[Duration]:
        return [check for i, entry in enumerate(self.entries or ()) for check in self.spec.minimums(f"{self.spec.key}[{i}]", entry)]


@dataclass(frozen=True)
class NamedList:
    """A source whose section is one list of named entries, chosen by a KPI key that lists their names."""

    key: str  # the section's key
    model: Any  # an entry's model (or annotated union)
    what: str  # an entry, as a message says it: "cloud"
    needs: str  # the problem of its KPI when the list is empty: "needs at least one entry in clouds"
    selector: KpiSelector
    check: Callable[[Sequence[Any]], list[Problem]]  # across entries: duplicates, shared ports
    minimums: Callable[[str, Any], list[Duration]]  # (key path of an entry, entry) -> its bounded durations
    hint: str = ""  # what to configure (default: the key)
    measures: str = ""  # what its KPIs measure (default: the selector's noun)
    scope: MaintenanceScope | None = None  # the window key that covers some of its entries, if any

    def section(self) -> ConfigSection:
        from agent.schema import Items

        def view(config: Any) -> NamedListView:
            entries = getattr(config, self.key)
            return NamedListView(entries, frozenset(e.name for e in entries), self, polls=bool(entries))

        def partial_view(data: Mapping[str, Any], seen: PartialValidation) -> NamedListView:
            raw = seen.entries(seen.section(self.key))
            return NamedListView(seen.one(Items[self.model], raw) if raw is not None else None,
                                 seen.names(raw, self.key), self, polls=raw is None or bool(raw))

        return ConfigSection(fields=((self.key, Items[self.model], ()),), hint=self.hint or self.key,
                             measures=self.measures or self.selector.noun, view=view, partial_view=partial_view,
                             selectors=(self.selector,), scopes=(self.scope,) if self.scope else ())


def selected(entries: Sequence[T], names: Sequence[str] | None) -> list[T]:
    """The entries a KPI's selector names (``probes: [a, b]``), in config order; every entry when it names none."""
    return [entry for entry in entries if names is None or entry.name in names]  # type: ignore[attr-defined]


def unique(items: Sequence[Any], where: str, attr: str = "name") -> list[Problem]:
    """A problem for each entry whose ``attr`` repeats an earlier one's (None entries: skipped)."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item is None:
            continue
        value = getattr(item, attr)
        if value in seen:
            problems.append((f"{where}[{i}].{attr}", f"duplicate {attr} {value!r}"))
        seen.add(value)
    return problems


def unknown_names(listed: Sequence[str] | None, known: Names, where: str, what: str) -> list[Problem]:
    """A problem for each name in ``listed`` not among ``known`` (unknown ``known``: none)."""
    if known is None:
        return []
    return [(where, f"no {what} named {name!r}") for name in listed or () if name not in known]


__all__ = ["ConfigSection", "Duration", "KpiSelector", "MaintenanceScope", "NamedList", "NamedListView", "Names", "PartialValidation", "Problem", "SectionView", "selected", "unique",
           "unknown_names"]
