"""The OpenStack capacity collector against the lab's Keystone, Placement and Cinder over HTTP on 127.0.0.1.

Capacities are compared with figures computed by hand (comments show the
arithmetic, allocation ratios and reserved amounts included). Every fault
either recovers to the exact same figures or raises one-line CollectorError
whose message carries no secret, and a failed poll turns every series
unknown, never zero.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid as uuidlib
from typing import Any

import pytest
from pydantic import TypeAdapter
from yarl import URL

from agent import units
from agent.lab.cloud import (
    CloudLab,
    LabPool,
    LabProvider,
    LabRegion,
    demo_regions,
    inventory,
)
from agent.metrics import METRICS
from agent.scheduler import PollOutcome, Scheduler
from collectors.base import CollectorError, PollResult
from collectors.cloud.capacity import GIB, MIB
from collectors.cloud.collector import CloudCollector, CloudTarget, series
from collectors.cloud.config import CloudConfig
from tests.fakes import run_for

CONFIG = TypeAdapter(CloudConfig)
TIB = 2**40


def node(name: str, vcpu: tuple, ram: tuple, used: tuple, disk: tuple = (1000, 0, 1.0)) -> LabProvider:
    """A provider: (total, reserved, ratio) for VCPU / MEMORY_MB / DISK_GB, used = (vcpu, ram_mb, disk_gb)."""
    return LabProvider(
        uuid=str(uuidlib.uuid5(uuidlib.NAMESPACE_DNS, f"{name}.lab.invalid")),
        name=name,
        inventories={"VCPU": inventory(*vcpu), "MEMORY_MB": inventory(*ram), "DISK_GB": inventory(*disk)},
        usages={"VCPU": used[0], "MEMORY_MB": used[1], "DISK_GB": used[2]},
    )


def topology() -> list[LabRegion]:
    return [
        LabRegion("sz-a", [
            node("a1", (128, 8, 2.0), (1048576, 16384, 1.0), (100, 524288, 10)),
            node("a2", (64, 4, 4.0), (524288, 8192, 1.5), (200, 262144, 20)),
            node("a3", (96, 0, 1.0), (262144, 0, 1.0), (0, 0, 0), disk=(500, 100, 2.0)),
        ], [LabPool("fs-a@p1#p1", 102400, 51200, 10), LabPool("fs-a@p2#p2", 51200, 51200, 0)]),
        LabRegion("sz-b", [node("b1", (32, 2, 3.0), (262144, 0, 1.0), (45, 131072, 0))],
                  [LabPool("fs-b@p3#p3", 20480, 10240, 5)]),
    ]


# Hand-computed, region sz-a:
#   VCPU      a1 (128-8)x2.0=240   a2 (64-4)x4.0=240   a3 (96-0)x1.0=96             -> 576 vCPU, used 300
#   MEMORY_MB a1 (1048576-16384)x1.0=1032192  a2 (524288-8192)x1.5=774144  a3 262144 -> 2068480 MiB, used 786432 MiB
#   DISK_GB   a1 1000  a2 1000  a3 (500-100)x2.0=800                                 -> 2800 GiB, used 30 GiB
#   Cinder    p1 102400x(1-0.10)=92160  p2 51200x1.0=51200                            -> 143360 GiB, used 51200 GiB
# region sz-b:
#   VCPU (32-2)x3.0=90, used 45; MEMORY_MB 262144, used 131072; Cinder 20480x0.95=19456 GiB, used 10240 GiB
EXPECTED = {
    "sz-a": {"vcpu": (576, 300), "memory": (2068480 * MIB, 786432 * MIB), "storage": (143360 * GIB, 51200 * GIB)},
    "sz-b": {"vcpu": (90, 45), "memory": (262144 * MIB, 131072 * MIB), "storage": (19456 * GIB, 10240 * GIB)},
}
SECRETS = ("lab-cloud-S3cret", "lab-appcred-S3cret")
SERVICES = ("keystone", "placement", "cinder", "poll", "cannot")  # first word of a poll's error


@pytest.fixture
async def lab():
    async with CloudLab(regions=topology()) as running:
        yield running


def make_collector(lab: CloudLab, backoff: float = 0.01, **overrides: Any) -> CloudCollector:
    settings = {"interval": "60s", "timeout": "3s", "retries": 2, **overrides}
    cloud = CONFIG.validate_python(lab.cloud_config("gov", **settings))
    return CloudCollector([cloud], backoff_base=backoff)


@pytest.fixture
async def collector(lab):
    made = make_collector(lab)
    yield made
    await made.close()


def target(collector: CloudCollector, region: str = "sz-a") -> CloudTarget:
    return next(t for t in collector.targets() if t.region == region)


def values(result: PollResult) -> dict[str, float | None]:
    return {o.series: o.value for o in result.observations}


def expected_values(region: str, cloud: str = "gov") -> dict[str, float]:
    out = {}
    for resource, (cap, used) in EXPECTED[region].items():
        out[series(cloud, region, resource, "capacity")] = cap
        out[series(cloud, region, resource, "used")] = used
    return out


async def failed(collector: CloudCollector, region: str = "sz-a") -> str:
    with pytest.raises(CollectorError) as caught:
        await collector.poll(target(collector, region))
    message = str(caught.value)
    assert "\n" not in message
    # The scheduler names the target; the message names the service instead.
    assert not message.startswith("gov/") and message.split(" ")[0].rstrip(":") in SERVICES, message
    for secret in SECRETS:
        assert secret not in message
    assert "gAAAAA" not in message  # lab tokens start so
    return message


# -- figures -----------------------------------------------------------------------

async def test_capacities_match_hand_computed_values(lab, collector):
    assert [t.name for t in collector.targets()] == ["gov/sz-a", "gov/sz-b"]
    for region in ("sz-a", "sz-b"):
        result = await collector.poll(target(collector, region))
        assert values(result) == pytest.approx(expected_values(region))
    assert lab.auth_count == 1  # one token for both regions


async def test_samples_follow_the_metrics_table(collector):
    result = await collector.poll(target(collector))
    by_name = {(s.name, s.labels): s.value for s in result.samples}
    for sample in result.samples:
        assert tuple(name for name, _ in sample.labels) == METRICS[sample.name].labels
    region = (("cloud", "gov"), ("region", "sz-a"))
    assert by_name[("sla_cloud_vcpu_capacity", region)] == 576
    assert by_name[("sla_cloud_vcpu_allocated", region)] == 300
    assert by_name[("sla_cloud_memory_capacity_bytes", region)] == 2068480 * MIB
    assert by_name[("sla_cloud_storage_used_bytes", region)] == 51200 * GIB
    assert by_name[("sla_cloud_resource_providers", region)] == 3
    assert by_name[("sla_cloud_utilization_ratio", region + (("resource", "vcpu"),))] == pytest.approx(300 / 576)
    assert by_name[("sla_cloud_utilization_ratio", region + (("resource", "storage"),))] == pytest.approx(51200 / 143360)


async def test_application_credential_auth(lab):
    cloud = CONFIG.validate_python(lab.cloud_config("gov", app_credential=True, timeout="3s", interval="60s"))
    collector = CloudCollector([cloud], backoff_base=0.01)
    try:
        assert values(await collector.poll(target(collector))) == pytest.approx(expected_values("sz-a"))
    finally:
        await collector.close()


# A second cloud with its own Keystone, account and project. By hand:
#   gz-1  VCPU (256-16)x2.0=480, used 400; MEMORY_MB (2097152-32768)x1.0=2064384 MiB, used 1048576 MiB;
#         Cinder 204800x(1-0.10)=184320 GiB, used 204800-102400=102400 GiB
OTHER = {"gz-1": {"vcpu": (480, 400), "memory": (2064384 * MIB, 1048576 * MIB), "storage": (184320 * GIB, 102400 * GIB)}}


def other_topology() -> list[LabRegion]:
    return [LabRegion("gz-1", [node("g1", (256, 16, 2.0), (2097152, 32768, 1.0), (400, 1048576, 0))],
                      [LabPool("fs-gz@p1#p1", 204800, 102400, 10)])]


async def test_two_openstack_clouds_each_with_its_own_keystone(tmp_path):
    from agent import periods
    from agent.config import parse_config
    from agent.kpi import KpiEngine
    from agent.ledger import Ledger

    async with CloudLab(regions=topology()) as gov, CloudLab(
        regions=other_topology(), username="gz-monitor", password="gz-lab-S3cret", project_name="gz-sla",
        project_id="0f9e8d7c6b5a49382716051413121110",
    ) as gz:
        settings = {"interval": "60s", "timeout": "3s"}
        config = parse_config({
            "clouds": [gov.cloud_config("gov", **settings), gz.cloud_config("gz", **settings)],
            "kpis": [{"id": f"cloud_{r}_capacity"} for r in ("vcpu", "memory", "storage")],
        }, "two-clouds.yaml", env={})
        collector = CloudCollector(config.clouds, backoff_base=0.01)
        at, validity = 1_790_000_000.0, 120.0
        try:
            assert [t.name for t in collector.targets()] == ["gov/sz-a", "gov/sz-b", "gz/gz-1"]
            got: dict[str, float | None] = {}
            for _ in range(2):  # the second round reuses both tokens
                for t in collector.targets():
                    got.update(values(await collector.poll(t)))
        finally:
            await collector.close()
        # One authentication per cloud, each at its own Keystone with its own credentials.
        assert (gov.auth_count, gz.auth_count) == (1, 1)
        assert (collector.keystones["gov"].authentications, collector.keystones["gz"].authentications) == (1, 1)
        assert {r[0] for r in gz.requests} == {"identity", "placement", "volume"}  # gz's regions read at gz
        assert not [r for r in gov.requests + gz.requests if r[3] >= 400]

    expected = {**expected_values("sz-a"), **expected_values("sz-b")}
    for resource, (cap, used) in OTHER["gz-1"].items():
        expected[series("gz", "gz-1", resource, "capacity")] = cap
        expected[series("gz", "gz-1", resource, "used")] = used
    assert got == pytest.approx(expected)

    # The KPIs sum every region of both clouds.
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.record([(name, value, at, validity) for name, value in got.items()])
    results = {r.definition.id: r for r in KpiEngine(config, ledger).evaluate_period(
        periods.Period("p", at, at + 60), at + 60)}
    sums = {r: sum(e[r][0] for e in (EXPECTED["sz-a"], EXPECTED["sz-b"], OTHER["gz-1"])) for r in OTHER["gz-1"]}
    assert sums["vcpu"] == 576 + 90 + 480
    assert sums["memory"] == (2068480 + 262144 + 2064384) * MIB
    assert sums["storage"] == (143360 + 19456 + 184320) * GIB
    for resource, total in sums.items():
        kpi = results[f"cloud_{resource}_capacity"]
        assert kpi.value == pytest.approx(total) and kpi.minimum == pytest.approx(total)
        assert kpi.totals.unknown == 0


async def test_placement_disk_can_be_added_to_storage(lab):
    collector = make_collector(lab, storage_sources=["cinder", "placement"])
    try:
        got = values(await collector.poll(target(collector)))
    finally:
        await collector.close()
    # Cinder 143360 GiB + Placement DISK_GB 2800 GiB; used 51200 + 30 GiB.
    assert got[series("gov", "sz-a", "storage", "capacity")] == (143360 + 2800) * GIB
    assert got[series("gov", "sz-a", "storage", "used")] == (51200 + 30) * GIB


async def test_capacity_changes_show_on_the_next_poll(lab, collector):
    lab.set_capacity("sz-b", "VCPU", allocation_ratio=1.0, reserved=0)  # 32 x 1.0
    lab.set_capacity("sz-b", "volume", total_capacity_gb=40960, free_capacity_gb=40960)  # x 0.95
    got = values(await collector.poll(target(collector, "sz-b")))
    assert got[series("gov", "sz-b", "vcpu", "capacity")] == 32
    assert got[series("gov", "sz-b", "storage", "capacity")] == pytest.approx(38912 * GIB)
    lab.remove_providers("sz-a", 1)  # a1 decommissioned: 576 - 240
    got = values(await collector.poll(target(collector)))
    assert got[series("gov", "sz-a", "vcpu", "capacity")] == 336


async def test_demo_cloud_is_above_the_kpi_targets():
    async with CloudLab() as lab:
        cloud = CONFIG.validate_python(lab.demo_config(), context={"env": lab.demo_env()})  # DEMO_CLOUD as is
        collector = CloudCollector([cloud])
        try:
            results = [values(await collector.poll(t)) for t in collector.targets()]
        finally:
            await collector.close()
    total = {r: sum(v[series("gov-cloud", region, r, "capacity")] for v, region in
                    zip(results, ("shenzhen-1", "shenzhen-2"))) for r in ("vcpu", "memory", "storage")}
    # shenzhen-1: 60 x (128-8) x 2.0 = 14400; shenzhen-2: 16 x (96-4) x 2.0 = 2944
    assert total["vcpu"] == 17344 >= 15000
    # 60 x (1536-32) GiB + 16 x (768-16) GiB = 90240 + 12032 = 102272 GiB
    assert total["memory"] == 102272 * GIB
    assert total["memory"] >= units.parse_bytes("100000GB") and total["memory"] >= 100000 * GIB
    # 4 x 800 TiB x 0.95 + 2 x 600 TiB x 0.95 = 3040 + 1140 = 4180 TiB
    assert total["storage"] == pytest.approx(4180 * TIB)
    assert total["storage"] >= units.parse_bytes("4000TB") and total["storage"] >= 4000 * TIB
    assert len(demo_regions()[0].providers) == 60


# -- tokens ------------------------------------------------------------------------

async def test_one_authentication_serves_many_polls(lab, collector):
    for _ in range(3):
        for t in collector.targets():
            await collector.poll(t)
    assert lab.auth_count == 1
    assert collector.keystones["gov"].authentications == 1


async def test_token_is_renewed_before_it_expires(lab, collector):
    lab.token_ttl = 0.6
    await collector.poll(target(collector))
    await asyncio.sleep(0.7)  # past the token's life: the next poll must not even try it
    assert values(await collector.poll(target(collector))) == pytest.approx(expected_values("sz-a"))
    assert lab.auth_count == 2
    assert not [r for r in lab.requests if r[3] == 401]


async def test_token_expired_mid_poll_is_replaced(lab, collector):
    await collector.poll(target(collector))
    lab.expire_tokens(after_requests=3)  # Keystone revokes it between provider reads
    assert values(await collector.poll(target(collector))) == pytest.approx(expected_values("sz-a"))
    assert lab.auth_count == 2
    assert [r for r in lab.requests if r[3] == 401]


async def test_401_then_successful_reauthentication(lab, collector):
    await collector.poll(target(collector))
    lab.fail_next(401, service="placement")
    assert values(await collector.poll(target(collector))) == pytest.approx(expected_values("sz-a"))
    assert lab.auth_count == 2


async def test_401_even_with_a_fresh_token_is_an_error(lab, collector):
    lab.fail_next(401, count=2, service="placement")
    message = await failed(collector)
    assert "HTTP 401 even with a fresh token" in message
    assert lab.auth_count == 2  # re-authenticated once, not in a loop


async def test_wrong_password_is_an_error_without_the_password(lab):
    cloud = CONFIG.validate_python({**lab.cloud_config("gov", timeout="3s", interval="60s"),
                                    "auth": {"type": "password", "username": "sla-agent",
                                             "password": "wrong-S3cret", "project_name": "sla-monitoring"}})
    collector = CloudCollector([cloud])
    try:
        with pytest.raises(CollectorError) as caught:
            await collector.poll(collector.targets()[0])
    finally:
        await collector.close()
    assert "authentication failed (HTTP 401): check the credentials" in str(caught.value)
    assert "wrong-S3cret" not in str(caught.value)
    assert lab.auth_count == 0


# -- transient failures ------------------------------------------------------------

async def test_500_and_503_are_retried(lab, collector):
    lab.fail_next(500, service="placement")
    lab.fail_next(503, service="volume", retry_after=0)
    lab.fail_next(503, service="identity")
    assert values(await collector.poll(target(collector))) == pytest.approx(expected_values("sz-a"))
    statuses = [r[3] for r in lab.requests]
    assert statuses.count(500) == 1 and statuses.count(503) == 2


async def test_persistent_503_gives_up_after_the_configured_retries(lab, collector):
    lab.fail_next(503, count=100, service="placement")
    message = await failed(collector)
    assert "placement GET http://127.0.0.1:" in message and "/placement/resource_providers" in message
    assert "HTTP 503 Service Unavailable (after 3 attempts)" in message
    assert lab.counts["placement"] == 3


async def test_backoff_grows_between_attempts(lab):
    cloud = CONFIG.validate_python(lab.cloud_config("gov", timeout="5s", interval="60s", retries=3))
    collector = CloudCollector([cloud], backoff_base=0.1)
    lab.fail_next(500, count=3, service="placement")
    started = time.monotonic()
    try:
        await collector.poll(target(collector))
    finally:
        await collector.close()
    # Sleeps of at least 0.05 + 0.1 + 0.2 s (base x 2**n, jitter down to half).
    assert time.monotonic() - started >= 0.35


async def test_retries_stop_at_the_poll_deadline(lab):
    # Waits of 0.2..0.4, 0.4..0.8, 0.8..1.6 s: the third no longer fits in the 1 s poll.
    collector = make_collector(lab, backoff=0.4, timeout="1s", retries=10)
    lab.fail_next(503, count=100, service="placement")
    started = time.monotonic()
    try:
        message = await failed(collector)
    finally:
        await collector.close()
    assert "no time left within 1s to retry" in message
    assert time.monotonic() - started < 1.5


async def test_slow_endpoint_is_unknown_not_zero(lab):
    lab.delay = 2.0  # beyond the 1 s poll timeout
    slow = make_collector(lab, timeout="1s")
    outcomes: list[PollOutcome] = []
    scheduler = Scheduler([slow], outcomes.append)
    started = time.monotonic()
    try:
        outcome = await scheduler.poll_once(slow, target(slow))
    finally:
        await slow.close()
    assert time.monotonic() - started < 2.0
    assert outcome.result is None and "within 1s" in (outcome.error or "")
    assert outcome.observations and all(o.value is None for o in outcome.observations)
    assert {o.series for o in outcome.observations} == set(expected_values("sz-a"))


async def test_log_line_names_the_target_once(lab, collector, caplog):
    lab.fail_next(404, service="placement", region="sz-b")
    scheduler = Scheduler([collector], lambda outcome: None)
    with caplog.at_level(logging.WARNING, logger="agent.scheduler"):
        await scheduler.poll_once(collector, target(collector, "sz-b"))
    [line] = [r.getMessage() for r in caplog.records if r.name == "agent.scheduler"]
    assert line.startswith("cloud target gov/sz-b is unknown: placement GET http://127.0.0.1:"), line
    assert line.count("gov/sz-b") == 1 and line.endswith("/placement/resource_providers: HTTP 404 Not Found")


async def test_fault_through_the_scheduler_unknown_then_recovered_logged_once(lab, caplog):
    from agent.exposition import make_registry
    from agent.state import AgentState

    collector = make_collector(lab, interval="0.3s", timeout="0.3s", retries=0)
    state = AgentState()
    outcomes: list[PollOutcome] = []

    def sink(outcome: PollOutcome) -> None:
        outcomes.append(outcome)
        state.apply(outcome)

    scheduler = Scheduler([collector], sink)
    registry = make_registry(state)
    ids = {"cloud": "gov", "region": "sz-a"}

    def up(name: str = "gov/sz-a") -> float | None:
        return registry.get_sample_value("sla_target_up", {"collector": "cloud", "target": name})

    caplog.set_level(logging.DEBUG)
    lab.fail_next(503, count=10_000, service="placement", region="sz-a")  # sz-a's Placement is down
    try:
        await run_for(scheduler, 1.6)
        failing = [o for o in outcomes if o.target == "gov/sz-a"]
        assert len(failing) >= 3 and all(o.result is None for o in failing)
        assert up() == 0 and up("gov/sz-b") == 1
        # Every series of the region unknown (None) on every failed poll, never zero.
        for outcome in failing:
            assert {o.series: o.value for o in outcome.observations} == dict.fromkeys(expected_values("sz-a"))
        assert registry.get_sample_value("sla_cloud_vcpu_capacity", ids) is None  # dropped, not 0
        assert registry.get_sample_value("sla_cloud_vcpu_capacity", {**ids, "region": "sz-b"}) == 90

        lab.clear_faults()
        seen = len(outcomes)
        await run_for(scheduler, 0.9)
    finally:
        await collector.close()
    recovered = [o for o in outcomes[seen:] if o.target == "gov/sz-a"]
    assert recovered and all(o.result is not None for o in recovered)
    assert values(recovered[-1].result) == pytest.approx(expected_values("sz-a"))
    assert up() == 1
    assert registry.get_sample_value("sla_cloud_vcpu_capacity", ids) == 576

    changes = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "agent.scheduler"]
    [(level, line), recovery] = changes  # one line on failure, one on recovery, however many polls failed
    assert level == logging.WARNING
    assert line.startswith("cloud target gov/sz-a is unknown: placement GET http://127.0.0.1:"), line
    assert line.endswith("/placement/resource_providers: HTTP 503 Service Unavailable (after 1 attempt)")
    assert recovery == (logging.INFO, "cloud target gov/sz-a recovered")
    for secret in SECRETS:
        assert secret not in caplog.text
    assert "gAAAAA" not in caplog.text and "X-Auth-Token" not in caplog.text


# -- bad answers ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("mode", "service", "expected"),
    [
        ("garbage", "placement", "malformed or truncated JSON"),
        ("truncated", "placement", "malformed or truncated JSON"),
        ("truncated", "volume", "cinder GET"),
        ("garbage", "identity", "keystone POST"),
    ],
)
async def test_malformed_or_truncated_json_is_an_error(lab, collector, mode, service, expected):
    lab.malformed_next(mode=mode, service=service)
    message = await failed(collector)
    assert expected in message and "malformed or truncated JSON" in message


async def test_connection_cut_mid_body_is_retried_then_reported(lab, collector):
    lab.malformed_next(mode="cut", service="placement")
    assert values(await collector.poll(target(collector))) == pytest.approx(expected_values("sz-a"))
    lab.malformed_next(count=3, mode="cut", service="placement")
    message = await failed(collector)
    assert "connection closed mid-body (truncated response) (after 3 attempts)" in message


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (("drop", "allocation_ratio"), "field 'allocation_ratio' missing"),
        (("drop", "total"), "field 'total' missing"),
        (("corrupt", "total", "lots"), "field 'total' is str, expected an integer"),
        (("corrupt", "reserved", None), "field 'reserved' is NoneType"),
        (("corrupt", "allocation_ratio", "16.0"), "field 'allocation_ratio' is str"),
        (("drop", "free_capacity_gb"), "cinder get_pools: pool fs-a@p1#p1: field 'free_capacity_gb' missing"),
        (("corrupt", "total_capacity_gb", "infinite"), "total_capacity_gb is 'infinite'"),
        (("corrupt", "reserved_percentage", [5]), "'reserved_percentage' is list"),
    ],
)
async def test_missing_or_mistyped_fields_are_errors(lab, collector, fault, expected):
    if fault[0] == "drop":
        lab.drop_field(fault[1])
    else:
        lab.corrupt_field(fault[1], fault[2])
    message = await failed(collector)
    assert expected in message
    if "cinder" not in expected and "capacity_gb" not in expected and "percentage" not in expected:
        assert message.startswith("placement: provider ")


async def test_no_resource_providers_is_unknown_not_zero(lab, collector):
    lab.region("sz-a").providers = []  # Placement up, but no compute node registered (yet)
    message = await failed(collector)
    assert "placement GET http://127.0.0.1:" in message and "/placement/resource_providers: " in message
    assert "no resource providers" in message


async def test_no_cinder_pools_is_unknown_not_zero(lab, collector):
    lab.region("sz-a").pools = []  # get_pools answers [] until the volume services report
    message = await failed(collector)
    assert "cinder GET http://127.0.0.1:" in message and "/scheduler-stats/get_pools: " in message
    assert "no pools" in message
    lab.region("sz-a").pools = topology()[0].pools  # they report again
    assert values(await collector.poll(target(collector))) == pytest.approx(expected_values("sz-a"))


async def test_missing_reserved_percentage_counts_as_zero(lab, collector):
    lab.drop_field("reserved_percentage")  # optional: some drivers leave it out
    got = values(await collector.poll(target(collector)))
    # p1 102400 + p2 51200 GiB, nothing reserved; used unchanged.
    assert got[series("gov", "sz-a", "storage", "capacity")] == 153600 * GIB
    assert got[series("gov", "sz-a", "storage", "used")] == 51200 * GIB


async def test_provider_vanishing_between_list_and_read_is_relisted(lab, collector):
    gone = lab.region("sz-a").providers[0].uuid  # a1: 240 vCPU, 1032192 MiB
    lab.remove_provider_after_list(gone)
    got = values(await collector.poll(target(collector)))
    assert got[series("gov", "sz-a", "vcpu", "capacity")] == 576 - 240
    assert got[series("gov", "sz-a", "memory", "capacity")] == (2068480 - 1032192) * MIB
    assert any(r[3] == 404 for r in lab.requests)


async def test_providers_vanishing_twice_in_a_row_is_an_error(lab, collector):
    lab.remove_provider_after_list(times=2)
    message = await failed(collector)
    assert "vanished between list and read twice in a row" in message


async def test_unsupported_microversion_is_an_error(lab, collector, monkeypatch):
    monkeypatch.setattr("collectors.cloud.openstack.PLACEMENT_VERSION", "placement 1.99")
    assert "HTTP 406: Placement does not support placement 1.99" in await failed(collector)


# -- protocol details ---------------------------------------------------------------

async def test_pagination_and_microversion_header(lab, collector):
    lab.page_size = 1
    assert values(await collector.poll(target(collector))) == pytest.approx(expected_values("sz-a"))
    lists = [r for r in lab.requests if r[2].startswith("/placement/resource_providers") and "/inventories" not in r[2]
             and "/usages" not in r[2]]
    assert [r[2] for r in lists][1:] == [f"/placement/resource_providers?limit=1&marker={p.uuid}"
                                         for p in lab.region("sz-a").providers[:2]]
    assert set(lab.placement_versions) == {"placement 1.14"}


async def test_cinder_pool_pagination(lab, collector):
    lab.pool_page_size = 1  # a gateway that pages get_pools: two pages for sz-a's two pools
    assert values(await collector.poll(target(collector))) == pytest.approx(expected_values("sz-a"))
    reads = [r for r in lab.requests if "/scheduler-stats/get_pools" in r[2]]
    assert len(reads) == 2 and all(r[3] == 200 for r in reads)
    first, second = (URL(r[2]) for r in reads)
    assert dict(first.query) == {"detail": "True"}
    # The next link keeps detail=True and carries the marker ('#' in the pool name survives encoding).
    assert dict(second.query) == {"detail": "True", "limit": "1", "marker": "fs-a@p1#p1"}
    lab.pool_page_size = 2  # exactly one full page: no next link
    assert values(await collector.poll(target(collector))) == pytest.approx(expected_values("sz-a"))
    assert len([r for r in lab.requests if "/scheduler-stats/get_pools" in r[2]]) == 3


async def test_block_storage_service_type_is_found(lab, collector):
    lab.volume_service_type = "block-storage"
    assert values(await collector.poll(target(collector))) == pytest.approx(expected_values("sz-a"))


async def test_region_missing_from_the_catalog(lab):
    collector = make_collector(lab, regions=["sz-a", "sz-c"])
    try:
        message = await failed(collector, "sz-c")
    finally:
        await collector.close()
    assert "no placement endpoint for region 'sz-c' on the public interface" in message


async def test_unreadable_ca_file(lab, tmp_path):
    collector = make_collector(lab, auth_url=lab.auth_url.replace("http:", "https:"), ca_file=str(tmp_path / "no.pem"))
    try:
        assert "cannot load ca_file" in await failed(collector)
    finally:
        await collector.close()


async def test_unreachable_keystone(lab):
    cloud = CONFIG.validate_python({**lab.cloud_config("gov", timeout="2s", interval="60s", retries=1),
                                    "auth_url": "http://127.0.0.1:9/identity/v3"})
    collector = CloudCollector([cloud], backoff_base=0.01)
    try:
        with pytest.raises(CollectorError, match=r"keystone POST .*connection error .*after 2 attempts"):
            await collector.poll(collector.targets()[0])
    finally:
        await collector.close()


async def test_no_secret_or_token_in_logs(lab, collector, caplog):
    caplog.set_level(logging.DEBUG)
    lab.fail_next(401, service="placement")
    await collector.poll(target(collector))
    lab.fail_next(503, count=10)
    with pytest.raises(CollectorError):
        await collector.poll(target(collector))
    assert "re-authenticating" in caplog.text
    for secret in SECRETS:
        assert secret not in caplog.text
    assert "gAAAAA" not in caplog.text


async def test_unknown_lists_every_series_and_close_is_idempotent(lab, collector):
    t = target(collector, "sz-b")
    assert {o.series: o.value for o in collector.unknown(t)} == dict.fromkeys(expected_values("sz-b"))
    await collector.poll(t)
    await collector.close()
    await collector.close()
    assert values(await collector.poll(t)) == pytest.approx(expected_values("sz-b"))  # reopens
