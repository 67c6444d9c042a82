"""Which maintenance windows cover which ledger series, and a KPI's maintenance over a range.

A window lists names under the sources' scope keys (``links``, ``link_groups``,
...: agent/config_sections.MaintenanceScope); each source says which of its
series those names cover. A window that lists nothing covers every series.
Which series a window covers is worked out once per config; a KPI's maintenance
is then the spans of the windows that cover its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence
from zoneinfo import ZoneInfo

from agent import periods
from agent.config import MaintenanceWindow
from agent.kpi_types import Maintenance
from agent.sli import Span, merge
from agent.sources import config_sections


@dataclass(frozen=True, slots=True)
class Covered:
    """A window and the series it covers (None: every series)."""

    window: MaintenanceWindow
    series: frozenset[str] | None

    def covers_any(self, names: Iterable[str]) -> bool:
        return self.series is None or not self.series.isdisjoint(names)


def covered(config: Any) -> tuple[Covered, ...]:
    """Each of ``config``'s windows with the series it covers."""
    scopes = {scope.key: scope for section in config_sections().values() for scope in section.scopes}
    out = []
    for window in config.maintenance:
        if window.is_global:
            out.append(Covered(window, None))
            continue
        by_key: dict[str, set[str]] = {}
        for key, name in window.scope:
            by_key.setdefault(key, set()).add(name)
        names = frozenset(s for key, listed in by_key.items() for s in scopes[key].covers(config, frozenset(listed)))
        out.append(Covered(window, names))
    return tuple(out)


def of_inputs(windows: Sequence[Covered], inputs: Sequence[str], start: float, end: float,
              default_zone: ZoneInfo) -> Maintenance:
    """The maintenance of ``inputs`` in ``[start, end)``: per series, and their union."""
    applying = [(w.series, spans) for w in windows if w.covers_any(inputs)
                for spans in (periods.window_spans(w.window, start, end, default_zone),) if spans]
    if not applying:  # the usual case, cheaply: a group of 12,000 links read every kpi_interval
        return Maintenance()
    everywhere = merge(span for series, spans in applying if series is None for span in spans)
    scoped = [(series, spans) for series, spans in applying if series is not None]
    by_series: dict[str, tuple[Span, ...]] = {}
    shared = tuple(everywhere)
    for name in inputs:
        own = [span for series, spans in scoped if name in series for span in spans]
        by_series[name] = tuple(merge([*everywhere, *own])) if own else shared
    union = merge(span for _, spans in applying for span in spans)
    return Maintenance(tuple(union), by_series)


__all__ = ["Covered", "covered", "of_inputs"]
