"""The generic HTTP/JSON capacity collector against the lab's vendor statistics endpoint on 127.0.0.1.

The first test is the worked example of README.md, section "Cloud capacity"
(subsection "Generic vendor API: a worked example"), byte for byte.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import TypeAdapter

from agent.lab.cloud import CloudLab
from agent.metrics import METRICS
from agent.scheduler import Scheduler
from collectors.base import CollectorError
from collectors.cloud.capacity import GIB, MIB
from collectors.cloud.collector import CloudCollector, series
from collectors.cloud.config import CloudConfig

CONFIG = TypeAdapter(CloudConfig)
TOKEN = "lab-vendor-S3cret"

# The worked example of README.md ("Generic vendor API: a worked example"): two resource pools, memory in MiB
# labelled "MB", storage as strings in GiB labelled "GB".
DOCUMENT = {
    "code": "0",
    "message": "success",
    "data": {
        "resourcePools": [
            {"name": "az1", "vcpu": {"total": 9600, "allocated": 6100},
             "memory": {"totalMB": 41287680, "allocatedMB": 25165824},
             "storage": {"totalGB": "2334720", "usedGB": "1024000"}},
            {"name": "az2", "vcpu": {"total": 7744, "allocated": 3000},
             "memory": {"totalMB": 63438848, "allocatedMB": 30000000},
             "storage": {"totalGB": "1945600", "usedGB": "800000"}},
        ]
    },
}
MAPPING = {
    "vcpu": {"capacity": "data.resourcePools[*].vcpu.total",
             "used": "data.resourcePools[*].vcpu.allocated", "unit": "cores"},
    "memory": {"capacity": "data.resourcePools[*].memory.totalMB",
               "used": "data.resourcePools[*].memory.allocatedMB", "unit": "MiB"},
    "storage": {"capacity": "data.resourcePools[*].storage.totalGB",
                "used": "data.resourcePools[*].storage.usedGB", "unit": "GiB"},
}
# By hand: 9600 + 7744 = 17344 vCPU (6100 + 3000 = 9100 allocated);
# 41287680 + 63438848 = 104726528 MiB = 102272 GiB (55165824 MiB allocated);
# 2334720 + 1945600 = 4280320 GiB = 4180 TiB (1824000 GiB used).
EXPECTED = {
    "vcpu": (17344, 9100),
    "memory": (104726528 * MIB, 55165824 * MIB),
    "storage": (4280320 * GIB, 1824000 * GIB),
}


@pytest.fixture
async def lab():
    async with CloudLab(vendor_document=DOCUMENT) as running:
        yield running


def generic(lab: CloudLab, **overrides: Any) -> CloudCollector:
    config = {
        "type": "generic", "name": "mo", "region": "shenzhen", "url": lab.vendor_url,
        "headers": {"X-Auth-Token": "${MO_TOKEN}"}, "mapping": MAPPING,
        "interval": "60s", "timeout": "2s", "retries": 2, **overrides,
    }
    cloud = CONFIG.validate_python(config, context={"env": {"MO_TOKEN": TOKEN}})
    return CloudCollector([cloud], backoff_base=0.01)


@pytest.fixture
async def collector(lab):
    made = generic(lab)
    yield made
    await made.close()


def expected_values(expected=EXPECTED) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for resource, (cap, used) in expected.items():
        out[series("mo", "shenzhen", resource, "capacity")] = cap
        out[series("mo", "shenzhen", resource, "used")] = used
    return out


async def poll(collector: CloudCollector) -> dict[str, float | None]:
    result = await collector.poll(collector.targets()[0])
    return {o.series: o.value for o in result.observations}


async def failed(collector: CloudCollector) -> str:
    with pytest.raises(CollectorError) as caught:
        await collector.poll(collector.targets()[0])
    message = str(caught.value)
    assert message.startswith("vendor GET http://127.0.0.1:") and "\n" not in message
    assert TOKEN not in message
    return message


async def test_worked_example(collector):
    assert [t.name for t in collector.targets()] == ["mo/shenzhen"]
    assert await poll(collector) == expected_values()
    result = await collector.poll(collector.targets()[0])
    for sample in result.samples:
        assert tuple(name for name, _ in sample.labels) == METRICS[sample.name].labels
    names = {s.name for s in result.samples}
    assert "sla_cloud_memory_allocated_bytes" in names and "sla_cloud_resource_providers" not in names


async def test_lab_vendor_document_agrees_with_placement_and_cinder():
    # The lab derives its vendor document from the same demo cloud the
    # OpenStack collector reads: both must give 17344 vCPU, 102272 GiB, 4180 TiB.
    async with CloudLab() as lab:
        collector = generic(lab)
        try:
            got = await poll(collector)
        finally:
            await collector.close()
    assert got[series("mo", "shenzhen", "vcpu", "capacity")] == 17344
    assert got[series("mo", "shenzhen", "memory", "capacity")] == 102272 * GIB
    assert got[series("mo", "shenzhen", "storage", "capacity")] == 4180 * 2**40


async def test_decimal_units_and_missing_used(lab):
    lab.vendor_document = {"stats": {"cpuCores": 16000, "ramGB": 120000.5, "diskTB": "4100.25"}}
    collector = generic(lab, mapping={
        "vcpu": {"capacity": "stats.cpuCores", "unit": "vcpu"},
        "memory": {"capacity": "stats.ramGB", "unit": "GB"},
        "storage": {"capacity": "$.stats.diskTB", "unit": "TB"},
    })
    try:
        result = await collector.poll(collector.targets()[0])
    finally:
        await collector.close()
    got = {o.series: o.value for o in result.observations}
    assert got == expected_values({"vcpu": (16000, None), "memory": (120000.5e9, None), "storage": (4100.25e12, None)})
    assert not any(s.name.endswith(("_allocated", "_allocated_bytes", "_used_bytes", "_ratio")) for s in result.samples)


async def test_only_mapped_resources_have_series(lab):
    collector = generic(lab, mapping={"vcpu": MAPPING["vcpu"]})
    try:
        assert {o.series for o in collector.unknown(collector.targets()[0])} == {
            series("mo", "shenzhen", "vcpu", "capacity"), series("mo", "shenzhen", "vcpu", "used")}
        assert await poll(collector) == {series("mo", "shenzhen", "vcpu", "capacity"): 17344,
                                         series("mo", "shenzhen", "vcpu", "used"): 9100}
    finally:
        await collector.close()


async def test_post_with_a_body(lab):
    collector = generic(lab, method="POST", body={"regionId": "shenzhen", "dimensions": ["vcpu", "memory"]})
    try:
        assert await poll(collector) == expected_values()
    finally:
        await collector.close()
    assert list(lab.vendor_bodies) == [{"regionId": "shenzhen", "dimensions": ["vcpu", "memory"]}]


async def test_wrong_token_is_rejected_without_showing_it(lab):
    lab.vendor_token = "another-token"
    collector = generic(lab)
    try:
        message = await failed(collector)
    finally:
        await collector.close()
    assert "HTTP 401: credentials rejected (check the configured headers)" in message


async def test_secret_in_the_url_query_is_not_shown(lab):
    collector = generic(lab, url=lab.vendor_url + "?apikey=url-S3cret")
    lab.fail_next(500, count=10, service="vendor")
    try:
        message = await failed(collector)
    finally:
        await collector.close()
    assert "url-S3cret" not in message and "apikey" not in message
    assert "HTTP 500 Internal Server Error (after 3 attempts)" in message


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"data": {}}, "vcpu: data.resourcePools[*].vcpu.total: field 'resourcePools' missing at $.data"),
        ({"data": {"resourcePools": []}}, "$.data.resourcePools[*] matched no elements"),
        ({"data": {"resourcePools": [{"vcpu": {"total": "n/a", "allocated": 1}}]}}, "'n/a' is not a number"),
        ({"data": {"resourcePools": [{"vcpu": {"total": None, "allocated": 1}}]}}, "is NoneType, expected a number"),
        ({"data": {"resourcePools": [{"vcpu": {"total": -4, "allocated": 1}}]}}, "-4 is not a finite number >= 0"),
        ({"data": {"resourcePools": {"vcpu": 1}}}, "is dict, expected a list"),
        ([1, 2, 3], "field 'data' missing at $"),
    ],
)
async def test_missing_or_mistyped_fields(lab, collector, document, expected):
    lab.vendor_document = document
    assert expected in await failed(collector)


async def test_503_is_retried_then_500_persisting_fails(lab, collector):
    lab.fail_next(503, count=2, service="vendor", retry_after=0)
    assert await poll(collector) == expected_values()
    lab.fail_next(500, count=3, service="vendor")
    assert "HTTP 500 Internal Server Error (after 3 attempts)" in await failed(collector)


@pytest.mark.parametrize("mode", ["garbage", "truncated"])
async def test_malformed_or_truncated_json(lab, collector, mode):
    lab.malformed_next(mode=mode, service="vendor")
    assert "malformed or truncated JSON" in await failed(collector)


async def test_slow_endpoint_is_unknown_not_zero(lab):
    lab.delay = 2.0
    collector = generic(lab, timeout="1s")
    outcomes = []
    started = time.monotonic()
    try:
        outcome = await Scheduler([collector], outcomes.append).poll_once(collector, collector.targets()[0])
    finally:
        await collector.close()
    assert time.monotonic() - started < 2.0
    assert outcome.error is not None and "within 1s" in outcome.error
    assert outcome.observations and all(o.value is None for o in outcome.observations)
    assert len(outcome.observations) == 6
