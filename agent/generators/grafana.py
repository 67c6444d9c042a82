"""Small builders for Grafana dashboard JSON (classic model, schemaVersion 39).

Only what the generated dashboards use: datasource and query variables,
stat / timeseries / state-timeline / heatmap panels, rows, and a grid that
places panels left to right. Every panel and target points at the
``${datasource}`` variable so the dashboards work with any Prometheus
data source name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

Json = dict[str, Any]

GREEN, YELLOW, RED, BLUE, ORANGE = "green", "yellow", "red", "blue", "orange"


def datasource_variable() -> Json:
    return {
        "name": "datasource", "label": "数据源 Data source", "type": "datasource", "query": "prometheus",
        "current": {}, "hide": 0, "includeAll": False, "multi": False, "options": [], "refresh": 1,
        "regex": "", "skipUrlSync": False,
    }


def query_variable(name: str, label: str, query: str, multi: bool = True) -> Json:
    """A variable from ``label_values(...)``; "All" is ``.*`` so panels can use ``=~"$name"``."""
    return {
        "name": name, "label": label, "type": "query", "datasource": DATASOURCE,
        "definition": query, "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]} if multi else {},
        "hide": 0, "includeAll": multi, "multi": multi, "allValue": ".*" if multi else None,
        "options": [], "refresh": 2, "regex": "", "sort": 1, "skipUrlSync": False,
    }


def target(expr: str, legend: str = "", ref: str = "A", instant: bool = False, fmt: str = "time_series") -> Json:
    return {
        "datasource": DATASOURCE, "refId": ref, "expr": expr, "legendFormat": legend or "__auto",
        "instant": instant, "range": not instant, "format": fmt, "editorMode": "code",
    }


def targets(*queries: tuple[str, str], instant: bool = False) -> list[Json]:
    """Targets from (expr, legend) pairs, refIds A, B, C..."""
    return [target(expr, legend, chr(ord("A") + i), instant) for i, (expr, legend) in enumerate(queries)]


def thresholds(*steps: tuple[float | None, str]) -> Json:
    """Absolute thresholds; the first step's value is None (the base colour)."""
    return {"mode": "absolute", "steps": [{"color": color, "value": value} for value, color in steps]}


def value_mappings(mapping: dict[int, tuple[str, str]]) -> list[Json]:
    """Value -> (text, colour), e.g. {1: ("正常 up", "green")}."""
    options = {str(value): {"text": text, "color": color, "index": i}
               for i, (value, (text, color)) in enumerate(sorted(mapping.items()))}
    return [{"type": "value", "options": options}]


def _field_config(unit: str, steps: Json | None, mappings: list[Json] | None, minimum: float | None,
                  maximum: float | None, color_mode: str, custom: Json | None = None) -> Json:
    defaults: Json = {"unit": unit, "color": {"mode": color_mode},
                      "thresholds": steps or thresholds((None, GREEN)), "mappings": mappings or []}
    if minimum is not None:
        defaults["min"] = minimum
    if maximum is not None:
        defaults["max"] = maximum
    if custom is not None:
        defaults["custom"] = custom
    return {"defaults": defaults, "overrides": []}


def stat(title: str, description: str, queries: list[Json], unit: str = "none", steps: Json | None = None,
         mappings: list[Json] | None = None, decimals: int | None = None) -> Json:
    panel: Json = {
        "type": "stat", "title": title, "description": description, "datasource": DATASOURCE, "targets": queries,
        "fieldConfig": _field_config(unit, steps, mappings, None, None, "thresholds"),
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "background", "graphMode": "none", "justifyMode": "auto",
                    "textMode": "auto", "orientation": "auto"},
    }
    if decimals is not None:
        panel["fieldConfig"]["defaults"]["decimals"] = decimals
    return panel


def timeseries(title: str, description: str, queries: list[Json], unit: str = "none",
               minimum: float | None = None, maximum: float | None = None, steps: Json | None = None,
               threshold_style: str = "off") -> Json:
    custom = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never",
              "spanNulls": False, "thresholdsStyle": {"mode": threshold_style}}
    return {
        "type": "timeseries", "title": title, "description": description, "datasource": DATASOURCE,
        "targets": queries,
        "fieldConfig": _field_config(unit, steps, None, minimum, maximum, "palette-classic", custom),
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "none"}},
    }


