"""PromQL of the scans' KPIs (agent/generators/queries.py): none.

latest_count is a count of the latest report's findings, not a ratio of good
events, so it has no error budget to burn; its alerts are the source's own
(collectors/scans/alerts.py) and the core's coverage alert.
"""

from __future__ import annotations

from typing import Mapping

from agent.generators.queries import Sli

SLIS: Mapping[str, Sli] = {}
