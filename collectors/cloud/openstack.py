"""OpenStack client for capacity: Keystone v3 session, Placement and Cinder reads.

Keystone: ``POST {auth_url}/v3/auth/tokens`` with the password (project
scoped) or application_credential method; the token comes back in the
``X-Subject-Token`` header, the body carries ``expires_at`` and the service
catalog. One token per cloud serves every region and every poll until shortly
before it expires; a 401 from a service drops it and the request is retried
once with a fresh one.

Placement (pinned to microversion 1.14 by ``OpenStack-API-Version``):
``GET /resource_providers``, then per provider ``/inventories`` and
``/usages``. Cinder: ``GET {volume endpoint}/scheduler-stats/get_pools?detail=True``.
Upstream Placement and Cinder do not paginate these lists; the client still
follows ``<collection>_links`` ``rel=next`` links (the API-WG convention that
Nova and Cinder volume lists use), because gateways in front of some vendor
clouds do page them. Pages are bounded and must stay on the endpoint's origin,
so a token is never sent to another host.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable, Callable, Mapping, Sequence, TypeVar

from yarl import URL

from collectors.base import CollectorError
from collectors.cloud.capacity import (
    PLACEMENT_CLASS,
    CapacityError,
    ProviderReport,
    Totals,
    cinder_totals,
    placement_totals,
)
from collectors.cloud.config import OpenStackCloud, PasswordAuth
from collectors.http import KIB, MIB, JsonHttp, Response, decode_json, safe_url

log = logging.getLogger("collectors.cloud")

PLACEMENT_VERSION = "placement 1.14"
# service-types-authority name first, then the aliases catalogs still use.
BLOCK_STORAGE_TYPES = ("block-storage", "volumev3", "volume")
MAX_PAGES = 100
# Fixed body limits where the answer's size does not grow with the cloud; provider
# and pool lists are limited by the cloud's ``max_body``.
MAX_TOKEN_ANSWER = MIB  # the catalog: some 4,000 endpoints
MAX_PROVIDER_PART = 64 * KIB  # one provider's inventories or usages: a few resource classes
REFRESH_MARGIN = 120.0  # renew a token this long before expiry (or 10 % of its life if shorter)

T = TypeVar("T")


class ProviderGone(Exception):
    """A provider listed a moment ago answered 404: the list is stale."""

    def __init__(self, uuid: str):
        super().__init__(uuid)
        self.uuid = uuid


@dataclass(frozen=True, slots=True)
class Token:
    value: str = field(repr=False)
    refresh_at: float  # monotonic time after which a new token is fetched
    project_id: str | None
    catalog: tuple[Mapping[str, Any], ...] = field(repr=False)


def tokens_url(auth_url: str) -> str:
    """``https://iam:5000`` or ``https://iam:5000/v3`` -> ``.../v3/auth/tokens``."""
    base = auth_url.rstrip("/")
    return f"{base}/auth/tokens" if base.endswith("/v3") else f"{base}/v3/auth/tokens"


def auth_body(cloud: OpenStackCloud) -> dict[str, Any]:
    """The Keystone v3 request body for the cloud's auth method."""
    auth = cloud.auth
    if isinstance(auth, PasswordAuth):
        user = {"name": auth.username, "domain": {"name": auth.user_domain_name},
                "password": auth.password.get_secret_value()}
        return {"auth": {
            "identity": {"methods": ["password"], "password": {"user": user}},
            "scope": {"project": {"name": auth.project_name, "domain": {"name": auth.project_domain_name}}},
        }}
    # An application credential is bound to its project: Keystone rejects an explicit scope.
    credential = {"id": auth.id.get_secret_value(), "secret": auth.secret.get_secret_value()}
    return {"auth": {"identity": {"methods": ["application_credential"], "application_credential": credential}}}


def _timestamp(value: Any, what: str) -> float:
    if not isinstance(value, str):
        raise CollectorError(f"keystone: token {what} missing or not a string")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise CollectorError(f"keystone: token {what} {value[:40]!r} is not an ISO 8601 time") from None


