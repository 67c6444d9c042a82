"""The Prometheus text format (0.0.4), written straight from series, with each target's part kept.

Why not prometheus_client's ``generate_latest`` for /metrics: it rebuilds
every family and formats every sample on each scrape, which for 60,000 links
took most of a second holding the GIL. Here a target's lines are formatted
once, when its poll lands (agent/state.py), and a scrape only joins them
family by family: its cost is a join, not formatting. Values and escaping are
prometheus_client's (``floatToGoString``, the text format's rules), and a test
checks that both outputs parse to the same samples.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from prometheus_client.utils import floatToGoString

from agent.exposed import Series
from agent.metrics import METRICS

Fragments = Mapping[str, str]  # family name -> its lines (each ending in a newline)
_TYPES = {"gauge": "gauge", "counter": "counter", "info": "gauge", "histogram": "histogram"}


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def family_of(sample_name: str) -> str:
    """The metric family a sample belongs to: its own name, or the histogram of a _bucket/_sum/_count."""
    if sample_name in METRICS:
        return sample_name
    for suffix in ("_bucket", "_sum", "_count"):
        base = sample_name[: -len(suffix)]
        if sample_name.endswith(suffix) and base in METRICS and METRICS[base].type == "histogram":
            return base
    raise KeyError(f"{sample_name} is not in agent.metrics")


def fragments(series: Iterable[Series]) -> dict[str, str]:
    """Series grouped into their families' lines."""
    lines: dict[str, list[str]] = {}
    for name, labels, value in series:
        if labels:
            text = ",".join(f'{key}="{_escape_label(val)}"' for key, val in labels)
            line = f"{name}{{{text}}} {floatToGoString(value)}\n"
        else:
            line = f"{name} {floatToGoString(value)}\n"
        family = name if name in METRICS else family_of(name)
        lines.setdefault(family, []).append(line)
    return {family: "".join(parts) for family, parts in lines.items()}


def _header(family: str) -> str:
    spec = METRICS[family]
    help_text = spec.help.replace("\\", "\\\\").replace("\n", "\\n")
    return f"# HELP {family} {help_text}\n# TYPE {family} {_TYPES[spec.type]}\n"


def render(parts: Iterable[Fragments]) -> bytes:
    """One exposition of every part's families, each family under one HELP/TYPE header."""
    by_family: dict[str, list[str]] = {}
    for part in parts:
        for family, text in part.items():
            by_family.setdefault(family, []).append(text)
    out = []
    for family, texts in by_family.items():
        out.append(_header(family))
        out.extend(texts)
    return "".join(out).encode()
