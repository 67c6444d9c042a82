"""PromQL of the power KPI (agent/generators/queries.py): none.

A count of fault events is not a ratio of good to valid time, so it has no
error budget to burn; it pages on the faults themselves instead
(collectors/power/alerts.py SlaPowerFault), and the dashboards show the
agent's own month-to-date figure (sla_kpi_value).
"""

from __future__ import annotations

from typing import Mapping

from agent.generators.queries import Sli

SLIS: Mapping[str, Sli] = {}
