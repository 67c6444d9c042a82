"""Config of incident accounting (the ``incidents:`` section, optional).

Incidents come from two places: every down interval of a state series the
agent measures (a link, a probe, a power unit: each source says which of its
series count, SourceSpec.incident_series), and faults the agent does not poll,
pushed by Alertmanager to an authenticated webhook. The section says how long a
network incident may take to be resolved in time, and where the webhook listens.
"""

from __future__ import annotations

from typing import Any, Mapping


from agent.config_sections import ConfigSection, KpiSelector, PartialValidation, SectionView
from agent.schema import BodyLimit, Duration, ListenAddress, Listens, Model, NonBlankSecret, UrlPath


class AlertWebhook(Listens, Model):
    """Alertmanager's webhook receiver (``webhook_configs``), authenticated by a Bearer token.

    An alert counts as an incident from its ``startsAt`` to the ``endsAt`` of its resolved
    notification; its category is ``network`` when its labels match ``network_labels``, else ``other``.
    """

    listen: ListenAddress
    path: UrlPath = "/alertmanager"
    # Alertmanager sends it as `http_config: {authorization: {credentials: ...}}`; never listened on without.
    token: NonBlankSecret
    network_labels: dict[str, str] = {"category": "network"}
    # Alerts with these labels are not taken: the agent's own alerts (SlaProbeFailing, ...) are about
    # faults whose incidents it already records from its ledger, and would count twice.
    skip_labels: dict[str, str] = {"job": "sla-agent"}
    max_body: BodyLimit = 2**20  # a notification groups at most a few hundred alerts


class IncidentSettings(Model):
    webhook: AlertWebhook | None = None


class _View(SectionView):
    polls = False  # incidents measure what the other sources poll


def _view(config: Any) -> SectionView:
    return _View()


def _partial_view(data: Mapping[str, Any], seen: PartialValidation) -> SectionView:
    return _View()


SECTION = ConfigSection(
    fields=(("incidents", IncidentSettings, IncidentSettings()),),
    hint="",  # nothing to configure to measure: incidents are the other sources' down time
    measures="incidents",
    view=_view,
    partial_view=_partial_view,
    # network_fault_timeliness: how long a network incident may take and still be resolved in time.
    selectors=(KpiSelector("within", Duration | None, "a resolution bound"),),
)
