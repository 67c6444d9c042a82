"""/metrics over HTTP from the agent's own server: the text a scrape receives is the state's, whole and in order."""

from __future__ import annotations

import asyncio
import urllib.request

import aiohttp

from agent.exposition import make_app
from collectors.snmp.link_states import LinkId, LinkStates
from agent.state import AgentState
from agent.web import Listener
from tests.fakes import FakeClock
from tests.unit.test_textformat import busy_state


def large_state() -> AgentState:
    state = busy_state()
    links = [LinkId(f"link-{i}", "g", f"rt-{i % 50}") for i in range(20_000)]
    state.live = (LinkStates(links, clock=FakeClock(1012.0)),)
    return state


async def test_a_scrape_streams_the_whole_text_in_batches_to_concurrent_and_one_shot_clients():
    state = large_state()
    expected = state.render()
    assert len(expected) > 4 * 256 * 1024  # several batches
    listener = Listener(make_app(state, lambda: 15.0), "127.0.0.1", 0)
    await listener.start()
    try:
        url = f"http://127.0.0.1:{listener.port}/metrics"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:

            async def scrape() -> tuple[int, str, bytes]:
                async with session.get(url) as response:
                    return response.status, response.headers.get("Content-Type", ""), await response.read()

            results = await asyncio.gather(*(scrape() for _ in range(3)))
        for status, content_type, body in results:
            assert status == 200 and content_type.startswith("text/plain; version=")
            assert body == expected

        def old_client() -> bytes:  # urllib speaks HTTP/1.1 without keep-alive; the body ends with the connection
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.read()

        assert await asyncio.to_thread(old_client) == expected
    finally:
        await listener.stop()
