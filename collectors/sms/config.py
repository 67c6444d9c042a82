"""Config models of the SMS-gateway collector (the ``sms:`` section, a list of gateways).

Same conventions as agent/config.py and collectors/cloud/config.py: frozen
models that reject unknown keys, durations as ``30s`` / ``72h``, the API key
and webhook token as secrets (``${ENV}`` / ``{env: NAME}`` / ``{file: PATH}``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Sequence

from pydantic import AfterValidator, Field, SecretStr, field_validator, model_validator

from agent.schema import Duration, ListenAddress, Listens, Model, Name, Secret


def _no_colon(value: str) -> str:
    # Gateway names are part of the ledger series ``sms:<gateway>:feed``.
    if ":" in value:
        raise ValueError(f"{value!r}: gateway names may not contain ':'")
    return value


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or len(value) < 10:
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    return value.rstrip("/")


GatewayName = Annotated[Name, AfterValidator(_no_colon)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]


class Webhook(Listens, Model):
    """Optional receiver for delivery reports the gateway pushes (fed into the same path as the pull feed)."""

    listen: ListenAddress  # HOST:PORT the agent listens on for this gateway's reports
    path: str = "/sms/delivery-reports"
    # When set, a push must carry ``Authorization: Bearer <token>``.
    token: Secret | None = None

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"{value!r}: the path starts with /")
        return value



CANARY_TEXT = "sla-agent SMS canary: test message, please ignore."


class Canary(Model):
    """Optional synthetic canary: a real test message sent through the gateway's submit API on an interval.

    Its submit-to-final-status time is measured on the agent's own clock (docs/sms.md).
    """

    to: Secret  # the probe number; a secret, never logged or exposed
    text: str = Field(CANARY_TEXT, min_length=1, max_length=500)
    interval: Duration = 300.0
    # How long after the submit the agent waits for a final status; a probe still
    # pending by then is a failed probe (reason timeout).
    timeout: Duration = 60.0

    @field_validator("to")
    @classmethod
    def _to(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("the probe number is empty")
        return value

    @model_validator(mode="after")
    def _bounds(self) -> "Canary":
        if self.timeout >= self.interval:
            raise ValueError(f"timeout ({self.timeout:g}s) must be less than interval ({self.interval:g}s)")
        return self


class SmsGateway(Model):
    """One SMS gateway's delivery-record feed (API in docs/sms.md)."""

    name: GatewayName
    url: HttpUrl  # base URL; the feed is {url}/v1/delivery-records
    api_key: Secret | None = None  # sent as Authorization: Bearer <api_key>
    interval: Duration = 15.0
    # Whole poll, every page and retry included; a poll that catches up sooner ends sooner.
    timeout: Duration = 10.0
    retries: int = Field(2, ge=0, le=10)
    page_size: int = Field(1000, ge=1, le=10_000)
    max_pages: int = Field(200, ge=1, le=100_000)  # per poll; the rest waits for the next poll
    # A message with no final status this long after its submit counts as expired
    # (code no_report); until then it is pending and outside the delivery rate.
    grace: Duration = 72 * 3600.0
    # Settled messages are remembered this long beyond the grace, to drop duplicates;
    # after a cursor reset the feed is re-read from this far before where it stood.
    margin: Duration = 3600.0
    backfill: Duration = 3600.0  # first start: read the feed from this long ago
    max_error_codes: int = Field(20, ge=1, le=200)  # error codes with their own label; the rest are "other"
    verify_tls: bool = True
    ca_file: Path | None = None
    webhook: Webhook | None = None
    canary: Canary | None = None  # optional synthetic canary (submit API)

    @model_validator(mode="after")
    def _bounds(self) -> "SmsGateway":
        if self.timeout > self.interval:
            raise ValueError(f"timeout ({self.timeout:g}s) must not exceed interval ({self.interval:g}s)")
        if self.ca_file is not None and not self.verify_tls:
            raise ValueError("ca_file is given but verify_tls is false: drop one")
        return self


def check_gateways(gateways: Sequence[SmsGateway], where: str = "sms") -> list[tuple[str, str]]:
    """Problems across gateways (duplicate names, shared webhook ports), as (key path, message)."""
    problems: list[tuple[str, str]] = []
    names: set[str] = set()
    listens: set[str] = set()
    for i, gateway in enumerate(gateways):
        if gateway.name in names:
            problems.append((f"{where}[{i}].name", f"duplicate gateway name {gateway.name!r}"))
        names.add(gateway.name)
        if gateway.webhook is not None:
            if gateway.webhook.listen in listens:
                problems.append((f"{where}[{i}].webhook.listen", f"{gateway.webhook.listen} is used by another gateway"))
            listens.add(gateway.webhook.listen)
    return problems
