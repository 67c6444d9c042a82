"""The cloud-capacity collector: one target per (cloud, region).

Why per region rather than per cloud: each region has its own Placement and
Cinder endpoints and fails on its own; a target per region keeps a dead or
slow region from turning the healthy ones unknown, and ``sla_target_up`` then
names the region at fault. The regions of one cloud still share one Keystone
token (:class:`~collectors.cloud.openstack.Keystone`), so polling N regions
costs one authentication, not N. A generic (vendor-API) cloud has one region,
hence one target.

Ledger series per cloud C, region R and resource X (vcpu, memory, storage):
``cloud:C:R:X:capacity`` (offered capacity, base units: vCPUs, bytes) and
``cloud:C:R:X:used`` (allocated vCPUs / memory, used storage).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from collectors.cloud.series import cloud as series
from collectors.base import (
    CollectorError,
    Observation,
    PollResult,
    Sample,
    Target,
    sampler,
    samplers,
)
from collectors.cloud import capacity
from collectors.cloud.capacity import Totals
from collectors.cloud.config import (
    CloudConfig,
    GenericCloud,
    OpenStackCloud,
    check_clouds,
    cloud_regions,
)
from collectors.cloud.generic import mapped_resources, read_generic
from collectors.cloud.openstack import Keystone, OpenStackReader
from collectors.http import HttpClients, JsonHttp

POLL_SLACK = 1.0  # seconds beyond the cloud's timeout for the scheduler's own bound
USER_AGENT = "sla-agent cloud-capacity collector"



@dataclass(frozen=True, slots=True, eq=False)  # eq=False: hash by identity, the config holds lists
class CloudTarget:
    """One region of one cloud (implements collectors.base.Target)."""

    name: str  # "cloud/region"
    interval: float
    poll_timeout: float
    cloud: OpenStackCloud | GenericCloud = field(repr=False)
    region: str
    resources: tuple[str, ...]  # resources whose series this target reports



_CAPACITY = samplers("sla_cloud_vcpu_capacity", "sla_cloud_memory_capacity_bytes", "sla_cloud_storage_capacity_bytes")
_USED = samplers("sla_cloud_vcpu_allocated", "sla_cloud_memory_allocated_bytes", "sla_cloud_storage_used_bytes")
_CAPACITY_METRIC = dict(zip(capacity.RESOURCES, _CAPACITY))
_USED_METRIC = dict(zip(capacity.RESOURCES, _USED))
_UTILIZATION = sampler("sla_cloud_utilization_ratio")
_PROVIDERS = sampler("sla_cloud_resource_providers")


class CloudCollector:
    """Polls cloud capacity APIs (collectors.base.Collector); kind ``cloud``."""

    kind = "cloud"

    def __init__(
        self,
        clouds: Sequence[CloudConfig],
        *,
        backoff_base: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        problems = check_clouds(clouds)
        if problems:
            raise ValueError("; ".join(f"{path}: {message}" for path, message in problems))
        self._backoff = backoff_base
        targets = []
        for cloud in clouds:
            resources = mapped_resources(cloud) if isinstance(cloud, GenericCloud) else capacity.RESOURCES
            for region in cloud_regions(cloud):
                targets.append(CloudTarget(
                    name=f"{cloud.name}/{region}",
                    interval=cloud.interval,
                    poll_timeout=cloud.timeout + POLL_SLACK,
                    cloud=cloud,
                    region=region,
                    resources=resources,
                ))
        self._targets = tuple(targets)
        self.keystones = {c.name: Keystone(c, clock) for c in clouds if isinstance(c, OpenStackCloud)}
        self._http = HttpClients(USER_AGENT)

    def targets(self) -> Sequence[CloudTarget]:
        return self._targets

    def unknown(self, target: Target) -> tuple[Observation, ...]:
        """Every capacity and used series of the target as None."""
        if not isinstance(target, CloudTarget):
            return ()
        return tuple(
            Observation(series(target.cloud.name, target.region, resource, which), None)
            for resource in target.resources
            for which in ("capacity", "used")
        )

    async def close(self) -> None:
        """Close the shared HTTP session; a later poll opens a new one."""
        await self._http.close()

    async def poll(self, target: Target) -> PollResult:
        """Poll one region once; CollectorError on any failure.

        The message names the failing service and URL, not the target: the
        scheduler's log line and the target's status already name it.
        """
        if not isinstance(target, CloudTarget):
            raise CollectorError(f"not a cloud target: {target.name}")
        cloud = target.cloud
        loop = asyncio.get_running_loop()
        try:
            http = JsonHttp(
                self._http.session(),
                deadline=loop.time() + cloud.timeout,
                timeout=cloud.timeout,
                retries=cloud.retries,
                max_body=cloud.max_body,
                ssl=self._http.ssl_for(cloud.name, cloud.verify_tls, cloud.ca_file),
                backoff_base=self._backoff,
            )
            async with asyncio.timeout(cloud.timeout + POLL_SLACK / 2):
                if isinstance(cloud, OpenStackCloud):
                    reader = OpenStackReader(cloud, self.keystones[cloud.name], http)
                    reading = await reader.read_region(target.region)
                    totals, providers = reading.totals, reading.providers
                else:
                    totals, providers = await read_generic(http, cloud), None
        except TimeoutError:
            raise CollectorError(f"poll did not finish within {cloud.timeout:g}s") from None
        return self._result(target, totals, providers)

    def _result(self, target: CloudTarget, totals: dict[str, Totals], providers: int | None) -> PollResult:
        cloud, region = target.cloud.name, target.region
        observations: list[Observation] = []
        samples: list[Sample] = []
        for resource in target.resources:
            found = totals[resource]
            observations.append(Observation(series(cloud, region, resource, "capacity"), found.capacity))
            observations.append(Observation(series(cloud, region, resource, "used"), found.used))
            samples.append(_CAPACITY[_CAPACITY_METRIC[resource]](cloud, region, value=found.capacity))
            if found.used is not None:
                samples.append(_USED[_USED_METRIC[resource]](cloud, region, value=found.used))
            if found.utilization is not None:
                samples.append(_UTILIZATION(cloud, region, resource, value=found.utilization))
        if providers is not None:
            samples.append(_PROVIDERS(cloud, region, value=providers))
        return PollResult(tuple(observations), tuple(samples))