class Keystone:
    """Token cache of one cloud; safe to share between that cloud's concurrent region polls."""

    def __init__(self, cloud: OpenStackCloud, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time):
        self._cloud = cloud
        self._clock = clock
        self._wall = wall
        self._token: Token | None = None
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self.authentications = 0  # successful token issues, for tests and diagnostics

    def invalidate(self, token: Token) -> None:
        """Forget ``token`` (it was refused); a newer one fetched meanwhile is kept."""
        if self._token is token:
            self._token = None

    async def token(self, http: JsonHttp) -> Token:
        """A valid token, from the cache or a new authentication."""
        token = self._token
        if token is not None and self._clock() < token.refresh_at:
            return token
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            # A lock binds to the loop it first waits on; tests and restarts bring new loops.
            self._lock, self._lock_loop = asyncio.Lock(), loop
        async with self._lock:
            # Another region's poll may have authenticated while this one waited.
            token = self._token
            if token is not None and self._clock() < token.refresh_at:
                return token
            self._token = await self._authenticate(http)
            self.authentications += 1
            return self._token

    async def _authenticate(self, http: JsonHttp) -> Token:
        url = tokens_url(self._cloud.auth_url)
        response = await http.request("keystone", "POST", url, {"Accept": "application/json"}, auth_body(self._cloud),
                                      max_body=MAX_TOKEN_ANSWER)
        if response.status == 401:
            raise CollectorError(f"{response.where}: authentication failed (HTTP 401): check the credentials")
        if response.status != 201 and response.status != 200:
            raise CollectorError(f"{response.where}: HTTP {response.status} {response.reason}".rstrip())
        value = response.headers.get("X-Subject-Token")
        if not value:
            raise CollectorError(f"{response.where}: no X-Subject-Token header in the answer")
        body = await decode_json(response)
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, dict):
            raise CollectorError(f"{response.where}: answer has no 'token' object")
        expires = _timestamp(token.get("expires_at"), "expires_at")
        # Lifetime from Keystone's own two timestamps, so clock skew between
        # the agent and Keystone cannot make a fresh token look expired.
        issued = _timestamp(token["issued_at"], "issued_at") if "issued_at" in token else self._wall()
        lifetime = expires - issued
        if lifetime <= 0:
            raise CollectorError(f"{response.where}: token already expired on issue (check clocks)")
        catalog = token.get("catalog")
        if not isinstance(catalog, list):
            raise CollectorError(f"{response.where}: token has no service catalog")
        project = token.get("project")
        project_id = project.get("id") if isinstance(project, dict) else None
        project_id = project_id if isinstance(project_id, str) else None
        margin = min(REFRESH_MARGIN, lifetime * 0.1)
        log.debug("%s: new Keystone token, valid %.0fs", self._cloud.name, lifetime)
        return Token(value, self._clock() + lifetime - margin, project_id,
                     tuple(e for e in catalog if isinstance(e, dict)))

    def endpoint(self, token: Token, types: Sequence[str], region: str) -> str:
        """The catalog URL of the first of ``types`` in ``region`` on the configured interface."""
        interface = self._cloud.interface
        for service_type in types:
            for entry in token.catalog:
                if entry.get("type") != service_type:
                    continue
                endpoints = entry.get("endpoints")
                for ep in endpoints if isinstance(endpoints, list) else ():
                    if not isinstance(ep, dict) or ep.get("interface") != interface:
                        continue
                    url = ep.get("url")
                    if region in (ep.get("region_id"), ep.get("region")) and isinstance(url, str):
                        url = url.rstrip("/")
                        # Some catalogs keep the template unsubstituted.
                        for template in ("%(project_id)s", "$(project_id)s", "%(tenant_id)s", "$(tenant_id)s"):
                            url = url.replace(template, token.project_id or template)
                        return url
        raise CollectorError(
            f"keystone catalog: no {types[0]} endpoint for region {region!r} on the {interface} interface"
        )


