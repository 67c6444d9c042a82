"""Config models of the cloud-capacity collector (the ``clouds:`` section).

Same conventions as agent/config.py: frozen models that reject unknown keys,
secrets as ``${ENV}`` / ``{env: NAME}`` / ``{file: PATH}`` held as SecretStr,
durations as ``30s`` / ``5m``. A cloud is either ``type: openstack`` (Keystone
v3 + Placement + Cinder) or ``type: generic`` (one vendor HTTP/JSON endpoint
and a declarative mapping of its fields).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Sequence, Union

from pydantic import AfterValidator, Field, SecretStr, ValidationInfo, field_validator, model_validator

from agent.config_sections import Duration as Minimum, KpiSelector, NamedList
from agent.schema import BaseUrl, BodyLimit, ConfigPath, Duration, HttpUrl, Items, Model, Name, Secret, check_polled_http
from collectors.cloud import capacity


def _no_colon(value: str) -> str:
    # Cloud and region names are parts of ledger series ``cloud:C:R:X:capacity``;
    # a colon inside one would make two series names ambiguous.
    if ":" in value:
        raise ValueError(f"{value!r}: cloud and region names may not contain ':'")
    return value


def _json_path(value: str) -> str:
    capacity.parse_path(value)  # raises ValueError with a one-line reason
    return value


CloudName = Annotated[Name, AfterValidator(_no_colon)]
JsonPath = Annotated[str, AfterValidator(_json_path)]


class PasswordAuth(Model):
    """Keystone v3 ``password`` method, scoped to a project."""

    type: Literal["password"]
    username: str = Field(min_length=1)
    password: Secret
    user_domain_name: str = "Default"
    project_name: str = Field(min_length=1)
    project_domain_name: str = "Default"


class ApplicationCredentialAuth(Model):
    """Keystone v3 ``application_credential`` method; the credential fixes the project."""

    type: Literal["application_credential"]
    # Held like a secret: with the secret it is the credential, and read from the environment or a file too.
    id: Secret
    secret: Secret

    @field_validator("id")
    @classmethod
    def _id_not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("the application credential id is empty")
        return value


Auth = Annotated[Union[PasswordAuth, ApplicationCredentialAuth], Field(discriminator="type")]


class _Polled(Model):
    """What every cloud has: polling cadence, bounds and TLS."""

    name: CloudName
    interval: Duration = 300.0
    # Whole poll, every request and retry included; beyond it the region is unknown.
    timeout: Duration = 60.0
    # Extra attempts for a request that failed with 5xx / 429 or a connection error.
    retries: int = Field(2, ge=0, le=10)
    verify_tls: bool = True
    ca_file: ConfigPath | None = None

    @model_validator(mode="after")
    def _bounds(self) -> "_Polled":
        check_polled_http(self)
        return self


class OpenStackCloud(_Polled):
    """An OpenStack-compatible cloud (Huawei FusionSphere, Kunpeng-based 政务云, ...)."""

    type: Literal["openstack"]
    auth_url: BaseUrl  # Keystone, e.g. https://iam.example:5000/v3 (a trailing /v3 is optional)
    regions: Items[CloudName] = Field(min_length=1)
    auth: Auth
    interface: Literal["public", "internal"] = "public"
    # Where "storage" comes from. Cinder pools are the block storage the KPI
    # means; Placement DISK_GB is compute-local disk, and adding both would
    # count one Ceph cluster twice when ephemeral disks live on it too.
    storage_sources: tuple[Literal["cinder", "placement"], ...] = Field(("cinder",), min_length=1)
    # Inventory/usage requests in flight at once per region.
    max_concurrency: int = Field(8, ge=1, le=64)
    # Largest Placement provider list or Cinder pool list page read (about 600 bytes a
    # provider: 4 MiB is some 7,000 providers). Token and per-provider answers have
    # fixed limits of their own (collectors/cloud/openstack.py).
    max_body: BodyLimit = 4 * 2**20

    @model_validator(mode="after")
    def _unique(self) -> "OpenStackCloud":
        if len(set(self.regions)) != len(self.regions):
            raise ValueError("regions: each region may be listed once")
        if len(set(self.storage_sources)) != len(self.storage_sources):
            raise ValueError("storage_sources: each source may be listed once")
        return self


class FieldMapping(Model):
    """Where one resource's figures are in the vendor's JSON, and their unit."""

    capacity: JsonPath
    used: JsonPath | None = None
    unit: str

    @model_validator(mode="after")
    def _unit(self) -> "FieldMapping":
        capacity.unit_factor(self.unit)  # unknown unit -> ValueError
        return self


class GenericMapping(Model):
    vcpu: FieldMapping | None = None
    memory: FieldMapping | None = None
    storage: FieldMapping | None = None

    @model_validator(mode="after")
    def _kinds(self) -> "GenericMapping":
        mapped = 0
        for resource in capacity.RESOURCES:
            spec: FieldMapping | None = getattr(self, resource)
            if spec is None:
                continue
            mapped += 1
            kind = capacity.unit_kind(spec.unit)
            wanted = "count" if resource == "vcpu" else "bytes"
            if kind != wanted:
                raise ValueError(f"{resource}.unit {spec.unit!r} is a {kind} unit; {resource} needs a {wanted} unit")
        if not mapped:
            raise ValueError("map at least one of vcpu, memory, storage")
        return self


class GenericCloud(_Polled):
    """A cloud that only offers a vendor statistics API (e.g. ManageOne-style)."""

    type: Literal["generic"]
    region: CloudName = "default"
    url: HttpUrl
    method: Literal["GET", "POST"] = "GET"
    body: dict[str, Any] | None = None  # JSON body for POST
    headers: dict[str, Secret] = {}  # e.g. X-Auth-Token: ${MO_TOKEN}; values are secrets
    mapping: GenericMapping
    max_body: BodyLimit = 2**20  # the largest vendor document read; a statistics answer is kilobytes

    @field_validator("body")
    @classmethod
    def _body_needs_post(cls, value: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any] | None:
        # A field validator (not a model one) so the problem is reported at clouds[i].body.
        # aiohttp would send the JSON body with a GET, which servers ignore or refuse.
        if value is not None and info.data.get("method") == "GET":  # absent: method itself was invalid
            raise ValueError("a body is only sent with method: POST (this cloud uses GET)")
        return value


CloudConfig = Annotated[Union[OpenStackCloud, GenericCloud], Field(discriminator="type")]


def cloud_regions(cloud: OpenStackCloud | GenericCloud) -> tuple[str, ...]:
    """The regions a cloud's series and targets are named after."""
    return tuple(cloud.regions) if isinstance(cloud, OpenStackCloud) else (cloud.region,)


