"""collectors.cloud.capacity (pure arithmetic) and collectors.cloud.config, checked by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from collectors.cloud import capacity
from collectors.cloud.capacity import (
    GIB,
    MIB,
    CapacityError,
    Inventory,
    ProviderReport,
    Totals,
    cinder_totals,
    extract,
    parse_inventory,
    parse_path,
    placement_totals,
)
from collectors.cloud.config import (
    CloudConfig,
    GenericCloud,
    OpenStackCloud,
    check_clouds,
)

CLASSES = ("VCPU", "MEMORY_MB", "DISK_GB")


def inv(total, reserved=0, ratio=1.0, **extra):
    return {"total": total, "reserved": reserved, "allocation_ratio": ratio, "min_unit": 1,
            "max_unit": total, "step_size": 1, **extra}


# -- offered capacity of one inventory ----------------------------------------

@pytest.mark.parametrize(
    ("total", "reserved", "ratio", "offered"),
    [
        (128, 8, 2.0, 240),  # (128 - 8) x 2
        (64, 4, 4.0, 240),  # (64 - 4) x 4
        (32, 0, 16.0, 512),  # the api-ref's own example: 8 x 16 = 128, scaled
        (8, 0, 16.0, 128),
        (1048576, 16384, 1.5, 1548288),  # MEMORY_MB (1 TiB - 16 GiB) x 1.5
        (10, 0, 2.3, 23),  # 10 x 2.3 is 22.999999999999996 in floating point: still 23
        (23, 0, 1.3, 29),  # 29.900000000000002 -> 29: allocations are whole units
        (7, 0, 1.5, 10),  # 10.5 -> 10
        (16, 16, 4.0, 0),  # all reserved (allowed since microversion 1.26)
        (0, 0, 1.0, 0),
    ],
)
def test_offered_is_total_minus_reserved_times_ratio_floored(total, reserved, ratio, offered):
    assert parse_inventory(inv(total, reserved, ratio), "p").offered == offered


@given(st.integers(0, 10**7), st.integers(0, 10**7), st.floats(0.01, 64.0, allow_nan=False))
def test_offered_never_exceeds_placements_own_bound(total, reserved, ratio):
    reserved = min(reserved, total)
    offered = Inventory(total, reserved, ratio).offered
    exact = (total - reserved) * ratio
    assert exact - 1 - 1e-6 <= offered <= exact + 1e-6
    assert offered >= 0


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"reserved": 0, "allocation_ratio": 1.0}, "'total' missing"),
        ({"total": 8, "allocation_ratio": 1.0}, "'reserved' missing"),
        ({"total": 8, "reserved": 0}, "'allocation_ratio' missing"),
        (inv("64"), "'total' is str, expected an integer"),
        (inv(True), "'total' is bool"),
        (inv(64.5), "'total' is float"),
        (inv(64, ratio="4.0"), "'allocation_ratio' is str"),
        (inv(64, ratio=None), "'allocation_ratio' is NoneType"),
        (inv(64, ratio=math.nan), "'allocation_ratio' is nan"),
        (inv(64, ratio=math.inf), "'allocation_ratio' is inf"),
        (inv(64, ratio=0.0), "allocation_ratio must be > 0"),
        (inv(-1), "'total' is negative"),
        (inv(8, 9), "reserved (9) exceeds total (8)"),
        ([1, 2], "inventory is list"),
    ],
)
def test_bad_inventory_records_are_refused_with_the_field_named(record, message):
    with pytest.raises(CapacityError) as caught:
        parse_inventory(record, "provider p1 VCPU")
    assert message in str(caught.value)
    assert str(caught.value).startswith("provider p1 VCPU: ")
    assert "\n" not in str(caught.value)


# -- summing providers ---------------------------------------------------------

# Two compute nodes and a nested child that only holds disk.
#   n1: VCPU (64 - 4) x 4.0 = 240, MEMORY_MB (262144 - 8192) x 1.5 = 380928
#   n2: VCPU (32 - 0) x 16.0 = 512, MEMORY_MB (131072 - 4096) x 1.0 = 126976, DISK_GB (2000 - 100) x 1.0 = 1900
#   c3: DISK_GB (1000 - 50) x 1.2 = 1140
PROVIDERS = [
    ProviderReport("n1", {"VCPU": inv(64, 4, 4.0), "MEMORY_MB": inv(262144, 8192, 1.5)},
                   {"VCPU": 100, "MEMORY_MB": 131072}),
    ProviderReport("n2", {"VCPU": inv(32, 0, 16.0), "MEMORY_MB": inv(131072, 4096, 1.0), "DISK_GB": inv(2000, 100)},
                   {"VCPU": 10, "MEMORY_MB": 2048, "DISK_GB": 40}),
    ProviderReport("c3", {"DISK_GB": inv(1000, 50, 1.2)}, {"DISK_GB": 60}),
    ProviderReport("empty", {}, {}),  # registered but no inventory yet: contributes nothing
]


def test_placement_totals_by_hand():
    totals = placement_totals(PROVIDERS, CLASSES)
    assert totals["VCPU"] == Totals(240 + 512, 100 + 10)
    assert totals["MEMORY_MB"] == Totals((380928 + 126976) * MIB, (131072 + 2048) * MIB)
    assert totals["DISK_GB"] == Totals((1900 + 1140) * GIB, (40 + 60) * GIB)
    assert totals["MEMORY_MB"].capacity == 507904 * 1048576 == 532575944704


def test_placement_totals_ignore_unrequested_classes_and_order():
    only_vcpu = placement_totals(reversed(PROVIDERS), ["VCPU"])
    assert only_vcpu == {"VCPU": Totals(752, 110)}


def test_memory_and_disk_use_binary_units():
    totals = placement_totals([ProviderReport("n", {"MEMORY_MB": inv(1024), "DISK_GB": inv(1)},
                                              {"MEMORY_MB": 0, "DISK_GB": 0})], ["MEMORY_MB", "DISK_GB"])
    assert totals["MEMORY_MB"].capacity == 2**30  # 1024 MiB
    assert totals["DISK_GB"].capacity == 2**30  # 1 GiB


def test_missing_or_bad_usage_is_an_error_not_a_zero():
    with pytest.raises(CapacityError, match="n1 VCPU: no usage reported"):
        placement_totals([ProviderReport("n1", {"VCPU": inv(8)}, {})], ["VCPU"])
    with pytest.raises(CapacityError, match="'VCPU' is str"):
        placement_totals([ProviderReport("n1", {"VCPU": inv(8)}, {"VCPU": "3"})], ["VCPU"])


def test_no_providers_is_an_error_not_a_zero():
    # A region whose Placement lists no provider has unknown capacity, not none.
    with pytest.raises(CapacityError, match="no resource providers"):
        placement_totals([], CLASSES)
    with pytest.raises(CapacityError, match="no resource providers"):
        placement_totals(iter(()), ["VCPU"])


def test_utilization():
    assert Totals(200, 50).utilization == 0.25
    assert Totals(0, 0).utilization is None
    assert Totals(100, None).utilization is None


# -- Cinder pools ----------------------------------------------------------------

def pool(name, total, free, reserved=0, **extra):
    caps = {"total_capacity_gb": total, "free_capacity_gb": free, "reserved_percentage": reserved,
            "volume_backend_name": name, "storage_protocol": "iSCSI", **extra}
    return {"name": name, "capabilities": caps}


def test_cinder_totals_by_hand():
    # pool1: 1024 GiB x (1 - 5 %) = 972.8 GiB offered, 1024 - 100 = 924 GiB used
    # pool2: 512 GiB x 1 = 512 GiB offered, 512 - 200 = 312 GiB used
    totals = cinder_totals([pool("pool1", 1024, 100, 5), pool("pool2", 512, 200)])
    assert totals.capacity == pytest.approx(1484.8 * GIB)
    assert totals.used == 1236 * GIB


def test_cinder_over_subscription_is_not_counted_as_capacity():
    thin = pool("thin", 1000, 400, 0, max_over_subscription_ratio="20.0", provisioned_capacity_gb=15000)
    assert cinder_totals([thin]) == Totals(1000 * GIB, 600 * GIB)


def test_no_pools_is_an_error_not_a_zero():
    # Cinder answers [] until its volume services report (e.g. after a scheduler restart).
    with pytest.raises(CapacityError, match="no pools"):
        cinder_totals([])


def test_missing_reserved_percentage_counts_as_none_reserved():
    # Optional in a driver's capabilities (Cinder itself defaults it to 0).
    bare = pool("bare", 1000, 250)
    del bare["capabilities"]["reserved_percentage"]
    assert cinder_totals([bare]) == Totals(1000 * GIB, 750 * GIB)
    assert cinder_totals([bare, pool("p2", 100, 100, 10)]) == Totals(1090 * GIB, 750 * GIB)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (pool("p", "infinite", 10), "total_capacity_gb is 'infinite'"),
        (pool("p", 100, "unknown"), "free_capacity_gb is 'unknown'"),
        ({"name": "p"}, "'capabilities' missing"),
        ({"name": "p", "capabilities": {"free_capacity_gb": 1, "reserved_percentage": 0}}, "'total_capacity_gb' missing"),
        (pool("p", 100, 10, None), "'reserved_percentage' is NoneType"),
        (pool("p", 100, 10, 120), "reserved_percentage 120 exceeds 100"),
        (pool("p", 100, 150), "free_capacity_gb (150) exceeds total_capacity_gb (100)"),
        (pool("p", -5, 0), "'total_capacity_gb' is -5, expected a finite number >= 0"),
        ("p", "pool #0: is str"),
    ],
)
def test_bad_pools_are_refused(entry, message):
    with pytest.raises(CapacityError) as caught:
        cinder_totals([entry])
    assert message in str(caught.value)


# -- the generic mapping ---------------------------------------------------------

DOC = {
    "data": {
        "summary": {"cpu": {"total": 17344, "used": "9001"}},
        "pools": [{"name": "a", "ram": {"totalMB": 1024, "usedMB": 512}},
                  {"name": "b", "ram": {"totalMB": 3072.5, "usedMB": 0}}],
        "flag": True,
        "nothing": [],
    }
}


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        ("data.summary.cpu.total", ("data", "summary", "cpu", "total")),
        ("$.data.pools[*].ram.totalMB", ("data", "pools", "*", "ram", "totalMB")),
        ("data.pools[1].ram.used-MB", ("data", "pools", 1, "ram", "used-MB")),
        ("rows[0][2]", ("rows", 0, 2)),
    ],
)
def test_parse_path(path, steps):
    assert parse_path(path) == steps


@pytest.mark.parametrize("path", ["", "$.", "data..x", "data.pools[x]", "data pools", "a.[0]", "a[", "a.b.c]"])
def test_bad_paths_are_rejected(path):
    with pytest.raises(ValueError):
        parse_path(path)


def test_extract_sums_wildcards_and_accepts_numeric_strings():
    assert extract(DOC, "data.summary.cpu.total") == 17344
    assert extract(DOC, "data.summary.cpu.used") == 9001  # "9001": vendor APIs send strings
    assert extract(DOC, "data.pools[*].ram.totalMB") == 4096.5
    assert extract(DOC, "data.pools[0].ram.usedMB") == 512


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("data.summary.cpu.free", "field 'free' missing at $.data.summary.cpu"),
        ("data.pools[5].ram.totalMB", "$.data.pools[5] missing"),
        ("data.summary[*]", "is dict, expected a list"),
        ("data.flag", "is bool, expected a number"),
        ("data.pools[0].name", "'a' is not a number"),
        ("data.pools", "is list, expected a number"),
        ("data.nothing[*].x", "matched no elements"),
    ],
)
def test_extract_errors(path, message):
    with pytest.raises(CapacityError) as caught:
        extract(DOC, path)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("unit", "factor", "kind"),
    [("cores", 1, "count"), ("vcpu", 1, "count"), ("MB", 10**6, "bytes"), ("GB", 10**9, "bytes"),
     ("TB", 10**12, "bytes"), ("MiB", 2**20, "bytes"), ("GiB", 2**30, "bytes"), ("TiB", 2**40, "bytes"),
     ("B", 1, "bytes")],
)
def test_units(unit, factor, kind):
    assert capacity.unit_factor(unit) == factor
    assert capacity.unit_kind(unit) == kind


@pytest.mark.parametrize("unit", ["Gb", "gb", "cpus", "T", ""])
def test_unknown_units_are_rejected(unit):
    with pytest.raises(ValueError, match="unknown unit"):
        capacity.unit_factor(unit)


def test_generic_totals_convert_to_base_units():
    assert capacity.generic_totals(DOC, "data.pools[*].ram.totalMB", "data.pools[*].ram.usedMB", "MiB") == Totals(
        4096.5 * MIB, 512 * MIB)
    assert capacity.generic_totals(DOC, "data.summary.cpu.total", None, "cores") == Totals(17344, None)


# -- config models -----------------------------------------------------------------

CLOUD = TypeAdapter(CloudConfig)
OPENSTACK = {
    "type": "openstack", "name": "gov-cloud", "auth_url": "https://iam.example.gov.cn:5000/v3",
    "regions": ["shenzhen-1", "shenzhen-2"],
    "auth": {"type": "password", "username": "sla", "password": "${CLOUD_PW}", "project_name": "ops"},
}
GENERIC = {
    "type": "generic", "name": "vendor-cloud", "url": "https://mo.example.gov.cn/rest/statistics",
    "headers": {"X-Auth-Token": {"env": "MO_TOKEN"}},
    "mapping": {"vcpu": {"capacity": "data.cpu.total", "used": "data.cpu.used", "unit": "cores"},
                "storage": {"capacity": "data.disk.totalTB", "unit": "TB"}},
}
ENV = {"CLOUD_PW": "pw-S3CRET", "MO_TOKEN": "tok-S3CRET"}


def validate(data):
    return CLOUD.validate_python(data, context={"env": ENV})


def test_openstack_config_defaults_and_secret_resolution():
    cloud = validate(OPENSTACK)
    assert isinstance(cloud, OpenStackCloud)
    assert cloud.auth.password.get_secret_value() == "pw-S3CRET"
    assert (cloud.interface, cloud.interval, cloud.timeout, cloud.retries) == ("public", 300.0, 60.0, 2)
    assert cloud.storage_sources == ("cinder",)
    assert "pw-S3CRET" not in repr(cloud)


def test_application_credential_config():
    cloud = validate({**OPENSTACK, "auth": {"type": "application_credential", "id": "abc", "secret": "${CLOUD_PW}"},
                      "interval": "5m", "timeout": "30s", "interface": "internal"})
    assert cloud.auth.secret.get_secret_value() == "pw-S3CRET"
    assert cloud.auth.id.get_secret_value() == "abc"
    assert (cloud.interval, cloud.timeout) == (300.0, 30.0)


def test_application_credential_id_reads_the_environment():
    """examples/center.yaml gives the id as ${GOV_CLOUD_APP_CRED_ID}: it must be resolved, not sent as written."""
    cloud = validate({**OPENSTACK, "auth": {"type": "application_credential", "id": "${CLOUD_PW}", "secret": "x"}})
    assert cloud.auth.id.get_secret_value() == "pw-S3CRET"
    assert "pw-S3CRET" not in repr(cloud)


def test_generic_config():
    cloud = validate(GENERIC)
    assert isinstance(cloud, GenericCloud)
    assert cloud.region == "default"
    assert cloud.headers["X-Auth-Token"].get_secret_value() == "tok-S3CRET"
    assert "tok-S3CRET" not in repr(cloud)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"regions": []}, "at least 1 item"),
        ({"regions": ["a", "a"]}, "each region may be listed once"),
        ({"regions": ["sz:1"]}, "may not contain ':'"),
        ({"name": "gov:cloud"}, "may not contain ':'"),
        ({"auth_url": "iam.example:5000"}, "not an http:// or https:// URL"),
        ({"timeout": "10m"}, "must not exceed interval"),
        ({"retries": 11}, "less than or equal to 10"),
        ({"verify_tls": False, "ca_file": "/etc/ca.pem"}, "ca_file is given but verify_tls is false"),
        ({"interface": "admin"}, "'public' or 'internal'"),
        ({"storage_sources": []}, "at least 1 item"),
        ({"storage_sources": ["swift"]}, "'cinder' or 'placement'"),
        ({"auth": {"type": "token", "token": "x"}}, "does not match any of the expected tags"),
        ({"auth": {"type": "password", "username": "u", "password": "${NOPE}", "project_name": "p"}},
         "environment variable NOPE is not set"),
        ({"unknown_key": 1}, "Extra inputs are not permitted"),
    ],
)
def test_bad_openstack_configs(change, message):
    with pytest.raises(ValidationError) as caught:
        validate({**OPENSTACK, **change})
    assert message in str(caught.value)
    assert "pw-S3CRET" not in str(caught.value)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({}, "map at least one of vcpu, memory, storage"),
        ({"vcpu": {"capacity": "a.b", "unit": "GB"}}, "vcpu needs a count unit"),
        ({"memory": {"capacity": "a.b", "unit": "cores"}}, "memory needs a bytes unit"),
        ({"storage": {"capacity": "a..b", "unit": "TB"}}, "bad segment"),
        ({"storage": {"capacity": "a.b", "unit": "Tb"}}, "unknown unit 'Tb'"),
        ({"disk": {"capacity": "a.b", "unit": "TB"}}, "Extra inputs are not permitted"),
    ],
)
def test_bad_generic_mappings(mapping, message):
    with pytest.raises(ValidationError) as caught:
        validate({**GENERIC, "mapping": mapping})
    assert message in str(caught.value)


def test_generic_body_needs_post():
    assert validate({**GENERIC, "method": "POST", "body": {"scope": "all"}}).body == {"scope": "all"}
    for change in ({"body": {"scope": "all"}}, {"method": "GET", "body": {}}):
        with pytest.raises(ValidationError) as caught:
            validate({**GENERIC, **change})
        [error] = caught.value.errors()
        assert error["loc"] == ("generic", "body")
        assert "a body is only sent with method: POST" in error["msg"]


def test_duplicate_cloud_names_are_reported():
    clouds = [validate(OPENSTACK), validate({**GENERIC, "name": "gov-cloud"})]
    assert check_clouds(clouds) == [("clouds[1].name", "duplicate cloud name 'gov-cloud'")]
