"""The KPI engine's month-to-date evaluation of large link groups: SQL sums against the Python path.

    python bench/bench_kpi.py [--links 12000] [--segments 2] [--repeat 5]

Writes a ledger like the agent's after a while of polling: per link an
up series (link:<name>:up) and an available-capacity series
(link:<name>:available), each with ``--segments`` segments in the month (one
link in 50 went down once). Then times, in the same run, the two sums the
engine needs for an availability and a capacity_sum KPI over the whole group:
through the ledger's SQL (agent/ledger_sums.py) and through the segment-by-segment
Python path (agent.kpi_types.SegmentSums), checks they agree, and prints the
medians and their ratio as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.kpi_types import SegmentSums  # noqa: E402
from agent.ledger import Ledger  # noqa: E402

MONTH_START = 1_796_140_800.0  # 2026-12-01 00:00 Asia/Shanghai
NOW = MONTH_START + 2 * 86400


class PythonPath(SegmentSums):
    def __init__(self, ledger: Ledger):
        self._ledger = ledger

    def segments(self, names, start, end):
        return self._ledger.segments(names, start, end)


def build(path: Path, links: int, segments: int) -> tuple[list[str], list[str]]:
    ledger = Ledger(path)
    up = [f"link:dev{i // 24}:if{i % 24}:up" for i in range(links)]
    available = [f"link:dev{i // 24}:if{i % 24}:available" for i in range(links)]
    step = (NOW - MONTH_START) / segments
    for k in range(segments):
        at = MONTH_START + k * step + (k and 0.5)
        entries = []
        for i in range(links):
            down = k == segments - 1 and i % 50 == 0 and segments > 1
            entries.append((up[i], 0.0 if down else 1.0, at, step))
            entries.append((available[i], 0.0 if down else 1e9, at, step))
        ledger.record(entries)
    ledger.close()
    return up, available


def median_seconds(work, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return statistics.median(times)


def fleet_arguments(description: str) -> argparse.Namespace:
    """--links, --segments and --repeat: the ledger ``build`` writes and how often each evaluation is timed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--links", type=int, default=12000)
    parser.add_argument("--segments", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    return parser.parse_args()


def main() -> int:
    args = fleet_arguments(__doc__.splitlines()[0])
    with tempfile.TemporaryDirectory() as tmp:
        up, available = build(Path(tmp) / "ledger.db", args.links, args.segments)
        ledger = Ledger(Path(tmp) / "ledger.db")
        slow = PythonPath(ledger)
        if ledger.state_seconds(up, MONTH_START, NOW) != slow.state_seconds(up, MONTH_START, NOW) or \
                ledger.summed(available, MONTH_START, NOW) != slow.summed(available, MONTH_START, NOW):
            print("the SQL and Python paths disagree", file=sys.stderr)
            return 1
        sql_ms = 1000 * median_seconds(lambda: (ledger.state_seconds(up, MONTH_START, NOW),
                                               ledger.summed(available, MONTH_START, NOW)), args.repeat)
        python_ms = 1000 * median_seconds(lambda: (slow.state_seconds(up, MONTH_START, NOW),
                                                  slow.summed(available, MONTH_START, NOW)), args.repeat)
        ledger.close()
    print(f"{args.links} links x {args.segments} segments, availability + capacity sum, CPU per evaluation: "
          f"SQL {sql_ms:.1f} ms, Python path {python_ms:.1f} ms")
    print(json.dumps({"links": args.links, "segments": args.segments, "sql_ms": round(sql_ms, 2),
                      "python_ms": round(python_ms, 2), "ratio": round(sql_ms / python_ms, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
