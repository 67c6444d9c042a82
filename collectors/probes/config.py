"""Config models of the HTTP service probes (the ``probes:`` section, a list of probes).

Same conventions as the other sources: frozen models that reject unknown keys,
durations as ``30s`` / ``5m``, header values as secrets (``${ENV}`` /
``{env: NAME}`` / ``{file: PATH}``: an ``Authorization`` header is a token).
A probe succeeds when the answer arrives within ``timeout``, its status is one
of ``expect_status`` and every body condition given holds.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Sequence

from pydantic import AfterValidator, Field, model_validator

from agent.config_sections import Duration as Minimum, KpiSelector, MaintenanceScope, NamedList, unique
from agent.schema import BodyLimit, ConfigPath, Duration, HttpUrl, Items, Model, Name, Secret, check_polled_http
from collectors.cloud.capacity import parse_path
from collectors.probes.series import probe_up


def _no_colon(value: str) -> str:
    # Probe names are part of the ledger series ``probe:<name>:up``.
    if ":" in value:
        raise ValueError(f"{value!r}: probe names may not contain ':'")
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
    return value


def _json_path(value: str) -> str:
    parse_path(value)  # raises ValueError with a one-line reason
    if "*" in value:
        raise ValueError(f"{value!r}: a probe's JSON path names one field ([*] is for sums)")
    return value


ProbeName = Annotated[Name, AfterValidator(_no_colon)]
HeaderName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]
Status = Annotated[int, Field(ge=100, le=599)]
# A business system's name: a label value on /metrics and a sub-row of the export.
SystemName = Annotated[str, Field(pattern=r"^[A-Za-z0-9\u4e00-\u9fff][A-Za-z0-9_.\- \u4e00-\u9fff]{0,62}$")]


class JsonCondition(Model):
    """A field of a JSON answer, and what it must be (``equals``), or only that it is there."""

    path: Annotated[str, AfterValidator(_json_path)]  # e.g. data.status or items[0].state
    equals: str | int | float | bool | None = None  # absent: the field only has to exist


class Probe(Model):
    """One HTTP(S) endpoint probed on its own interval."""

    name: ProbeName
    url: HttpUrl
    method: Literal["GET", "HEAD", "POST"] = "GET"
    headers: dict[HeaderName, Secret] = {}  # values are secrets: never logged, exposed or exported
    body: str | None = None  # sent with POST
    expect_status: Items[Status] = (200,)
    body_contains: str | None = Field(None, min_length=1)
    body_regex: Annotated[str, AfterValidator(_regex)] | None = None
    json_field: JsonCondition | None = None
    # The business system the endpoint belongs to (epidemic_platform_availability's sub-rows); its name by default.
    system: SystemName | None = None
    interval: Duration = 30.0
    # The whole request: DNS, connect, TLS, headers and the body read; beyond it the probe failed (timeout).
    timeout: Duration = 10.0
    verify_tls: bool = True
    ca_file: ConfigPath | None = None
    # The largest body read for the conditions; a larger answer is a failure (too_large), read no further.
    max_body: BodyLimit = 2**20

    @model_validator(mode="after")
    def _bounds(self) -> "Probe":
        check_polled_http(self)
        if self.body is not None and self.method != "POST":
            raise ValueError(f"a body is only sent with method: POST (this probe uses {self.method})")
        if self.method == "HEAD" and (self.body_contains or self.body_regex or self.json_field):
            raise ValueError("a HEAD answer has no body: body_contains, body_regex and json_field need GET or POST")
        if len(set(self.expect_status)) != len(self.expect_status):
            raise ValueError("expect_status: each status may be listed once")
        return self

    @property
    def business_system(self) -> str:
        return self.system or self.name


def check_probes(probes: Sequence[Probe]) -> list[tuple[str, str]]:
    """Problems across probes (duplicate names)."""
    return unique(probes, "probes")


# -- the section, for agent.config ------------------------------------------------------------------

MIN_PROBE_INTERVAL = (5.0, "each probe is a whole HTTP request to a production service")
MIN_PROBE_TIMEOUT = (0.5, "a probe's timeout covers DNS, connect, TLS and the answer")


def _minimums(where: str, probe: Probe) -> list[Minimum]:
    return [(f"{where}.interval", probe.interval, MIN_PROBE_INTERVAL),
            (f"{where}.timeout", probe.timeout, MIN_PROBE_TIMEOUT)]


SECTION = NamedList(
    key="probes", model=Probe, what="probe", needs="needs at least one entry in probes",
    selector=KpiSelector("probes", Items[str] | None, "HTTP probes"), check=check_probes, minimums=_minimums,
    scope=MaintenanceScope("probes", "probe", lambda config, names: map(probe_up, names)),
).section()

__all__ = ["JsonCondition", "Probe", "SECTION", "check_probes"]
