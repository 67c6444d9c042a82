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
from typing import Awaitable, Callable, Sequence

from agent import __version__
from agent.config import Config, load_for_command
from agent.ledger import LedgerError

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


def _run_until_signal(main: Callable[[], Awaitable[None]]) -> int:
    """Run ``main`` until it ends or SIGINT/SIGTERM asks for a clean stop."""

    async def runner() -> None:
        task = asyncio.ensure_future(main())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
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
    if isinstance(exc, (LedgerError, LabError)):
        return str(exc).splitlines()[0]
    if isinstance(exc, OSError):
        return f"cannot start: {exc.strerror or exc}"
    return None


def cmd_check(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if isinstance(config, int):
        return config
    links = sum(len(g.links) for g in config.link_groups)
    print(
        f"{args.config}: ok ({len(config.snmp.devices)} devices, {len(config.link_groups)} link groups, "
        f"{links} links, {len(config.clouds)} clouds, {len(config.sms)} SMS gateways, {len(config.kpis)} KPIs, "
        f"{len(config.maintenance)} maintenance windows)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if isinstance(config, int):
        return config
    from agent.app import Agent

    async def main() -> None:
        agent = Agent(config)
        log.info("sla-agent %s serving http://%s/metrics", __version__, config.agent.listen)
        await agent.run()

    return _run_until_signal(main)


def cmd_demo(args: argparse.Namespace) -> int:
    from agent.lab.demo import run_demo

    return _run_until_signal(lambda: run_demo(listen=args.listen, data_dir=Path(args.data_dir), duration=args.duration))


def _generate(args: argparse.Namespace, what: str) -> int:
    """``rules`` / ``dashboards``: write files generated from the catalogue and the config."""
    from agent import dashboards, rules

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sla-agent", description="SLA monitoring agent (Prometheus exporter).")
    parser.add_argument("--version", action="version", version=f"sla-agent {__version__}")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="poll the configured sources and serve /metrics")
    run.add_argument("-c", "--config", required=True, help="YAML config file")
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", help="validate a config file (exit 0 if good, 2 if not)")
    check.add_argument("-c", "--config", required=True, help="YAML config file")
    check.set_defaults(func=cmd_check)

    demo = sub.add_parser("demo", help="run the agent against the bundled simulated infrastructure")
    demo.add_argument("--listen", default="127.0.0.1:9877", help="HOST:PORT for /metrics (default %(default)s)")
    demo.add_argument("--data-dir", default="sla-demo-data", help="ledger directory (default %(default)s)")
    demo.add_argument("--duration", type=float, default=None, help="stop after this many seconds (default: run until Ctrl-C)")
    demo.set_defaults(func=cmd_demo)

    for what, help_text in (("rules", "write Prometheus recording and alerting rules for a config"),
                            ("dashboards", "write Grafana dashboards for a config")):
        gen = sub.add_parser(what, help=help_text)
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

    add_export_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.log_level)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
