"""Devices from a CSV export of the center's CMDB (``snmp.inventory``): nobody types 2,500 devices into YAML.

Columns (a header row; names are case-insensitive, other columns are ignored, as
a CMDB export has many): ``name``, ``address``, ``type``, ``organisation`` and
``credentials`` (required), ``port`` (optional). ``credentials`` names an entry
of ``snmp.inventory.credentials``, so the file holds no secret. Every problem
is one line naming the file and the line: ``cmdb.csv:17: address is empty``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

REQUIRED = ("name", "address", "type", "organisation", "credentials")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$")
MAX_PROBLEMS = 5  # shown in the one-line message; the count says how many more
MAX_BYTES = 64 * 2**20  # a CMDB export of tens of thousands of devices is a few MB


def _read(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ValueError(f"{path}: {size} bytes, more than a CMDB export of this size can be ({MAX_BYTES})")
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")  # a CMDB export from a Chinese-locale Excel
        except UnicodeDecodeError:
            raise ValueError(f"{path}: neither UTF-8 nor GB18030 text") from None


def load(path: Path, credentials: Mapping[str, Mapping[str, Any]], taken: Sequence[str]) -> list[dict[str, Any]]:
    """The file's devices as ``snmp.devices`` entries (credentials merged in); ValueError (one line) if any is bad.

    ``taken``: the names of devices already configured in YAML, which a row may not reuse.
    """
    text = _read(path)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError(f"{path}: empty file (a header row {','.join(REQUIRED)} is needed)") from None
    columns = {name.strip().lower(): i for i, name in enumerate(header)}
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise ValueError(f"{path}:1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    devices: list[dict[str, Any]] = []
    problems: list[str] = []
    seen = set(taken)
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # blank lines, as spreadsheets leave at the end
        cells = {name: (row[i].strip() if i < len(row) else "") for name, i in columns.items()}
        problem = _problem(cells, credentials, seen)
        if problem is not None:
            problems.append(f"{path}:{line}: {problem}")
            continue
        seen.add(cells["name"])
        device: dict[str, Any] = {**credentials[cells["credentials"]], "name": cells["name"],
                                  "address": cells["address"], "type": cells["type"],
                                  "organisation": cells["organisation"]}
        if cells.get("port"):
            device["port"] = int(cells["port"])
        devices.append(device)
    if problems:
        more = f" (and {len(problems) - MAX_PROBLEMS} more lines)" if len(problems) > MAX_PROBLEMS else ""
        raise ValueError("; ".join(problems[:MAX_PROBLEMS]) + more)
    return devices


def _problem(cells: Mapping[str, str], credentials: Mapping[str, Any], seen: set[str]) -> str | None:
    for name in REQUIRED:
        if not cells.get(name):
            return f"{name} is empty"
    if not _NAME.match(cells["name"]):
        return f"name {cells['name'][:40]!r}: letters, digits, _ . : - (at most 63)"
    if cells["name"] in seen:
        return f"device {cells['name']!r} is already defined"
    if " " in cells["address"]:
        return f"address {cells['address'][:40]!r} is not a host name or IP address"
    if cells["credentials"] not in credentials:
        known = ", ".join(sorted(credentials)) or "none are configured"
        return f"credentials {cells['credentials'][:40]!r} is not in snmp.inventory.credentials ({known})"
    port = cells.get("port")
    if port and (not port.isdigit() or not 1 <= int(port) <= 65535):
        return f"port {port[:10]!r} is not a port number"
    return None
