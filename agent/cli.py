"""The ``sla-agent`` command: run, check, demo, rules, dashboards, export.

User mistakes (bad config, bad arguments, a port in use) end with one line on
stderr and exit code 2; tracebacks are for bugs only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable, NoReturn, Sequence

from agent import __version__, sources
from agent.config import Config, load_for_command
from agent.ledger import LedgerError
from agent.schema import ConfigError, check_listen

if TYPE_CHECKING:
    from agent.runtime import Runtime
    from agent.sharding import Shard

EXIT_USAGE = 2
log = logging.getLogger("agent")


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # pysnmp and aiohttp are chatty at INFO about things the agent already reports.
    for noisy in ("pysnmp", "aiohttp.access", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _fail(message: str) -> int:
    print(f"sla-agent: {message}", file=sys.stderr)
    return EXIT_USAGE


def _load(path: str, *, secrets: bool = True) -> Config | int:
    config = load_for_command(path, secrets=secrets)
    return EXIT_USAGE if config is None else config


def _run_until_signal(main: Callable[[], Awaitable[None]], on_hup: Callable[[], None] | None = None) -> int:
    """Run ``main`` until it ends or SIGINT/SIGTERM asks for a clean stop; SIGHUP calls ``on_hup``."""

    async def runner() -> None:
        task = asyncio.ensure_future(main())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        if on_hup is not None:
            loop.add_signal_handler(signal.SIGHUP, on_hup)
        try:
            await task
        except asyncio.CancelledError:
            pass

    try:
        asyncio.run(runner())
    except BaseException as exc:  # noqa: BLE001 - sorted below: user-facing errors vs bugs
        cause = _user_error(exc)
        if cause is None:
            raise
        return _fail(cause)
    return 0


def _user_error(exc: BaseException) -> str | None:
    """A one-line message if ``exc`` (or what a task group wraps) is the user's to fix."""
    from agent.lab.simulator import LabError

    if isinstance(exc, BaseExceptionGroup):
        causes = [_user_error(inner) for inner in exc.exceptions]
        return next((c for c in causes if c is not None), None)
    if isinstance(exc, ConfigError):  # each line already names file, key and problem
        return "; ".join(exc.problems)
    if isinstance(exc, (LedgerError, LabError)):
        return str(exc).splitlines()[0]
    if isinstance(exc, OSError):
        return f"cannot start: {exc.strerror or exc}"
    return None


def _load_runtime(args: argparse.Namespace) -> "Runtime | int":
    """The config and its web config, or EXIT_USAGE after printing each problem on its own stderr line."""
    from agent.runtime import load_runtime

    try:
        return load_runtime(args.config, args.web_config_file, getattr(args, "shard", None))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_USAGE


def _configured(config: Config) -> str:
    """What each source has configured: "3 devices, 2 link groups, 5 links, 1 clouds, ..."."""
    from agent.sources import sources

    return ", ".join(f"{count} {what}" for spec in sources() for count, what in spec.counts(config))


