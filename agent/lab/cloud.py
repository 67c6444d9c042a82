"""A simulated OpenStack-compatible government cloud on 127.0.0.1 (aiohttp).

Keystone v3 (``/identity/v3/auth/tokens``) on one port, and per region one
port serving Placement (``/placement/...``, microversions 1.0-1.39) and Cinder
(``/volume/v3/{project_id}/scheduler-stats/get_pools``), as separate API hosts
per region are in a real cloud. Bodies follow the upstream api-ref samples.
The Keystone port also serves an illustrative vendor statistics document
(``/vendor/rest/statistics/v1/capacity``, ManageOne-style, *not* a vendor's
documented schema) for the generic collector.

Knobs (all take effect on the next request): ``token_ttl``, ``page_size``
(Placement provider lists), ``pool_page_size`` (Cinder pool lists), ``delay``, :meth:`fail_next`, :meth:`malformed_next`, :meth:`drop_field`,
:meth:`corrupt_field`, :meth:`remove_provider_after_list`,
:meth:`expire_tokens`, :meth:`set_capacity`; wrong credentials get a 401.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
import time
import uuid as uuidlib
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable

from aiohttp import web

HOST = "127.0.0.1"
PLACEMENT_MAX = (1, 39)
_NS = uuidlib.UUID("6f1c2a52-7d3e-4c41-9d7a-1e0b8a6c5f10")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class LabProvider:
    """A Placement resource provider (a compute node) with inventories and usages."""

    uuid: str
    name: str
    inventories: dict[str, dict[str, Any]]  # resource class -> inventory record
    usages: dict[str, int]
    generation: int = 1


@dataclass
class LabPool:
    """A Cinder back-end pool as get_pools?detail=True reports it (GiB)."""

    name: str
    total_capacity_gb: float
    free_capacity_gb: float
    reserved_percentage: int = 5
    backend: str = "fusionstorage"

    def capabilities(self) -> dict[str, Any]:
        return {
            "updated": "2024-03-01T08:00:00.000000",
            "total_capacity_gb": self.total_capacity_gb,
            "free_capacity_gb": self.free_capacity_gb,
            "allocated_capacity_gb": round(self.total_capacity_gb - self.free_capacity_gb),
            "reserved_percentage": self.reserved_percentage,
            "volume_backend_name": self.backend,
            "driver_version": "2.6.1",
            "storage_protocol": "iSCSI",
            "thin_provisioning_support": True,
            "thick_provisioning_support": False,
            "max_over_subscription_ratio": "20.0",
            "QoS_support": True,
            "multiattach": True,
        }


@dataclass
class LabRegion:
    name: str
    providers: list[LabProvider]
    pools: list[LabPool]


def inventory(total: int, reserved: int = 0, ratio: float = 1.0) -> dict[str, Any]:
    """A Placement inventory record as the API returns it."""
    return {"total": total, "reserved": reserved, "allocation_ratio": ratio,
            "min_unit": 1, "max_unit": total, "step_size": 1}


def compute_nodes(
    region: str, count: int, *, cores: int, memory_mb: int, disk_gb: int,
    cpu_ratio: float, ram_ratio: float = 1.0, reserved_cores: int = 0, reserved_mb: int = 0,
    reserved_gb: int = 0, load: float = 0.6,
) -> list[LabProvider]:
    """``count`` identical compute nodes with deterministic, uneven allocations around ``load``."""
    nodes = []
    for i in range(count):
        name = f"kp-{region}-cmp-{i + 1:03d}"
        share = load * (0.75 + 0.5 * ((i * 37) % 11) / 10)  # 0.75x .. 1.25x the load, spread
        vcpu_cap = int((cores - reserved_cores) * cpu_ratio)
        ram_cap = int((memory_mb - reserved_mb) * ram_ratio)
        nodes.append(LabProvider(
            uuid=str(uuidlib.uuid5(_NS, name)),
            name=name,
            inventories={
                "VCPU": inventory(cores, reserved_cores, cpu_ratio),
                "MEMORY_MB": inventory(memory_mb, reserved_mb, ram_ratio),
                "DISK_GB": inventory(disk_gb, reserved_gb, 1.0),
            },
            usages={
                "VCPU": min(vcpu_cap, int(vcpu_cap * share)),
                "MEMORY_MB": min(ram_cap, int(ram_cap * share) // 1024 * 1024),
                "DISK_GB": min(disk_gb - reserved_gb, int((disk_gb - reserved_gb) * share / 2)),
            },
        ))
    return nodes


def demo_regions() -> list[LabRegion]:
    """The center's 政务云 as the demo shows it: two Kunpeng regions (fresh copies each call).

    shenzhen-1: 60 x Kunpeng 920 2-socket nodes, 128 cores (8 reserved) at
    cpu_allocation_ratio 2.0, 1536 GiB RAM (32 GiB reserved) -> 14400 vCPU,
    90240 GiB; 4 storage pools of 800 TiB, 5 % reserved -> 3040 TiB.
    shenzhen-2: 16 nodes, 96 cores (4 reserved) at 2.0, 768 GiB (16 GiB
    reserved) -> 2944 vCPU, 12032 GiB; 2 pools of 600 TiB, 5 % reserved -> 1140 TiB.
    Total 17344 vCPU, 102272 GiB, 4180 TiB: above 15000 vCPU, 100000 GB and
    4000 TB whether GB/TB are read as 10**9/10**12 or 2**30/2**40 bytes.
    """
    sz1 = compute_nodes("sz1", 60, cores=128, memory_mb=1536 * 1024, disk_gb=1780, cpu_ratio=2.0,
                        reserved_cores=8, reserved_mb=32 * 1024, reserved_gb=100, load=0.62)
    sz2 = compute_nodes("sz2", 16, cores=96, memory_mb=768 * 1024, disk_gb=1780, cpu_ratio=2.0,
                        reserved_cores=4, reserved_mb=16 * 1024, reserved_gb=100, load=0.48)
    return [
        LabRegion("shenzhen-1", sz1, [LabPool(f"fs-sz1@pool{n}#pool{n}", 819200, 819200 - 350000 - n * 9000)
                                      for n in range(1, 5)]),
        LabRegion("shenzhen-2", sz2, [LabPool(f"fs-sz2@pool{n}#pool{n}", 614400, 614400 - 210000 - n * 7000)
                                      for n in range(1, 3)]),
    ]


# The demo's cloud config (a ``clouds:`` list entry). CloudLab.demo_config()
# points it at a running lab; the password comes from DEMO_CLOUD_ENV, which
# CloudLab.demo_env() supplies, as the SNMP demo does for its v3 keys.
DEMO_CLOUD_ENV = "SLA_DEMO_CLOUD_PASSWORD"
DEMO_CLOUD: dict[str, Any] = {
    "type": "openstack",
    "name": "gov-cloud",
    "auth_url": "http://127.0.0.1:5000/identity/v3",
    "regions": ["shenzhen-1", "shenzhen-2"],
    "auth": {"type": "password", "username": "sla-agent", "password": "${" + DEMO_CLOUD_ENV + "}",
             "user_domain_name": "Default", "project_name": "sla-monitoring", "project_domain_name": "Default"},
    "interval": "60s",
    "timeout": "20s",
}


@dataclass
class _Fault:
    kind: str  # "status" or "malformed"
    count: int
    service: str | None
    region: str | None
    status: int = 500
    mode: str = "garbage"
    retry_after: float | None = None


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _keystone_error(status: int, title: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": status, "title": title, "message": message}}, status=status)


def _after_marker(keys: list[str], marker: str | None) -> int | None:
    """Where a page starts: 0 without a marker, just after the marked item, None if it is unknown."""
    if marker is None:
        return 0
    index = next((i for i, key in enumerate(keys) if key == marker), None)
    return None if index is None else index + 1


def _placement_error(status: int, title: str, detail: str) -> web.Response:
    body = {"errors": [{"status": status, "title": title, "detail": detail,
                        "request_id": f"req-{uuidlib.uuid4()}"}]}
    return web.json_response(body, status=status)


@dataclass
class _Token:
    expires: float  # monotonic
    project_id: str


@dataclass
class CloudLab:
    """Async context manager serving the simulated cloud; see the module docstring for knobs."""

    regions: list[LabRegion] = field(default_factory=demo_regions)
    token_ttl: float = 3600.0
    page_size: int | None = None  # providers per Placement list page (None: one page)
    pool_page_size: int | None = None  # pools per Cinder get_pools page (None: one page)
    delay: float = 0.0  # seconds added to every Placement / Cinder / vendor answer
    volume_service_type: str = "volumev3"
    username: str = "sla-agent"
    password: str = "lab-cloud-S3cret"
    project_name: str = "sla-monitoring"
    domain: str = "Default"
    app_credential_id: str = "4c1b2e0f9a7d4e3c8b6a5d4c3b2a1f0e"
    app_credential_secret: str = "lab-appcred-S3cret"
    vendor_token: str = "lab-vendor-S3cret"
    vendor_document: dict[str, Any] | None = None  # None: derived from the regions
    project_id: str = "8d4f2c6e1a3b4d5e9f0a1b2c3d4e5f60"
    identity_port: int = 0  # 0: a free port; region endpoints always take free ports

    def __post_init__(self) -> None:
        self.requests: deque[tuple[str, str, str, int]] = deque(maxlen=10_000)  # service, method, path, status
        self.placement_versions: deque[str | None] = deque(maxlen=10_000)
        self.auth_count = 0
        self.vendor_bodies: deque[Any] = deque(maxlen=100)
        self.counts: Counter[str] = Counter()
        self._tokens: dict[str, _Token] = {}
        self._faults: list[_Fault] = []
        self._drop: set[str] = set()
        self._corrupt: dict[str, Any] = {}
        self._remove_after_list: list[str | None] = []
        self._expire_after: int | None = None
        self._runners: list[web.AppRunner] = []
        self.port = 0
        self.region_ports: dict[str, int] = {}

    # -- lifecycle ---------------------------------------------------------

    async def __aenter__(self) -> "CloudLab":
        identity = web.Application()
        identity.router.add_post("/identity/v3/auth/tokens", self._wrap("identity", None, self._auth))
        vendor = self._wrap("vendor", None, self._vendor)
        identity.router.add_get("/vendor/rest/statistics/v1/capacity", vendor)
        identity.router.add_post("/vendor/rest/statistics/v1/capacity", vendor)
        self.port = await self._serve(identity, self.identity_port)
        for region in self.regions:
            app = web.Application()
            name = region.name
            app.router.add_get("/placement/resource_providers", self._wrap("placement", name, self._providers))
            app.router.add_get("/placement/resource_providers/{uuid}/inventories",
                               self._wrap("placement", name, self._inventories))
            app.router.add_get("/placement/resource_providers/{uuid}/usages", self._wrap("placement", name, self._usages))
            app.router.add_get("/volume/v3/{project_id}/scheduler-stats/get_pools", self._wrap("volume", name, self._pools))
            self.region_ports[name] = await self._serve(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()

    async def _serve(self, app: web.Application, port: int = 0) -> int:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        await web.TCPSite(runner, HOST, port).start()
        self._runners.append(runner)
        return int(runner.addresses[0][1])

    @property
    def auth_url(self) -> str:
        return f"http://{HOST}:{self.port}/identity/v3"

    @property
    def vendor_url(self) -> str:
        return f"http://{HOST}:{self.port}/vendor/rest/statistics/v1/capacity"

    def demo_config(self) -> dict[str, Any]:
        """DEMO_CLOUD pointed at this lab (password still ``${SLA_DEMO_CLOUD_PASSWORD}``)."""
        config = copy.deepcopy(DEMO_CLOUD)
        config["auth_url"] = self.auth_url
        return config

    def demo_env(self) -> dict[str, str]:
        """The environment DEMO_CLOUD's secret reference resolves against."""
        return {DEMO_CLOUD_ENV: self.password}

    def cloud_config(self, name: str = "gov-cloud", app_credential: bool = False, **overrides: Any) -> dict[str, Any]:
        """A ``type: openstack`` config dict for this lab, credentials included (literal)."""
        config = copy.deepcopy(DEMO_CLOUD)
        config.update(name=name, auth_url=self.auth_url, regions=[r.name for r in self.regions])
        if app_credential:
            config["auth"] = {"type": "application_credential", "id": self.app_credential_id,
                              "secret": self.app_credential_secret}
        else:
            config["auth"].update(username=self.username, password=self.password, user_domain_name=self.domain,
                                  project_name=self.project_name, project_domain_name=self.domain)
        config.update(overrides)
        return config

    def region(self, name: str) -> LabRegion:
        return next(r for r in self.regions if r.name == name)

    # -- knobs -------------------------------------------------------------

    def fail_next(self, status: int, count: int = 1, service: str | None = None, region: str | None = None,
                  retry_after: float | None = None) -> None:
        """Answer the next ``count`` matching requests with ``status`` (and an API-style error body)."""
        self._faults.append(_Fault("status", count, service, region, status=status, retry_after=retry_after))

    def malformed_next(self, count: int = 1, mode: str = "garbage", service: str | None = None,
                       region: str | None = None) -> None:
        """Corrupt the next ``count`` matching 200 answers.

        ``garbage``: not JSON; ``truncated``: the JSON cut in half (a valid
        HTTP response); ``cut``: the connection closes mid-body.
        """
        if mode not in ("garbage", "truncated", "cut"):
            raise ValueError(f"unknown malformed mode {mode!r}")
        self._faults.append(_Fault("malformed", count, service, region, mode=mode))

    def drop_field(self, name: str) -> None:
        """Leave ``name`` out of inventory records and pool capabilities until :meth:`clear_faults`."""
        self._drop.add(name)

    def corrupt_field(self, name: str, value: Any) -> None:
        """Serve ``value`` (e.g. "lots", None, "infinite") for ``name`` in inventories and pools."""
        self._corrupt[name] = value

    def remove_provider_after_list(self, uuid: str | None = None, times: int = 1) -> None:
        """After each of the next ``times`` provider lists, delete a listed provider (``uuid`` or the first)."""
        self._remove_after_list.extend([uuid] * times)

    def expire_tokens(self, after_requests: int = 0) -> None:
        """Make every issued token invalid now, or after ``after_requests`` more service requests."""
        if after_requests <= 0:
            self._tokens.clear()
        else:
            self._expire_after = after_requests

    def clear_faults(self) -> None:
        self._faults.clear()
        self._drop.clear()
        self._corrupt.clear()
        self._remove_after_list.clear()
        self._expire_after = None
        self.delay = 0.0

    def set_capacity(self, region: str, resource: str, **fields: Any) -> None:
        """Change one resource on every node (VCPU / MEMORY_MB / DISK_GB: total, reserved,
        allocation_ratio, used) or every pool (``"volume"``: total_capacity_gb,
        free_capacity_gb, reserved_percentage) of ``region``."""
        target = self.region(region)
        if resource == "volume":
            for pool in target.pools:
                for key, value in fields.items():
                    setattr(pool, key, value)
            return
        for provider in target.providers:
            record = provider.inventories.get(resource)
            if record is None:
                continue
            for key, value in fields.items():
                if key == "used":
                    provider.usages[resource] = value
                else:
                    record[key] = value
                    if key == "total":
                        record["max_unit"] = value
            provider.generation += 1

    def remove_providers(self, region: str, count: int) -> list[LabProvider]:
        """Take ``count`` nodes out of ``region`` (decommissioned); returns them."""
        target = self.region(region)
        removed, target.providers = target.providers[:count], target.providers[count:]
        return removed

    # -- plumbing ----------------------------------------------------------

    def _wrap(self, service: str, region: str | None, handler: Handler) -> Handler:
        async def serve(request: web.Request) -> web.StreamResponse:
            response = await self._handle(service, region, handler, request)
            self.requests.append((service, request.method, request.path_qs, response.status))
            self.counts[service] += 1
            return response

        return serve

    def _take(self, kind: str, service: str, region: str | None) -> _Fault | None:
        for fault in self._faults:
            if fault.kind == kind and fault.service in (None, service) and fault.region in (None, region):
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _handle(self, service: str, region: str | None, handler: Handler,
                      request: web.Request) -> web.StreamResponse:
        if service != "identity" and self.delay > 0:
            await asyncio.sleep(self.delay)
        fault = self._take("status", service, region)
        if fault is not None:
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
            if service == "identity":
                response = _keystone_error(fault.status, "Error", "simulated failure")
            else:
                response = _placement_error(fault.status, "Error", "simulated failure")
            if headers:
                response.headers.update(headers)
            return response
        if service in ("placement", "volume"):
            refused = self._check_token(request)
            if refused is not None:
                return refused
        answer = await handler(request)
        if 200 <= answer.status < 300 and isinstance(answer, web.Response):
            bad = self._take("malformed", service, region)
            if bad is not None:
                return await self._malform(request, answer, bad.mode)
        return answer

    def _check_token(self, request: web.Request) -> web.Response | None:
        if self._expire_after is not None:
            self._expire_after -= 1
            if self._expire_after <= 0:
                self._expire_after = None
                self._tokens.clear()
        token = self._tokens.get(request.headers.get("X-Auth-Token", ""))
        if token is None or token.expires <= time.monotonic():
            return _keystone_error(401, "Unauthorized", "The request you have made requires authentication.")
        return None

    async def _malform(self, request: web.Request, response: web.Response, mode: str) -> web.StreamResponse:
        body = response.body if isinstance(response.body, bytes) else b""
        # Same status and headers (X-Subject-Token included), only the body goes bad.
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
        if mode == "garbage":
            return web.Response(status=response.status, headers=headers, content_type="application/json",
                                body=b"<html><body>502 Bad Gateway</body></html>{")
        if mode == "truncated":
            return web.Response(status=response.status, headers=headers, content_type="application/json",
                                body=body[: len(body) // 2])
        stream = web.StreamResponse(status=response.status, headers={**headers, "Content-Type": "application/json"})
        stream.content_length = len(body)
        await stream.prepare(request)
        await stream.write(body[: len(body) // 2])
        if request.transport is not None:
            request.transport.close()
        return stream

    def _shape(self, record: dict[str, Any]) -> dict[str, Any]:
        """A record with the field faults applied."""
        out = {key: value for key, value in record.items() if key not in self._drop}
        for name, value in self._corrupt.items():
            if name in out:
                out[name] = value
        return out

    # -- Keystone ----------------------------------------------------------

    async def _auth(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            identity = body["auth"]["identity"]
            methods = identity["methods"]
        except (ValueError, KeyError, TypeError):
            return _keystone_error(400, "Bad Request", "Expecting to find auth.identity.methods in the request.")
        unauthorized = _keystone_error(401, "Unauthorized", "The request you have made requires authentication.")
        if methods == ["password"]:
            user = identity.get("password", {}).get("user", {})
            project = (body["auth"].get("scope") or {}).get("project", {})
            if (user.get("name"), user.get("password"), (user.get("domain") or {}).get("name")) != (
                self.username, self.password, self.domain
            ) or (project.get("name"), (project.get("domain") or {}).get("name")) != (self.project_name, self.domain):
                return unauthorized
        elif methods == ["application_credential"]:
            credential = identity.get("application_credential", {})
            if "scope" in body["auth"]:
                return _keystone_error(401, "Unauthorized", "Application credentials cannot request a scope.")
            if (credential.get("id"), credential.get("secret")) != (self.app_credential_id, self.app_credential_secret):
                return unauthorized
        else:
            return unauthorized
        value = "gAAAAA" + secrets.token_urlsafe(48)
        self._tokens[value] = _Token(time.monotonic() + self.token_ttl, self.project_id)
        self.auth_count += 1
        now = datetime.now(timezone.utc)
        token = {
            "methods": methods,
            "expires_at": _iso(now + timedelta(seconds=self.token_ttl)),
            "issued_at": _iso(now),
            "audit_ids": [secrets.token_urlsafe(16)],
            "user": {"id": "0ca8f6e0a1d94b6fa8cbd3f1b7e1b6a2", "name": self.username, "password_expires_at": None,
                     "domain": {"id": "default", "name": self.domain}},
            "project": {"id": self.project_id, "name": self.project_name, "domain": {"id": "default", "name": self.domain}},
            "is_domain": False,
            "roles": [{"id": "b9b4a4a1c3e64e4c9a0f1f6e3a2d1c0b", "name": "reader"}],
            "catalog": self._catalog(),
        }
        return web.json_response({"token": token}, status=201, headers={"X-Subject-Token": value})

    def _catalog(self) -> list[dict[str, Any]]:
        def endpoints(url_for: Callable[[str], str], regions: list[str]) -> list[dict[str, Any]]:
            return [{"id": uuidlib.uuid5(_NS, f"{url_for(r)}{i}").hex, "interface": i, "region": r,
                     "region_id": r, "url": url_for(r)} for r in regions for i in ("public", "internal")]

        names = [r.name for r in self.regions]
        base = {r: f"http://{HOST}:{self.region_ports[r]}" for r in names}
        return [
            {"id": "c1", "type": "identity", "name": "keystone",
             "endpoints": endpoints(lambda r: f"http://{HOST}:{self.port}/identity", names)},
            {"id": "c2", "type": "placement", "name": "placement",
             "endpoints": endpoints(lambda r: f"{base[r]}/placement", names)},
            {"id": "c3", "type": self.volume_service_type, "name": "cinderv3",
             "endpoints": endpoints(lambda r: f"{base[r]}/volume/v3/{self.project_id}", names)},
        ]

    # -- Placement ---------------------------------------------------------

    def _microversion(self, request: web.Request) -> tuple[int, int] | web.Response:
        header = request.headers.get("OpenStack-API-Version")
        self.placement_versions.append(header)
        if header is None:
            return (1, 0)
        service, _, version = header.strip().partition(" ")
        major, _, minor = version.partition(".")
        if service != "placement" or not major.isdigit() or not minor.isdigit():
            return _placement_error(400, "Bad Request", f"invalid version string: {header}")
        wanted = (int(major), int(minor))
        if not (1, 0) <= wanted <= PLACEMENT_MAX:
            return _placement_error(406, "Not Acceptable", f"Unacceptable version header: {version}")
        return wanted

    def _placement_json(self, body: Any, version: tuple[int, int]) -> web.Response:
        return web.json_response(body, headers={
            "OpenStack-API-Version": f"placement {version[0]}.{version[1]}", "Vary": "OpenStack-API-Version"})

    async def _providers(self, request: web.Request) -> web.Response:
        version = self._microversion(request)
        if isinstance(version, web.Response):
            return version
        region = self.region(self._region_of(request))
        providers = list(region.providers)
        marker = request.query.get("marker")
        start = _after_marker([p.uuid for p in providers], marker)
        if start is None:
            return _placement_error(400, "Bad Request", f"marker {marker} not found")
        limit = int(request.query.get("limit", self.page_size or 0)) or len(providers) or 1
        page = providers[start:start + limit]
        body: dict[str, Any] = {"resource_providers": [self._provider_json(p, version) for p in page]}
        last_page = start + limit >= len(providers)
        if not last_page:
            body["resource_providers_links"] = [{
                "rel": "next",
                "href": f"/placement/resource_providers?limit={limit}&marker={page[-1].uuid}",
            }]
        if last_page and self._remove_after_list and page:
            wanted = self._remove_after_list.pop(0)
            gone = next((p for p in region.providers if p.uuid == wanted), None) if wanted else providers[0]
            if gone is not None:
                region.providers.remove(gone)
        return self._placement_json(body, version)

    @staticmethod
    def _provider_json(provider: LabProvider, version: tuple[int, int]) -> dict[str, Any]:
        href = f"/placement/resource_providers/{provider.uuid}"
        item: dict[str, Any] = {
            "uuid": provider.uuid, "name": provider.name, "generation": provider.generation,
            "links": [{"rel": "self", "href": href}, {"rel": "inventories", "href": f"{href}/inventories"},
                      {"rel": "usages", "href": f"{href}/usages"}],
        }
        if version >= (1, 14):
            item["parent_provider_uuid"] = None
            item["root_provider_uuid"] = provider.uuid
        return item

    def _region_of(self, request: web.Request) -> str:
        port = request.url.port
        return next(name for name, p in self.region_ports.items() if p == port)

    def _find(self, request: web.Request) -> LabProvider | None:
        region = self.region(self._region_of(request))
        return next((p for p in region.providers if p.uuid == request.match_info["uuid"]), None)

    async def _inventories(self, request: web.Request) -> web.Response:
        version = self._microversion(request)
        if isinstance(version, web.Response):
            return version
        provider = self._find(request)
        if provider is None:
            return _placement_error(404, "Not Found", f"No resource provider with uuid {request.match_info['uuid']} found")
        inventories = {rc: self._shape(record) for rc, record in provider.inventories.items()}
        return self._placement_json({"inventories": inventories, "resource_provider_generation": provider.generation},
                                    version)

    async def _usages(self, request: web.Request) -> web.Response:
        version = self._microversion(request)
        if isinstance(version, web.Response):
            return version
        provider = self._find(request)
        if provider is None:
            return _placement_error(404, "Not Found", f"No resource provider with uuid {request.match_info['uuid']} found")
        return self._placement_json({"usages": dict(provider.usages), "resource_provider_generation": provider.generation},
                                    version)

    # -- Cinder and the vendor API -----------------------------------------

    async def _pools(self, request: web.Request) -> web.Response:
        if request.match_info["project_id"] != self.project_id:
            return web.json_response({"badRequest": {"code": 400, "message": "Malformed request url"}}, status=400)
        region = self.region(self._region_of(request))
        detail = request.query.get("detail", "").lower() in ("true", "1", "yes")
        # Upstream get_pools does not page; gateways in front of vendor clouds
        # do, the way Cinder pages volume lists: limit / marker (the last
        # item's name) and an absolute ``pools_links`` rel=next href.
        listed = list(region.pools)
        marker = request.query.get("marker")
        start = _after_marker([p.name for p in listed], marker)
        if start is None:
            return web.json_response({"badRequest": {"code": 400, "message": f"marker {marker} not found"}},
                                     status=400)
        limit = int(request.query.get("limit", self.pool_page_size or 0)) or len(listed) or 1
        page = listed[start:start + limit]
        pools = [{"name": p.name, **({"capabilities": self._shape(p.capabilities())} if detail else {})}
                 for p in page]
        body: dict[str, Any] = {"pools": pools}
        if start + limit < len(listed):
            query = {**request.query, "limit": str(limit), "marker": page[-1].name}
            body["pools_links"] = [{"rel": "next", "href": str(request.url.with_query(query))}]
        return web.json_response(body)

    async def _vendor(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Auth-Token") != self.vendor_token:
            return web.json_response({"code": "401", "message": "token invalid"}, status=401)
        if request.method == "POST":
            self.vendor_bodies.append(await request.json())
        return web.json_response(self.vendor_document or self.derived_vendor_document())

    def derived_vendor_document(self) -> dict[str, Any]:
        """A ManageOne-style statistics document computed from the regions (MiB and GiB figures)."""
        pools = []
        for region in self.regions:
            vcpu = sum(int((p.inventories["VCPU"]["total"] - p.inventories["VCPU"]["reserved"])
                           * p.inventories["VCPU"]["allocation_ratio"]) for p in region.providers)
            ram = sum(int((p.inventories["MEMORY_MB"]["total"] - p.inventories["MEMORY_MB"]["reserved"])
                          * p.inventories["MEMORY_MB"]["allocation_ratio"]) for p in region.providers)
            pools.append({
                "name": region.name,
                "vcpu": {"total": vcpu, "allocated": sum(p.usages["VCPU"] for p in region.providers)},
                "memory": {"totalMB": ram, "allocatedMB": sum(p.usages["MEMORY_MB"] for p in region.providers)},
                "storage": {"totalGB": str(sum(round(p.total_capacity_gb * (1 - p.reserved_percentage / 100))
                                               for p in region.pools)),
                            "usedGB": str(sum(round(p.total_capacity_gb - p.free_capacity_gb) for p in region.pools))},
            })
        return {"code": "0", "message": "success", "data": {"resourcePools": pools}}
