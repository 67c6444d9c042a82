"""Config models of the SMS-gateway collector (the ``sms:`` section, a list of gateways).

Same conventions as agent/config.py and collectors/cloud/config.py: frozen
models that reject unknown keys, durations as ``30s`` / ``72h``, the API key
and webhook token as secrets (``${ENV}`` / ``{env: NAME}`` / ``{file: PATH}``).
"""

from __future__ import annotations

from typing import Annotated, Sequence

from pydantic import AfterValidator, Field, SecretStr, field_validator, model_validator

from agent.config_sections import Duration as Minimum, KpiSelector, NamedList
from agent.schema import (
    BaseUrl,
    BodyLimit,
    ConfigPath,
    Duration,
    Items,
    ListenAddress,
    Listens,
    Model,
    Name,
    NonBlankSecret,
    Secret,
    UrlPath,
    check_polled_http,
)


def _no_colon(value: str) -> str:
    # Gateway names are part of the ledger series ``sms:<gateway>:feed``.
    if ":" in value:
        raise ValueError(f"{value!r}: gateway names may not contain ':'")
    return value


GatewayName = Annotated[Name, AfterValidator(_no_colon)]


HeaderName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]
PushSecret = NonBlankSecret
MAX_WINDOW = 3600.0


class WebhookHmac(Model):
    """Signed pushes (docs/sms.md): HMAC-SHA256 of ``<timestamp>.<body>`` with ``secret``, hex, in ``header``."""

    secret: PushSecret
    header: HeaderName = "X-Signature"
    timestamp_header: HeaderName = "X-Timestamp"  # Unix seconds when the push was signed
    # A push signed further than this from the agent's clock (either way) is refused,
    # and a signature already accepted within it is refused as a replay.
    window: Duration = 300.0

    @model_validator(mode="after")
    def _bounds(self) -> "WebhookHmac":
        if self.window > MAX_WINDOW:
            raise ValueError(f"window ({self.window:g}s) is at most {MAX_WINDOW:g}s: a longer one lets a "
                             "captured push be replayed for longer")
        if self.header.lower() == self.timestamp_header.lower():
            raise ValueError("header and timestamp_header must be two different headers")
        return self


class Webhook(Listens, Model):
    """Optional receiver for delivery reports the gateway pushes (fed into the same path as the pull feed).

    It never listens without authentication: a push either carries the
    ``token`` as ``Authorization: Bearer`` or is signed with the ``hmac`` secret.
    """

    listen: ListenAddress  # HOST:PORT the agent listens on for this gateway's reports
    path: UrlPath = "/sms/delivery-reports"
    token: PushSecret | None = None  # a push must carry ``Authorization: Bearer <token>``
    hmac: WebhookHmac | None = None  # or: a push must be signed (and recent, and not a replay)
    # The largest push taken (413 beyond): about 3,000 reports at a few hundred bytes each.
    max_body: BodyLimit = 2**20

    @model_validator(mode="after")
    def _authenticated(self) -> "Webhook":
        # Unauthenticated, anyone who reaches the port could post "failed" reports
        # and move the delivery rate: such an endpoint is not started at all.
        if self.token is None and self.hmac is None:
            raise ValueError("a push endpoint needs authentication: give webhook.token (Bearer) or webhook.hmac "
                             "(signed pushes, docs/sms.md)")
        if self.token is not None and self.hmac is not None:
            raise ValueError("give one of webhook.token and webhook.hmac, not both")
        return self


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
    url: BaseUrl  # base URL; the feed is {url}/v1/delivery-records
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
    # Largest feed page read; default page_size x RECORD_BYTES + PAGE_SLACK (max_page_body).
    max_body: BodyLimit | None = None
    verify_tls: bool = True
    ca_file: ConfigPath | None = None
    webhook: Webhook | None = None
    canary: Canary | None = None  # optional synthetic canary (submit API)

    @model_validator(mode="after")
    def _bounds(self) -> "SmsGateway":
        check_polled_http(self)
        return self


RECORD_BYTES = 2**11  # a generous record: a 128-character id, two RFC 3339 times, a code and vendor extras
PAGE_SLACK = 2**16


def max_page_body(gateway: SmsGateway) -> int:
    """The largest feed page the agent reads from ``gateway``."""
    if gateway.max_body is not None:
        return gateway.max_body
    return gateway.page_size * RECORD_BYTES + PAGE_SLACK


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


# -- the section, for agent.config ------------------------------------------------------------------

MIN_SMS_INTERVAL = (1.0, "each poll reads the gateway's delivery-record feed from its cursor; nothing is missed between polls")
MIN_SMS_TIMEOUT = (1.0, "one poll is one or more HTTPS requests")
MIN_CANARY_INTERVAL = (10.0, "each probe sends a real text message")
MIN_CANARY_TIMEOUT = (1.0, "a delivery report takes seconds to come back; shorter fails every probe")


def _minimums(where: str, gateway: SmsGateway) -> list[Minimum]:
    checks = [(f"{where}.interval", gateway.interval, MIN_SMS_INTERVAL), (f"{where}.timeout", gateway.timeout, MIN_SMS_TIMEOUT)]
    if gateway.canary is not None:
        checks += [(f"{where}.canary.interval", gateway.canary.interval, MIN_CANARY_INTERVAL),
                   (f"{where}.canary.timeout", gateway.canary.timeout, MIN_CANARY_TIMEOUT)]
    return checks


SECTION = NamedList(
    key="sms", model=SmsGateway, what="SMS gateway", needs="needs at least one gateway in sms",
    selector=KpiSelector("gateways", Items[str] | None, "SMS gateways", misuse="{id} does not measure {noun}"),
    check=check_gateways, minimums=_minimums,
).section()
