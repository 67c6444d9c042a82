"""Reference tables for the README, generated from the catalogues.

`python -m agent.generators.docs` rewrites the marked blocks of README.md; a test fails
when the committed README differs from what the catalogues say.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from agent.catalogue import CATALOGUE
from agent.metrics import METRICS

_BLOCK = re.compile(r"(<!-- generated:(?P<name>[a-z]+) -->\n).*?(<!-- /generated -->)", re.S)


def kpi_table() -> str:
    rows = [
        "| id | 三级指标 | indicator | 一级 / 二级 | target (目标值) | unit | kind | objective |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kpi in CATALOGUE:
        objective = f"{kpi.objective:.0%} of the time" if kpi.objective is not None else "-"
        rows.append(
            f"| `{kpi.id}` | {kpi.name_zh} | {kpi.name_en} | {kpi.level1} / {kpi.level2} | "
            f"{kpi.target_text} (`{kpi.target}`) | {kpi.unit} | {kpi.kind} | {objective} |"
        )
    return "\n".join(rows) + "\n"


def metrics_table() -> str:
    rows = ["| metric | type | labels | meaning |", "|---|---|---|---|"]
    for spec in METRICS.values():
        labels = ", ".join(spec.labels) or "-"
        rows.append(f"| `{spec.name}` | {spec.type} | {labels} | {spec.help} |")
    return "\n".join(rows) + "\n"


GENERATORS = {"kpis": kpi_table, "metrics": metrics_table}


def render(text: str) -> str:
    """``text`` with every generated block replaced by its current content."""
    return _BLOCK.sub(lambda m: m.group(1) + GENERATORS[m.group("name")]() + m.group(3), text)


def main(argv: list[str] | None = None) -> int:
    path = Path(argv[0] if argv else "README.md")
    text = path.read_text(encoding="utf-8")
    path.write_text(render(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
