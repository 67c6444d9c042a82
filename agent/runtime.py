"""The configuration a running agent uses: the YAML config plus the web config it names.

One loader for ``run``, ``check`` and every reload (SIGHUP, ``POST /-/reload``),
so a file that ``check`` accepts is exactly one that a reload applies.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from agent.config import Config, load_config
from agent.sharding import ALL, Shard, parse_shard, select
from agent.web import Limits
from agent.webconfig import WebSecurity, load_web_config


@dataclass(frozen=True, slots=True, eq=False)
class Runtime:
    config: Config  # for a shard: only what it owns (agent/sharding.py)
    security: WebSecurity
    shard: Shard = ALL

    @property
    def limits(self) -> Limits:
        return Limits(self.config.agent.max_connections, self.config.agent.idle_timeout)


def load_runtime(path: str | Path, web_config_file: str | Path | None = None, shard: Shard | None = None) -> Runtime:
    """The config at ``path`` and its web config (``web_config_file`` overrides agent.web_config_file).

    ``shard`` (else agent.shard, else the whole fleet) keeps only that shard's targets.
    ConfigError with every problem of the config, else of the web config.
    """
    config = load_config(path)
    web = Path(web_config_file) if web_config_file is not None else config.agent.web_config_file
    if shard is None:
        shard = parse_shard(config.agent.shard) if config.agent.shard else ALL
    return Runtime(select(config, shard), load_web_config(web), shard)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name (or "" / 0.0.0.0 meaning every address) may be reached from elsewhere
        return False


def exposure_warnings(runtime: Runtime) -> list[str]:
    """Warnings for an HTTP listener others can reach with neither TLS nor basic auth."""
    agent, security = runtime.config.agent, runtime.security
    if is_loopback(agent.host) or security.tls is not None or security.users:
        return []
    return [f"agent.listen {agent.listen} is not a loopback address and its HTTP endpoints have neither TLS nor "
            "basic auth: anyone who can reach it reads /metrics; set agent.web_config_file (README, Security)"]
