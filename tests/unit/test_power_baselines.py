"""The power collector's counter baselines as kept in the ledger (collectors/power/baselines.py)."""

from __future__ import annotations

import asyncio

from agent.ledger import Ledger
from collectors.power.baselines import BaselineStore, cursor_name, decode, encode
from collectors.power.profile import load_profile

UPS = load_profile("ups-rfc1628")
COUNTER = next(i for i, c in enumerate(UPS.checks) if c.test == "increase")
OID = ".".join(map(str, UPS.checks[COUNTER].oid))


def test_kept_by_oid_and_read_back_by_index():
    text = encode(UPS, {COUNTER: 7})
    assert text == '{"%s": 7}' % OID
    assert decode(UPS, text) == {COUNTER: 7}


def test_what_no_longer_applies_or_cannot_be_read_is_dropped():
    assert decode(UPS, None) == {} and decode(UPS, "not json") == {} and decode(UPS, "[1, 2]") == {}
    assert decode(UPS, '{"1.2.3": 5}') == {}  # an OID the profile no longer counts
    assert decode(UPS, '{"%s": "7"}' % OID) == {} and decode(UPS, '{"%s": true}' % OID) == {}
    cabinet = load_profile("cabinet-generic")
    assert decode(cabinet, encode(UPS, {COUNTER: 7})) == {}  # another profile's counter


async def test_written_in_the_background_and_read_after_a_restart(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    store = BaselineStore(ledger)
    assert await store.get("ups-a", UPS) == {}
    store.put("ups-a", UPS, {COUNTER: 3}, 100.0)
    store.put("ups-a", UPS, {COUNTER: 4}, 101.0)  # while the first write may be under way: the newest wins
    await store.close()
    assert ledger.get_cursor(cursor_name("ups-a")) == encode(UPS, {COUNTER: 4})
    assert await BaselineStore(ledger).get("ups-a", UPS) == {COUNTER: 4}
    ledger.close()


async def test_a_ledger_that_fails_leaves_the_baselines_in_memory(tmp_path, caplog):
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.close()  # every call now fails
    store = BaselineStore(ledger)
    assert await store.get("ups-a", UPS) == {}
    store.put("ups-a", UPS, {COUNTER: 3}, 100.0)
    await asyncio.wait_for(store.close(), 10)
    assert await store.get("ups-a", UPS) == {COUNTER: 3}
    warnings = [r.getMessage() for r in caplog.records if "counter baselines" in r.getMessage()]
    assert len(warnings) == 1 and "ups-a" in warnings[0]  # once per unit, not per poll
