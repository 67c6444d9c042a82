"""``sla-agent export --source prometheus --url URL``: the options, the store's credentials, and the run.

Credentials never come from the command line (it shows in ``ps`` and shell
history): a bearer token from ``--bearer-token-file`` or SLA_AGENT_STORE_BEARER_TOKEN,
a basic-auth password from ``--basic-auth-password-file`` or SLA_AGENT_STORE_PASSWORD.
They are held as SecretStr and no message names their value.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from pydantic import SecretStr

from agent.export.command import ExportError, _write, _writers
from agent.export.prometheus_source import StoreAuth, StoreError, check_url

if TYPE_CHECKING:
    from agent.config import Config
    from agent.export.manual import ManualValues
    from agent.periods import PeriodKind
    from agent.periods import Period

SOURCES = ("ledger", "prometheus")
TOKEN_ENV, PASSWORD_ENV = "SLA_AGENT_STORE_BEARER_TOKEN", "SLA_AGENT_STORE_PASSWORD"


def add_arguments(export: argparse.ArgumentParser) -> None:
    """The store options of ``sla-agent export``."""
    export.add_argument("--source", default="ledger", choices=SOURCES,
                        help="ledger (default): the agent's ledger; prometheus: any Prometheus HTTP API "
                             "(Prometheus, Thanos, Mimir, VictoriaMetrics) that scrapes the agents, given by --url")
    export.add_argument("--url", help="with --source prometheus: the API's base URL, e.g. http://prometheus:9090")
    export.add_argument("--bearer-token-file", metavar="FILE",
                        help=f"the store's bearer token (or the environment variable {TOKEN_ENV})")
    export.add_argument("--basic-auth-user", metavar="USER", help="basic auth for the store: the user name")
    export.add_argument("--basic-auth-password-file", metavar="FILE",
                        help=f"basic auth for the store: the password (or the environment variable {PASSWORD_ENV})")
    export.add_argument("--tenant", help="X-Scope-OrgID header for a multi-tenant store (Mimir, Cortex)")


def _secret_file(option: str, path: str) -> SecretStr:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"{option} {path}: cannot read it: {exc.strerror or type(exc).__name__}") from None
    except UnicodeDecodeError:
        raise ExportError(f"{option} {path}: not UTF-8 text") from None
    text = text.removesuffix("\n").removesuffix("\r")
    if not text or "\n" in text:
        raise ExportError(f"{option} {path}: the file must hold the secret alone, on one line")
    return SecretStr(text)


def _secret(option: str, path: str | None, env: str, environ: Mapping[str, str]) -> SecretStr | None:
    if path is not None:
        return _secret_file(option, path)
    value = environ.get(env)
    return SecretStr(value) if value else None


def options(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """``export()``'s ``source``, ``url`` and ``auth`` from the arguments; ExportError for a mistake."""
    source = getattr(args, "source", "ledger")
    url = getattr(args, "url", None)
    store_only = ("url", "bearer_token_file", "basic_auth_user", "basic_auth_password_file", "tenant")
    if source != "prometheus":
        given = [name for name in store_only if getattr(args, name, None) is not None]
        if given:
            raise ExportError(f"--{given[0].replace('_', '-')} is for --source prometheus")
        return {}
    if url is None:
        raise ExportError("--source prometheus needs --url URL (the store's HTTP API)")
    try:
        url = check_url(url)
    except ValueError as exc:
        shown = "" if "user or password" in str(exc) else f" {url}"  # never echo a password
        raise ExportError(f"--url{shown}: {exc}") from None
    if getattr(args, "data_dir", None):
        raise ExportError("--data-dir reads ledgers; --source prometheus reads the store at --url")
    user = args.basic_auth_user
    if user is None and args.basic_auth_password_file is not None:
        raise ExportError("--basic-auth-password-file needs --basic-auth-user")
    if user is not None and args.bearer_token_file is not None:
        raise ExportError("give a bearer token or basic auth for the store, not both")
    token = None if user is not None else _secret("--bearer-token-file", args.bearer_token_file, TOKEN_ENV, environ)
    password = _secret("--basic-auth-password-file", args.basic_auth_password_file, PASSWORD_ENV, environ)
    auth = StoreAuth(bearer_token=token, username=user, password=password if user is not None else None,
                     tenant=args.tenant)
    return {"source": "prometheus", "url": url, "auth": auth}


def export_from_store(config: "Config", kind: "PeriodKind", period: "Period", paths: Mapping[str, Path],
                      manual_path: str | None, lang: str, now: float, url: str,
                      auth: StoreAuth | None = None) -> list[Path]:
    """The report for ``period`` computed from the store at ``url``, written to ``paths``."""
    from agent.export.command import ManualFileError
    from agent.export.layout import table12
    from agent.export.manual import load_manual
    from agent.export.model import build_report
    from agent.export.prometheus_measurements import PrometheusMeasurements
    from agent.export.prometheus_source import PrometheusApi
    from agent.schema import ConfigError

    try:
        url = check_url(url)
    except ValueError as exc:
        raise ExportError(f"--url: {exc}") from None
    zone = config.agent.zone
    try:
        layout = table12()
        manual: ManualValues = load_manual(manual_path, layout, zone) if manual_path else {}
    except ConfigError as exc:
        raise ManualFileError("\n".join(exc.problems)) from None
    try:
        with PrometheusApi(url, auth) as api:
            measurements = PrometheusMeasurements(config, api, now)
            report = build_report(layout, measurements, manual, period, kind, now, zone,
                                  "en" if lang == "en" else "zh", charts=measurements.charts(period))
            report = measurements.annotate(report)
    except StoreError as exc:
        raise ExportError(str(exc)) from None
    writers = _writers()
    written: list[Path] = []
    for fmt_name, path in paths.items():
        _write(path, writers[fmt_name](report))
        written.append(path)
    return written

