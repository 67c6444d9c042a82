"""The generic vendor-API reader: a cloud that only exposes a statistics API.

:func:`read_generic` reads a cloud that only exposes a vendor statistics API
(ManageOne-style) through the declarative mapping of its config.
"""

from __future__ import annotations

from collectors.base import CollectorError
from collectors.cloud import capacity
from collectors.cloud.capacity import CapacityError, Totals
from collectors.cloud.config import GenericCloud, cloud_resources
from collectors.http import JsonHttp, decode_json

mapped_resources = cloud_resources  # the resources the cloud's mapping covers


async def read_generic(http: JsonHttp, cloud: GenericCloud) -> dict[str, Totals]:
    """Fetch the vendor document once and apply the mapping; CollectorError on any problem."""
    headers = {"Accept": "application/json"}
    headers.update({name: value.get_secret_value() for name, value in cloud.headers.items()})
    response = await http.request("vendor", cloud.method, cloud.url, headers, cloud.body)
    if response.status in (401, 403):
        raise CollectorError(f"{response.where}: HTTP {response.status}: credentials rejected (check the configured headers)")
    if not 200 <= response.status < 300:
        raise CollectorError(f"{response.where}: HTTP {response.status} {response.reason}".rstrip())
    document = await decode_json(response)
    totals: dict[str, Totals] = {}
    for resource in mapped_resources(cloud):
        spec = getattr(cloud.mapping, resource)
        try:
            totals[resource] = capacity.generic_totals(document, spec.capacity, spec.used, spec.unit)
        except CapacityError as exc:
            raise CollectorError(f"{response.where}: {resource}: {exc}") from None
    return totals