def check_clouds(clouds: Sequence[OpenStackCloud | GenericCloud], where: str = "clouds") -> list[tuple[str, str]]:
    """Problems across clouds (duplicate names), as (key path, message) for the config loader."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, cloud in enumerate(clouds):
        if cloud.name in seen:
            problems.append((f"{where}[{i}].name", f"duplicate cloud name {cloud.name!r}"))
        seen.add(cloud.name)
    return problems


def cloud_resources(cloud: OpenStackCloud | GenericCloud) -> tuple[str, ...]:
    """The resources a cloud reports (a generic cloud only those its mapping covers)."""
    if isinstance(cloud, OpenStackCloud):
        return capacity.RESOURCES
    return tuple(r for r in capacity.RESOURCES if getattr(cloud.mapping, r) is not None)


# -- the section, for agent.config ------------------------------------------------------------------

MIN_CLOUD_INTERVAL = (10.0, "each poll authenticates and reads every region's inventory, and capacity changes in days")
MIN_CLOUD_TIMEOUT = (1.0, "one poll is several HTTPS requests per region")


def _minimums(where: str, cloud: OpenStackCloud | GenericCloud) -> list[Minimum]:
    return [(f"{where}.interval", cloud.interval, MIN_CLOUD_INTERVAL), (f"{where}.timeout", cloud.timeout, MIN_CLOUD_TIMEOUT)]


SECTION = NamedList(
    key="clouds", model=CloudConfig, what="cloud", needs="needs at least one entry in clouds",
    selector=KpiSelector("clouds", Items[str] | None, "clouds"), check=check_clouds, minimums=_minimums,
).section()
