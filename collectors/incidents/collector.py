"""The incident collector: one target, the Alertmanager webhook, whose polls keep the receiver listening."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from collectors.base import Observation, PollResult, Target
from collectors.incidents.config import AlertWebhook
from collectors.incidents.webhook import AlertReceiver

TARGET = "alertmanager-webhook"


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    name: str = TARGET
    interval: float = 15.0  # how soon a receiver that could not bind its port tries again
    poll_timeout: float = 5.0


class IncidentCollector:
    kind = "incidents"

    def __init__(self, settings: AlertWebhook, ledger: Any):
        self.receiver = AlertReceiver(settings, ledger)
        self._targets = (WebhookTarget(),)

    def targets(self) -> Sequence[WebhookTarget]:
        return self._targets

    def unknown(self, target: Target) -> tuple[Observation, ...]:
        return ()  # it observes no series: pushed incidents go to their own table

    async def poll(self, target: Target) -> PollResult:
        await self.receiver.ensure_started()  # its own state (sla_incident_webhook_up): never fails the poll
        return PollResult((), self.receiver.samples())

    async def close(self) -> None:
        await self.receiver.stop()
