"""The incident KPIs' month-to-date evaluation over a large fleet, against the availability KPI of the same links.

    python bench/bench_incidents.py [--links 12000] [--segments 2] [--repeat 5]

Writes a ledger like the agent's after a while of polling (bench_kpi.build: per
link an up series with ``--segments`` segments in the month, one link in 50
down once), configures the links as one group, and times in the same run, per
KPI evaluation (CPU, median of ``--repeat``):

- the baseline: ``egress_link_availability`` over the group (the ledger's SQL sums);
- ``fault_handling_rate`` and ``network_fault_timeliness``: every link's incidents,
  derived from its segments.

Prints the medians, their ratios to the baseline, and how many incidents were found, as one JSON line.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent import kpi, periods  # noqa: E402
from agent.config import parse_config  # noqa: E402
from agent.kpi import KpiEngine  # noqa: E402
from agent.ledger import Ledger  # noqa: E402
from bench.bench_kpi import MONTH_START, NOW, build, fleet_arguments, median_seconds  # noqa: E402

PER_DEVICE = 24  # bench_kpi.build's links: dev<i // 24>:if<i % 24>


def config(links: int) -> object:
    devices = [{"name": f"dev{d}", "address": "127.0.0.1"} for d in range((links + PER_DEVICE - 1) // PER_DEVICE)]
    group = [{"name": f"dev{i // PER_DEVICE}:if{i % PER_DEVICE}", "device": f"dev{i // PER_DEVICE}",
              "if_name": f"if{i % PER_DEVICE}"} for i in range(links)]
    return parse_config({
        "snmp": {"defaults": {"community": "c"}, "devices": devices},
        "link_groups": [{"name": "egress", "links": group}],
        "kpis": [{"id": "egress_link_availability", "link_group": "egress"}, {"id": "fault_handling_rate"},
                 {"id": "network_fault_timeliness"}],
    }, "bench.yaml")


def main() -> int:
    args = fleet_arguments(__doc__.splitlines()[0])
    period = periods.Period("2026-12", MONTH_START, MONTH_START + 31 * 86400)
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp) / "ledger.db", args.links, args.segments)
        ledger = Ledger(Path(tmp) / "ledger.db")
        engine = KpiEngine(config(args.links), ledger)
        plans = {plan.definition.id: plan for plan in engine.plans}

        def evaluate(kpi_id: str):
            plan = plans[kpi_id]
            return kpi.evaluate(plan, ledger, period, NOW, engine.maintenance(plan, period.start, NOW))

        handling = evaluate("fault_handling_rate")
        ms = {kpi_id: 1000 * median_seconds(lambda k=kpi_id: evaluate(k), args.repeat) for kpi_id in plans}
        ledger.close()
    base = ms["egress_link_availability"]
    print(f"{args.links} links x {args.segments} segments, CPU per evaluation: " +
          ", ".join(f"{k} {v:.1f} ms" for k, v in ms.items()))
    print(json.dumps({"links": args.links, "segments": args.segments, "incidents": handling.details["raised"],
                      **{f"{k}_ms": round(v, 2) for k, v in ms.items()},
                      **{f"{k}_ratio": round(v / base, 2) for k, v in ms.items() if k != "egress_link_availability"}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
