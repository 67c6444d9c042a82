"""Building blocks shared by every config model: the agent's and each collector's.

Frozen models that reject unknown keys, durations and bit rates in human
units, names safe for labels and series, YAML lists held as tuples, and
secrets resolved from ``${ENV}`` / ``{env: NAME}`` / ``{file: PATH}`` into
SecretStr so they never show in reprs, logs or errors.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit
from typing import Annotated, Any, Mapping, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    model_validator,
)

from agent import units

Duration = Annotated[float, BeforeValidator(units.parse_duration)]


def below_minimum(seconds: float, minimum: float, why: str) -> str | None:
    """The problem with a duration shorter than ``minimum`` seconds (``why`` says what it would break), or None."""
    if seconds >= minimum:
        return None
    return f"{seconds:g}s is below the minimum of {minimum:g}s: {why}"


def duration_at_least(minimum: float, why: str) -> AfterValidator:
    """A Duration's lower bound: ``Annotated[Duration, duration_at_least(1.0, "...")]``."""

    def check(seconds: float) -> float:
        problem = below_minimum(seconds, minimum, why)
        if problem is not None:
            raise ValueError(problem)
        return seconds

    return AfterValidator(check)
BitRate = Annotated[float, BeforeValidator(units.parse_bit_rate)]

MIN_BODY_LIMIT, MAX_BODY_LIMIT = 2**10, 2**28  # 1 KiB .. 256 MiB


def _body_limit(value: object) -> int:
    size = units.parse_bytes(value)
    if not MIN_BODY_LIMIT <= size <= MAX_BODY_LIMIT:
        raise ValueError("a body limit is between 1KiB and 256MiB (e.g. 64KiB, 4MiB)")
    return int(size)


# The largest HTTP body the agent reads from (or takes from) a source: ``4MiB``, ``64KiB``.
BodyLimit = Annotated[int, BeforeValidator(_body_limit)]


def _http_url(value: str) -> str:
    """An http(s) URL with a host and no user info; trailing slashes dropped."""
    if not value.startswith(("http://", "https://")) or len(value) < 10:
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise ValueError("not a valid URL (check the host and port)") from None
    if "@" in parts.netloc:
        # Never echoed: it would show the password. aiohttp would send it as
        # Basic auth beside (or instead of) the configured key, or refuse the request.
        raise ValueError("user info (user:password@) is not allowed in the URL: give the credentials in their "
                         "own secret fields (api_key, auth, headers)")
    if not parts.hostname:
        raise ValueError(f"{value!r} has no host")
    return value.rstrip("/")


def _base_url(value: str) -> str:
    url = _http_url(value)
    if "?" in url or "#" in url:
        raise ValueError("a base URL takes no ?query or #fragment: the agent appends API paths to it")
    return url


HttpUrl = Annotated[str, AfterValidator(_http_url)]  # an endpoint as given (a query is kept)
BaseUrl = Annotated[str, AfterValidator(_base_url)]  # a prefix the agent appends API paths to


class ConfigError(Exception):
    """A config that cannot be used; ``problems`` are complete one-line messages."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="after")
    def _share_fields_set(self) -> Any:
        """One set of given field names for all instances that gave the same ones.

        pydantic keeps a set per instance (216 bytes), so 60,000 links held 13 MB
        of identical sets. Sharing is safe: the models are frozen, and
        ``model_copy`` copies the set before it changes it.
        """
        given = self.__pydantic_fields_set__
        object.__setattr__(self, "__pydantic_fields_set__", _FIELDS_SETS.setdefault(frozenset(given), given))
        return self


def config_dir(info: ValidationInfo) -> Path:
    """The directory relative paths in the config are read from: the config file's (the cwd for a dict)."""
    return Path((info.context or {}).get("base_dir", Path.cwd()))


def _relative_to_config(path: Path | None, info: ValidationInfo) -> Path | None:
    if path is None or path.is_absolute():
        return path
    return config_dir(info) / path


# A file or directory named in the config: a relative one is relative to the config file's directory,
# as secret files are (and as Prometheus reads its own).
ConfigPath = Annotated[Path, AfterValidator(_relative_to_config)]


_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def _resolve_secret(value: Any, info: ValidationInfo) -> Any:
    """``${VAR}`` / ``{env: VAR}`` / ``{file: PATH}`` / literal -> the secret's text."""
    env: Mapping[str, str] = (info.context or {}).get("env", os.environ)
    base = config_dir(info)
    if value is None or isinstance(value, SecretStr):
        return value
    if isinstance(value, dict):
        if set(value) == {"env"}:
            value = "${" + str(value["env"]) + "}"
        elif set(value) == {"file"}:
            path = Path(str(value["file"]))
            path = path if path.is_absolute() else base / path
            try:
                return path.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise ValueError(f"cannot read secret file {path}: {exc.strerror}") from None
            except UnicodeDecodeError:
                raise ValueError(f"secret file {path} is not UTF-8 text") from None
        else:
            raise ValueError("a secret is a string, ${ENV_VAR}, {env: NAME} or {file: PATH}")
    if not isinstance(value, str):
        raise ValueError("a secret must be a string, ${ENV_VAR}, {env: NAME} or {file: PATH}")
    if match := _ENV_REF.match(value.strip()):
        name = match.group(1)
        if name not in env:
            raise ValueError(f"environment variable {name} is not set")
        return env[name]
    return value


Secret = Annotated[SecretStr, BeforeValidator(_resolve_secret)]


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)") from None
    return name


TimeZoneName = Annotated[str, BeforeValidator(_check_timezone)]


def check_listen(value: str) -> str:
    """``value`` if it is HOST:PORT (``[v6]:PORT`` too); ValueError naming it otherwise."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not HOST:PORT")
    return value


ListenAddress = Annotated[str, AfterValidator(check_listen)]  # HOST:PORT, [v6]:PORT


def check_polled_http(entry: Any) -> None:
    """What every polled HTTP source's entry must hold: a poll within its interval, TLS settings that agree.

    ``entry`` has ``timeout`` and ``interval`` (seconds), ``ca_file`` and ``verify_tls``; ValueError otherwise.
    """
    if entry.timeout > entry.interval:
        raise ValueError(f"timeout ({entry.timeout:g}s) must not exceed interval ({entry.interval:g}s)")
    if entry.ca_file is not None and not entry.verify_tls:
        raise ValueError("ca_file is given but verify_tls is false: drop one")


def _not_blank(value: SecretStr) -> SecretStr:
    if not value.get_secret_value().strip():
        raise ValueError("the secret is empty")
    return value


NonBlankSecret = Annotated[Secret, AfterValidator(_not_blank)]  # a token a receiver checks: never empty


def _url_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"{value!r}: the path starts with /")
    return value


UrlPath = Annotated[str, AfterValidator(_url_path)]  # where a receiver listens: /sms/delivery-reports


class Listens:
    """``host`` and ``port`` of a model's ``listen: ListenAddress`` field."""

    listen: str

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


def _require_list(value: Any) -> Any:
    if not isinstance(value, (list, tuple)):
        raise ValueError("expected a list")
    return value


_T = TypeVar("_T")

# A YAML list held as an immutable tuple (frozen configs stay frozen all the way
# down): ``Items[Link]``. A generic alias, so both pydantic and type checkers read it.
Items = Annotated[tuple[_T, ...], BeforeValidator(_require_list)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$")]