@dataclass(frozen=True, slots=True)
class RegionReading:
    totals: dict[str, Totals]  # resource ("vcpu", "memory", "storage") -> base units
    providers: int


async def _bounded(factories: Sequence[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    """Run the factories at most ``limit`` at a time; the first failure cancels the rest."""
    semaphore = asyncio.Semaphore(limit)

    async def run(factory: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await factory()

    tasks = [asyncio.ensure_future(run(f)) for f in factories]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class OpenStackReader:
    """Reads one region of one cloud within one poll's :class:`JsonHttp`."""

    def __init__(self, cloud: OpenStackCloud, keystone: Keystone, http: JsonHttp):
        self._cloud = cloud
        self._keystone = keystone
        self._http = http

    async def get(self, service: str, url: str, headers: Mapping[str, str] | None = None,
                  max_body: int | None = None) -> Response:
        """GET with the cached token; on 401 re-authenticate once and retry."""
        for reauthenticated in (False, True):
            token = await self._keystone.token(self._http)
            sent = {"Accept": "application/json", "X-Auth-Token": token.value, **(headers or {})}
            response = await self._http.request(service, "GET", url, sent, max_body=max_body)
            if response.status != 401:
                return response
            # Expired or revoked mid-poll: drop it; the loop fetches a new one.
            self._keystone.invalidate(token)
            if not reauthenticated:
                log.debug("%s: %s answered 401, re-authenticating", self._cloud.name, service)
        raise CollectorError(f"{response.where}: HTTP 401 even with a fresh token (does the account have the reader/admin role?)")

    async def get_json(self, service: str, url: str, headers: Mapping[str, str] | None = None) -> Any:
        response = await self.get(service, url, headers)
        if response.status == 406 and service == "placement":
            raise CollectorError(f"{response.where}: HTTP 406: Placement does not support {PLACEMENT_VERSION}")
        if response.status == 403:
            raise CollectorError(f"{response.where}: HTTP 403: the account may not read this (needs reader/admin role)")
        if response.status != 200:
            raise CollectorError(f"{response.where}: HTTP {response.status} {response.reason}".rstrip())
        document = await decode_json(response)
        if not isinstance(document, dict):
            raise CollectorError(f"{response.where}: answer is a JSON {type(document).__name__}, expected an object")
        return document

    async def get_list(self, service: str, url: str, key: str, headers: Mapping[str, str] | None = None) -> list[Any]:
        """Every item of collection ``key``, following ``{key}_links`` next links (bounded)."""
        origin = URL(url).origin()
        items: list[Any] = []
        seen = {url}
        for _ in range(MAX_PAGES):
            document = await self.get_json(service, url, headers)
            page = document.get(key)
            if not isinstance(page, list):
                raise CollectorError(f"{service} GET {safe_url(url)}: answer has no {key!r} list")
            items.extend(page)
            link = _next_link(document.get(f"{key}_links"))
            if link is None:
                return items
            following = URL(url).join(URL(link))
            if following.origin() != origin:
                raise CollectorError(f"{service} GET {safe_url(url)}: next link leaves {origin} (not followed)")
            url = str(following)
            if url in seen:
                raise CollectorError(f"{service} GET {safe_url(url)}: pagination loops back to a page already read")
            seen.add(url)
        raise CollectorError(f"{service} GET {safe_url(url)}: more than {MAX_PAGES} pages")

    async def read_region(self, region: str) -> RegionReading:
        """Capacity and usage of one region; CollectorError on anything untrustworthy."""
        token = await self._keystone.token(self._http)
        placement = self._keystone.endpoint(token, ("placement",), region)
        sources = self._cloud.storage_sources
        classes = [PLACEMENT_CLASS["vcpu"], PLACEMENT_CLASS["memory"]]
        if "placement" in sources:
            classes.append(PLACEMENT_CLASS["storage"])
        reports = await self._providers(placement)
        try:
            by_class = placement_totals(reports, classes)
        except CapacityError as exc:
            raise CollectorError(f"placement: {exc}") from None
        storage = Totals(0.0, 0.0)
        if "placement" in sources:
            storage = _add(storage, by_class[PLACEMENT_CLASS["storage"]])
        if "cinder" in sources:
            volume = self._keystone.endpoint(token, BLOCK_STORAGE_TYPES, region)
            pools_url = f"{volume}/scheduler-stats/get_pools?detail=True"
            pools = await self.get_list("cinder", pools_url, "pools")
            if not pools:
                # Cinder lists no pool until its volume services report (e.g.
                # after a cinder-scheduler restart): unknown storage, not zero.
                raise CollectorError(
                    f"cinder GET {safe_url(pools_url)}: no pools reported (volume services not reporting yet?); "
                    "storage capacity unknown"
                )
            try:
                storage = _add(storage, cinder_totals(pools))
            except CapacityError as exc:
                raise CollectorError(f"cinder get_pools: {exc}") from None
        totals = {
            "vcpu": by_class[PLACEMENT_CLASS["vcpu"]],
            "memory": by_class[PLACEMENT_CLASS["memory"]],
            "storage": storage,
        }
        return RegionReading(totals, len(reports))

    async def _providers(self, placement: str) -> list[ProviderReport]:
        """Every provider with its inventories and usages; one re-list if one vanishes meanwhile."""
        headers = {"OpenStack-API-Version": PLACEMENT_VERSION}
        for attempt in range(2):
            listed = await self.get_list("placement", f"{placement}/resource_providers", "resource_providers", headers)
            uuids: dict[str, None] = {}  # ordered set: a provider repeated across pages counts once
            for i, provider in enumerate(listed):
                uuid = provider.get("uuid") if isinstance(provider, dict) else None
                if not isinstance(uuid, str) or not uuid:
                    raise CollectorError(f"placement GET {safe_url(placement)}/resource_providers: item #{i} has no uuid")
                uuids[uuid] = None
            if not uuids:
                # A region without providers has unknown capacity, not none.
                raise CollectorError(
                    f"placement GET {safe_url(placement)}/resource_providers: no resource providers listed; "
                    "region capacity unknown"
                )
            try:
                reads = [functools.partial(self._provider, placement, u, headers) for u in uuids]
                return await _bounded(reads, self._cloud.max_concurrency)
            except ProviderGone as gone:
                if attempt:
                    raise CollectorError(
                        f"placement: provider {gone.uuid} vanished between list and read twice in a row"
                    ) from None
                log.debug("%s: provider %s vanished during the poll; listing again", self._cloud.name, gone.uuid)
        raise AssertionError("unreachable")

    async def _provider(self, placement: str, uuid: str, headers: Mapping[str, str]) -> ProviderReport:
        base = f"{placement}/resource_providers/{uuid}"
        inventories = await self._provider_part(f"{base}/inventories", "inventories", uuid, headers)
        usages = await self._provider_part(f"{base}/usages", "usages", uuid, headers)
        return ProviderReport(uuid, inventories, usages)

    async def _provider_part(self, url: str, key: str, uuid: str, headers: Mapping[str, str]) -> Mapping[str, Any]:
        response = await self.get("placement", url, headers, max_body=MAX_PROVIDER_PART)
        if response.status == 404:
            raise ProviderGone(uuid)
        if response.status != 200:
            raise CollectorError(f"{response.where}: HTTP {response.status} {response.reason}".rstrip())
        document = await decode_json(response)
        part = document.get(key) if isinstance(document, dict) else None
        if not isinstance(part, dict):
            raise CollectorError(f"{response.where}: answer has no {key!r} object")
        return part


def _next_link(links: Any) -> str | None:
    if not isinstance(links, list):
        return None
    for link in links:
        href = link.get("href") if isinstance(link, dict) else None
        if isinstance(href, str) and link.get("rel") == "next":
            return href
    return None


def _add(a: Totals, b: Totals) -> Totals:
    used = None if a.used is None or b.used is None else a.used + b.used
    return Totals(a.capacity + b.capacity, used)