def state_timeline(title: str, description: str, queries: list[Json], mappings: list[Json],
                   steps: Json | None = None) -> Json:
    return {
        "type": "state-timeline", "title": title, "description": description, "datasource": DATASOURCE,
        "targets": queries,
        "fieldConfig": _field_config("none", steps, mappings, None, None, "thresholds",
                                     {"lineWidth": 0, "fillOpacity": 80}),
        # Unknown (no sample) stays a gap rather than being merged into the last state.
        "options": {"mergeValues": True, "showValue": "never", "alignValue": "left", "rowHeight": 0.9,
                    "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "single", "sort": "none"}},
    }


def heatmap(title: str, description: str, expr: str, unit: str = "s") -> Json:
    """A heatmap of a Prometheus histogram's buckets (already bucketed: no calculation)."""
    return {
        "type": "heatmap", "title": title, "description": description, "datasource": DATASOURCE,
        "targets": [target(expr, "{{le}}", fmt="heatmap")],
        "fieldConfig": {"defaults": {"custom": {"scaleDistribution": {"type": "linear"}}}, "overrides": []},
        "options": {"calculate": False, "cellGap": 1, "yAxis": {"axisPlacement": "left", "unit": unit},
                    "rowsFrame": {"layout": "auto"}, "color": {"mode": "scheme", "scheme": "Oranges",
                                                               "exponent": 0.5, "steps": 64},
                    "filterValues": {"le": 1e-9}, "tooltip": {"show": True, "yHistogram": True},
                    "legend": {"show": True}},
    }


@dataclass
class Grid:
    """Places panels left to right in rows of 24 columns; ``row()`` starts a titled row."""

    panels: list[Json] = field(default_factory=list)
    x: int = 0
    y: int = 0
    height: int = 0

    def add(self, panel: Json, w: int, h: int) -> None:
        if self.x + w > 24:
            self.x, self.y, self.height = 0, self.y + self.height, 0
        panel["gridPos"] = {"x": self.x, "y": self.y, "w": w, "h": h}
        panel["id"] = len(self.panels) + 1
        self.panels.append(panel)
        self.x += w
        self.height = max(self.height, h)

    def row(self, title: str) -> None:
        if self.x:
            self.x, self.y, self.height = 0, self.y + self.height, 0
        self.panels.append({"type": "row", "title": title, "collapsed": False, "panels": [],
                            "id": len(self.panels) + 1, "gridPos": {"x": 0, "y": self.y, "w": 24, "h": 1}})
        self.y += 1


def dashboard(uid: str, title: str, description: str, grid: Grid, variables: list[Json],
              tags: list[str], time_from: str = "now-24h") -> Json:
    return {
        "uid": uid, "title": title, "description": description, "tags": tags,
        "timezone": "browser", "editable": True, "graphTooltip": 1, "schemaVersion": SCHEMA_VERSION,
        "version": 1, "refresh": "1m", "time": {"from": time_from, "to": "now"},
        "timepicker": {}, "fiscalYearStartMonth": 0, "liveNow": False, "weekStart": "",
        "templating": {"list": variables}, "annotations": {"list": [_alerts_annotation()]},
        "links": [{"type": "dashboards", "tags": ["sla-agent"], "asDropdown": True, "title": "SLA 仪表盘 Dashboards",
                   "includeVars": False, "keepTime": True, "icon": "external link", "tooltip": "", "url": "",
                   "targetBlank": False}],
        "panels": grid.panels,
    }


def _alerts_annotation() -> Json:
    """Firing sla-agent alerts drawn on every time series panel."""
    return {
        "name": "告警 Alerts", "datasource": DATASOURCE, "enable": True, "hide": False, "iconColor": "red",
        "expr": 'ALERTS{alertstate="firing",alertname=~"Sla.*"}', "step": "60s",
        "titleFormat": "{{alertname}}", "textFormat": "{{kpi}} {{severity}}", "tagKeys": "severity,kpi",
        "useValueForTime": False,
    }