def cmd_check(args: argparse.Namespace) -> int:
    if args.no_secrets:
        loaded: Config | Runtime | int = _load(args.config, secrets=False)
    else:
        loaded = _load_runtime(args)
    if isinstance(loaded, int):
        return loaded
    config = loaded if isinstance(loaded, Config) else loaded.config
    if not isinstance(loaded, Config):
        from agent.runtime import exposure_warnings

        for warning in exposure_warnings(loaded):
            print(f"warning: {warning}", file=sys.stderr)
    unchecked = ""
    if args.no_secrets:
        from agent.config import secret_references
        from agent.yamlfile import read_yaml

        count = secret_references(read_yaml(Path(args.config)))
        unchecked = f"; {count} secret reference{'s' if count != 1 else ''} not checked (--no-secrets)"
    print(
        f"{args.config}: ok ({_configured(config)}, {len(config.kpis)} KPIs, "
        f"{len(config.maintenance)} maintenance windows){unchecked}"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    # A SIGHUP while starting is not a reason to die (its default action); once
    # the agent runs, SIGHUP reloads the config.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    from agent.memory import limit_malloc_arenas, settle_gc

    limit_malloc_arenas()  # before any thread: see agent/memory.py
    runtime = _load_runtime(args)
    if isinstance(runtime, int):
        return runtime
    from agent.app import Agent
    from agent.runtime import load_runtime
    from agent.web import raise_fd_limit

    before, after = raise_fd_limit()
    if after != before:
        log.debug("open-files limit raised from %d to %d", before, after)
    agents: list[Agent] = []  # the one agent, once built inside the loop (its errors end as one line)

    async def main() -> None:
        agent = Agent(runtime, loader=lambda: load_runtime(args.config, args.web_config_file, args.shard),
                      reload_endpoint=args.enable_reload_endpoint)
        agents.append(agent)
        settle_gc()  # the long-lived state is built: see agent/memory.py
        scheme = "https" if runtime.security.tls is not None else "http"
        log.info("sla-agent %s serving %s://%s/metrics", __version__, scheme, runtime.config.agent.listen)
        if runtime.shard.count > 1:
            config = runtime.config
            log.info("shard %s: %s, %d KPIs", runtime.shard, _configured(config), len(config.kpis))
        await agent.run()

    def reload() -> None:
        for agent in agents:
            agent.request_reload()

    return _run_until_signal(main, on_hup=reload)


def cmd_demo(args: argparse.Namespace) -> int:
    from agent.lab.demo import run_demo

    try:
        check_listen(args.listen)
    except ValueError as exc:
        return _fail(f"--listen: {exc}")
    return _run_until_signal(lambda: run_demo(listen=args.listen, data_dir=Path(args.data_dir), duration=args.duration))


def _generate(args: argparse.Namespace, what: str) -> int:
    """``rules`` / ``dashboards``: write files generated from the catalogue and the config."""
    from agent.generators import dashboards, rules

    # Secrets are not needed (nor read) to generate rules and dashboards.
    config = _load(args.config, secrets=False)
    if isinstance(config, int):
        return config
    if what == "rules":
        files = rules.generate(config, args.config, job=args.job, runbooks=args.runbook_base)
        written = rules.write(files, Path(args.output))
    else:
        written = dashboards.write(dashboards.generate(config, job=args.job), Path(args.output))
    for path in written:
        print(path)
    return 0


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive number of seconds")
    return value


def _command(sub: "argparse._SubParsersAction[argparse.ArgumentParser]", name: str, summary: str,
             description: str, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` explains it; ``summary`` is its line in ``sla-agent --help``."""
    return sub.add_parser(name, help=summary, description=description, parents=[common],
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def _web_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--web.config.file", dest="web_config_file", metavar="PATH", default=None,
                        help="TLS and basic-auth config (exporter-toolkit format); overrides agent.web_config_file")


def _shard(text: str) -> "Shard":
    from agent.sharding import parse_shard

    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line like every other mistake (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sla-agent", description="SLA monitoring agent (Prometheus exporter).")
    parser.add_argument("--version", action="version", version=f"sla-agent {__version__}")
    levels = ["debug", "info", "warning", "error"]
    parser.add_argument("--log-level", default="info", choices=levels, help="default %(default)s")
    # Also after the subcommand (`sla-agent run -c X --log-level debug`); SUPPRESS keeps a
    # subcommand that is not given the option from resetting the value given before it.
    common = _Parser(add_help=False)
    common.add_argument("--log-level", default=argparse.SUPPRESS, choices=levels, help="default info")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = _command(sub, "run", "poll the configured sources and serve /metrics",
                   "Validate the config (as `check` does), then poll every configured source on its interval,\n"
                   "keep the observations in the ledger (agent.data_dir) and serve /metrics and /healthz\n"
                   "on agent.listen. SIGINT and SIGTERM stop it cleanly; SIGHUP reloads the config (a bad\n"
                   "one is refused and the running one kept).", common)
    run.add_argument("-c", "--config", required=True, help="YAML config file")
    _web_config_option(run)
    run.add_argument("--shard", type=_shard, default=None, metavar="I/N",
                     help="poll only shard I of N (0-based; rendezvous hashing of target names); overrides agent.shard")
    run.add_argument("--enable-reload-endpoint", action="store_true",
                     help="also reload on POST /-/reload (like Prometheus' --web.enable-lifecycle)")
    run.set_defaults(func=cmd_run)

    check = _command(sub, "check", "validate a config file (exit 0 if good, 2 if not)",
                     "Validate a config file: every problem is printed as FILE: path.to.key: problem (exit 2),\n"
                     "or one ok line says what it configures (exit 0).", common)
    check.add_argument("-c", "--config", required=True, help="YAML config file")
    check.add_argument("--no-secrets", action="store_true",
                       help="check structure and cross-references only: secret references (${VAR}, {env: NAME}, "
                            "{file: PATH}) are not resolved, and are reported as not checked")
    _web_config_option(check)
    check.set_defaults(func=cmd_check)

    demo = _command(sub, "demo", "run the agent against the bundled simulated infrastructure",
                    "Start the bundled simulated infrastructure (agent/lab: devices over snmpsim, HTTP services)\n"
                    "on 127.0.0.1, and the agent polling it with the bundled demo config.", common)
    demo.add_argument("--listen", default="127.0.0.1:9877", help="HOST:PORT for /metrics (default %(default)s)")
    demo.add_argument("--data-dir", default="sla-demo-data", help="ledger directory (default %(default)s)")
    demo.add_argument("--duration", type=_positive_seconds, default=None,
                      help="stop after this many seconds (default: run until Ctrl-C)")
    demo.set_defaults(func=cmd_demo)

    for what, help_text, description in (
        ("rules", "write Prometheus recording and alerting rules for a config",
         "Write the recording and alerting rules generated from the KPI catalogue and the config,\n"
         "for Prometheus' rule_files (check them with promtool check rules)."),
        ("dashboards", "write Grafana dashboards for a config",
         "Write the Grafana dashboards generated from the KPI catalogue and the config, as JSON\n"
         "files for Grafana's dashboard provisioning."),
    ):
        gen = _command(sub, what, help_text, description, common)
        gen.add_argument("-c", "--config", required=True, help="YAML config file (secrets are not read)")
        gen.add_argument("-o", "--output", required=True, help="directory to write into")
        gen.add_argument("--job", default="sla-agent", help="Prometheus job name of the agent (default %(default)s)")
        if what == "rules":
            gen.add_argument("--runbook-base", default="docs/runbooks.md",
                             help="URL of docs/runbooks.md for the alerts' runbook_url annotations. The default "
                                  "%(default)s is a relative path that Alertmanager and Grafana cannot open: pass "
                                  "the URL of the file in your repository, e.g. "
                                  "https://git.example.gov.cn/ops/sla-agent/-/blob/main/docs/runbooks.md")
        gen.set_defaults(func=lambda args, what=what: _generate(args, what))

    from agent.export.command import add_parser as add_export_parser

    add_export_parser(sub, common)
    for spec in sources.sources():  # a source's own subcommands (sla-agent incidents)
        if spec.commands is not None:
            spec.commands(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.log_level)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
