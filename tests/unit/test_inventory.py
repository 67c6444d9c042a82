"""Devices from the CMDB's CSV export, and the inventory counts (managed devices, servers, cabinets, organisations)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from agent import periods
from agent.config import load_config
from agent.kpi import KpiEngine
from agent.ledger import Ledger
from agent.schema import ConfigError
from collectors.snmp.series import link_up
from collectors.snmp.series import device_answered

SH = ZoneInfo("Asia/Shanghai")
NOVEMBER = periods.month(2026, 11, SH)
CREDENTIALS = {"ro": {"community": "${CMDB_COMMUNITY}"},
               "ops": {"version": "v3", "user": "ops", "auth_protocol": "sha", "auth_key": "${CMDB_AUTH}"}}
ENV = {"CMDB_COMMUNITY": "cmdb-S3cret", "CMDB_AUTH": "auth-S3cret-key"}
CSV = """\ufeffName,Address,Type,Organisation,Credentials,Rack,Port
core-1,10.0.0.1,router,市大数据中心,ro,A1,
acc-7,10.0.0.7,switch,市教育局,ro,B2,1161
srv-1,10.0.1.1,server,市大数据中心,ops,C3,
srv-2,10.0.1.2,server,市大数据中心,ops,C3,
cab-1,10.0.2.1,cabinet,市大数据中心,ro,D1,

"""


def ts(*args) -> float:
    return datetime(*args, tzinfo=SH).timestamp()


def write_config(tmp_path: Path, csv_text: str = CSV, **extra) -> Path:
    (tmp_path / "cmdb.csv").write_text(csv_text, encoding="utf-8")
    data = {"snmp": {"devices": [{"name": "egress-r1", "address": "127.0.0.1", "community": "c",
                                  "type": "router", "organisation": "市大数据中心"}],
                     "inventory": {"file": "cmdb.csv", "credentials": CREDENTIALS}},
            "link_groups": [{"name": "access", "links": [
                {"name": "edu", "device": "acc-7", "if_name": "ge1"},
                {"name": "dc", "device": "core-1", "if_name": "ge2"}]}],
            "kpis": [{"id": "managed_devices"}, {"id": "servers"}, {"id": "power_cabinets"},
                     {"id": "connected_organisations", "link_group": "access"}], **extra}
    path = tmp_path / "sla.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_csv_rows_become_devices_with_their_credentials(tmp_path):
    config = load_config(write_config(tmp_path), env=ENV)
    devices = {d.name: d for d in config.snmp.devices}
    assert list(devices) == ["egress-r1", "core-1", "acc-7", "srv-1", "srv-2", "cab-1"]
    assert (devices["acc-7"].address, devices["acc-7"].port, devices["acc-7"].organisation) == ("10.0.0.7", 1161, "市教育局")
    assert devices["core-1"].community.get_secret_value() == "cmdb-S3cret"
    assert (devices["srv-1"].version, devices["srv-1"].user, devices["srv-1"].type) == ("v3", "ops", "server")
    assert "cmdb-S3cret" not in repr(devices["core-1"])


@pytest.mark.parametrize(("text", "problem"), [
    ("name,address,type\nx,1.2.3.4,router\n", "cmdb.csv:1: missing columns organisation, credentials"),
    ("name,address,type,organisation,credentials\nx,,router,o,ro\n", "cmdb.csv:2: address is empty"),
    ("name,address,type,organisation,credentials\nx,1.1.1.1,router,o,nope\n",
     "cmdb.csv:2: credentials 'nope' is not in snmp.inventory.credentials (ops, ro)"),
    ("name,address,type,organisation,credentials\negress-r1,1.1.1.1,router,o,ro\n",
     "cmdb.csv:2: device 'egress-r1' is already defined"),
    ("name,address,type,organisation,credentials,port\nx,1.1.1.1,router,o,ro,99999\n",
     "cmdb.csv:2: port '99999' is not a port number"),
    ("", "cmdb.csv: empty file (a header row name,address,type,organisation,credentials is needed)"),
])
def test_a_bad_csv_is_one_line_naming_the_file_and_line(tmp_path, text, problem):
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, text), env=ENV)
    assert len([p for p in info.value.problems if "cmdb.csv" in p]) == 1
    found = next(p for p in info.value.problems if "cmdb.csv" in p)
    assert found == f"{tmp_path / 'sla.yaml'}: snmp: {tmp_path / problem}"


def test_every_bad_line_is_named_in_the_one_line(tmp_path):
    text = "name,address,type,organisation,credentials\na,,r,o,ro\nb,1.1.1.1,r,o,ro\nc,1.1.1.2,r,,ro\n"
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, text), env=ENV)
    line = next(p for p in info.value.problems if "cmdb.csv" in p)
    assert "cmdb.csv:2: address is empty" in line and "cmdb.csv:4: organisation is empty" in line


def test_the_inventory_counts_by_hand(tmp_path):
    config = load_config(write_config(tmp_path), env=ENV)
    ledger = Ledger(tmp_path / "ledger.sqlite")
    # Answered in November: egress-r1, core-1, acc-7, srv-1 (srv-2 only failed polls; cab-1 never polled).
    for device in ("egress-r1", "core-1", "acc-7", "srv-1"):
        ledger.record([(device_answered(device), 1.0, ts(2026, 11, 2), 3600.0)])
    ledger.record([(device_answered("srv-2"), None, ts(2026, 11, 2), 3600.0)])
    # The education bureau's access link was up once; the data center's link only down.
    ledger.record([(link_up("edu"), 1.0, ts(2026, 11, 5), 60.0), (link_up("dc"), 0.0, ts(2026, 11, 5), 60.0)])
    # An answer in October does not count for November.
    ledger.record([(device_answered("cab-1"), 1.0, ts(2026, 10, 30), 3600.0)])
    found = {r.definition.id: r for r in KpiEngine(config, ledger).evaluate_period(NOVEMBER, ts(2026, 12, 1))}
    assert found["managed_devices"].value == 4 and found["managed_devices"].met is False  # >= 2499
    assert found["managed_devices"].details == {"configured": 6.0, "known": 4.0}  # failed polls: unknown
    assert found["servers"].value == 1 and found["servers"].coverage == 0.5  # srv-2 never answered: unknown
    assert found["power_cabinets"].value == 0 and found["power_cabinets"].coverage == 0.0
    assert found["connected_organisations"].value == 1  # 市教育局 only: 市大数据中心's link never up
    ledger.close()
