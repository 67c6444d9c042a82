"""A receiver that others push to (an SMS gateway's reports, Alertmanager's alerts): listening, and retrying to.

The agent's listener (agent/web.py: bounded connections and idle time) with
the receiver's own authentication, started by its collector's polls. A port
that cannot be bound is logged once per outage, tried again on every poll, and
never fails the poll: the receiver's state is its own ``*_up`` metric.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Awaitable, Callable

from aiohttp import web

from agent.web import Listener


@dataclass(frozen=True, slots=True)
class PushTexts:
    """What the log says, each with the address (and for ``listening`` the path) filled in."""

    cannot_listen: str  # "... cannot listen on %s (%s); ..."
    again: str  # "... listening on %s again"
    listening: str  # "... on http://%s%s"


class PushListener:
    def __init__(self, name: str, host: str, port: int, listen: str, path: str, max_body: int,
                 handler: Callable[[web.Request], Awaitable[web.StreamResponse]], texts: PushTexts,
                 log: logging.Logger):
        self._name, self._host, self._port, self._listen, self._path = name, host, port, listen, path
        self._max_body, self._handler, self._texts, self._log = max_body, handler, texts, log
        self._runner: Listener | None = None
        self._bind_problem: str | None = None  # why the last start failed, while it does

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def ensure_started(self) -> bool:
        """Listen if not yet listening; False (logged once per outage) when the address cannot be bound."""
        if self._runner is not None:
            return True
        app = web.Application(client_max_size=self._max_body)
        app.router.add_post(self._path, self._handler)
        # The agent's listener: bounded connections and idle time; the receiver's check is its auth.
        runner = Listener(app, self._host, self._port, auth=False, name=self._name)
        try:
            await runner.start()
        except OSError as exc:
            problem = os.strerror(exc.errno) if exc.errno else str(exc)  # asyncio's text repeats the address
            if self._bind_problem is None:
                self._log.warning(self._texts.cannot_listen, self._listen, problem)
            self._bind_problem = problem
            return False
        self._runner = runner
        if self._bind_problem is not None:
            self._log.info(self._texts.again, self._listen)
        else:
            self._log.info(self._texts.listening, self._listen, self._path)
        self._bind_problem = None
        return True

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.stop()


class PushReceiver:
    """A receiver's lifecycle, delegated to its ``_listener`` (a PushListener it makes in ``__init__``)."""

    _listener: PushListener

    @property
    def running(self) -> bool:
        return self._listener.running

    async def ensure_started(self) -> bool:
        """Listen if not yet listening; False (logged once per outage) when the address cannot be bound."""
        return await self._listener.ensure_started()

    async def stop(self) -> None:
        await self._listener.stop()
