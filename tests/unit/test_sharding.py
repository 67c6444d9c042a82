"""Sharding: rendezvous hashing of target names, and the config a shard runs."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from agent.cli import main
from agent.config import parse_config
from agent.runtime import load_runtime
from agent.sharding import Shard, owner, parse_shard, select, target_key
from agent.schema import ConfigError

DEVICES = [f"dev-{i:04d}" for i in range(3000)]


def test_parse_shard():
    assert parse_shard("1/3") == Shard(1, 3) and str(parse_shard(" 0/1 ")) == "0/1"
    for text, reason in (("3/3", r"out of range \(0 to 2"), ("a/b", "give the shard as i/n"), ("0/0", "between 1"),
                         ("-1/2", "give the shard as i/n"), ("1/2000", "between 1 and 1024")):
        with pytest.raises(ValueError, match=reason):
            parse_shard(text)


def test_every_target_has_one_owner_and_the_split_is_even():
    counts = Counter(owner(target_key("snmp", d), 4) for d in DEVICES)
    assert sorted(counts) == [0, 1, 2, 3]
    assert all(abs(n - 750) < 100 for n in counts.values())  # about 3000/4 each (binomial sd ~24)
    shards = [Shard(i, 4) for i in range(4)]
    assert all(sum(s.owns(target_key("snmp", d)) for s in shards) == 1 for d in DEVICES)


def test_adding_a_shard_moves_only_what_the_new_shard_takes():
    before = {d: owner(target_key("snmp", d), 3) for d in DEVICES}
    after = {d: owner(target_key("snmp", d), 4) for d in DEVICES}
    moved = [d for d in DEVICES if before[d] != after[d]]
    assert all(after[d] == 3 for d in moved)  # nothing moves between the old shards
    assert 0.20 < len(moved) / len(DEVICES) < 0.30  # about 1/4, where hash % n would move about 3/4


def _config(extra=None):
    devices = [{"name": f"r{i}", "address": "127.0.0.1", "community": "public"} for i in range(12)]
    data = {
        "snmp": {"devices": devices},
        "link_groups": [
            {"name": "egress", "links": [{"name": f"e{i}", "device": f"r{i}", "if_name": "ge0"} for i in range(8)]},
            {"name": "mobile", "links": [{"name": "m0", "device": "r8", "if_name": "ge0"}]},
        ],
        "kpis": [{"id": "egress_link_availability", "link_group": "egress"},
                 {"id": "mobile_office_link_availability", "link_group": "mobile"}],
        **(extra or {}),
    }
    return data


def test_a_shard_keeps_its_devices_their_links_and_the_kpis_it_can_measure():
    config = parse_config(_config(), "c.yaml", env={})
    owned = [select(config, Shard(i, 3)) for i in range(3)]
    names = [[d.name for d in c.snmp.devices] for c in owned]
    assert sorted(n for each in names for n in each) == sorted(d.name for d in config.snmp.devices)
    for shard, devices in zip(owned, names):
        for group in shard.link_groups:
            assert all(link.device in devices for link in group.links)
        kpis = {k.id for k in shard.kpis}
        assert ("mobile_office_link_availability" in kpis) == ("r8" in devices)
        assert ("egress_link_availability" in kpis) == any(f"r{i}" in devices for i in range(8))
    assert select(config, Shard(0, 1)) is config


def test_shard_from_config_and_from_the_command_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(_config({"agent": {"shard": "1/2", "data_dir": str(tmp_path)}})))
    runtime = load_runtime(path)
    assert runtime.shard == Shard(1, 2)
    assert [d.name for d in runtime.config.snmp.devices] == [d for d in (f"r{i}" for i in range(12))
                                                             if owner(target_key("snmp", d), 2) == 1]
    assert load_runtime(path, shard=Shard(0, 2)).shard == Shard(0, 2)
    path.write_text(yaml.safe_dump(_config({"agent": {"shard": "2/2"}})))
    with pytest.raises(ConfigError) as caught:
        load_runtime(path)
    assert any("agent.shard" in p and "out of range" in p for p in caught.value.problems)


def test_bad_shard_argument_is_one_line(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["run", "-c", "x.yaml", "--shard", "5/2"])
    assert caught.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--shard" in err[0] and "out of range" in err[0]
