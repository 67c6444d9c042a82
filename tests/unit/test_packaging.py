"""What the code needs is what the package declares.

CI installs into a clean virtualenv, but a package that happens to be there
(a transitive dependency today, gone in its next release) would still hide a
missing declaration. So every third-party import in the source tree is
checked against pyproject.toml: agent/ and collectors/ against the runtime
dependencies, tests/ against those plus the ``test`` extra.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OWN = {"agent", "collectors", "tests"}
# Imported by name at run time, never by an import statement.
RUN_BY_NAME = {"snmpsim"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(requirements: list[str]) -> set[str]:
    return {_normalise(re.split(r"[\s<>=!~;\[(]", req, maxsplit=1)[0]) for req in requirements}


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = _requirement_names(project["dependencies"])
    return runtime, runtime | _requirement_names(project["optional-dependencies"]["test"])


def _third_party_imports(folder: str) -> dict[str, str]:
    """Top-level module -> first file importing it, for every import statement (also inside functions)."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in OWN:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def _undeclared(folder: str, declared: set[str]) -> list[str]:
    distributions = importlib.metadata.packages_distributions()
    problems = []
    for module, where in sorted(_third_party_imports(folder).items()):
        owners = {_normalise(d) for d in distributions.get(module, [])}
        if not owners:
            problems.append(f"{where}: imports {module}, which no installed distribution provides")
        elif owners.isdisjoint(declared):
            problems.append(f"{where}: imports {module} (from {', '.join(sorted(owners))}), not declared in pyproject.toml")
    return problems


@pytest.mark.parametrize("folder", ["agent", "collectors"])
def test_runtime_imports_are_declared_dependencies(folder):
    runtime, _ = _declared()
    assert _undeclared(folder, runtime) == []


def test_test_imports_are_declared_in_the_test_extra():
    _, with_tests = _declared()
    assert _undeclared("tests", with_tests) == []


def test_packages_run_by_name_are_declared():
    runtime, _ = _declared()
    assert {_normalise(name) for name in RUN_BY_NAME} <= runtime


def test_the_checker_catches_an_undeclared_import(tmp_path, monkeypatch):
    """The check above can fail: a module importing something undeclared is reported."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("def f():\n    import pytest\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _undeclared("pkg", {"pyyaml"}) == ["pkg/m.py: imports pytest (from pytest), not declared in pyproject.toml"]


def _modules(package: str) -> list[str]:
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=package + "."):
        if not info.name.endswith("__main__"):  # importing it would run the command
            names.append(info.name)
    return names


@pytest.mark.parametrize("module", _modules("agent") + _modules("collectors"))
def test_every_module_imports(module):
    importlib.import_module(module)


@pytest.mark.parametrize("protocol", ["des", "3des", "aes", "aes192", "aes256", "aes192c", "aes256c"])
def test_every_snmpv3_privacy_protocol_encrypts(protocol):
    """pysnmp's privacy services need the ``cryptography`` package, which pysnmp does not declare.

    Without it every authPriv device reads "Ciphering services not available"
    at the first poll; here that shows as an error at once.
    """
    from pyasn1.type.univ import OctetString
    from pysnmp.proto.secmod.rfc3414.service import SnmpUSMSecurityModel

    from collectors.snmp.v3 import PRIV_PROTOCOLS

    service = SnmpUSMSecurityModel.PRIV_SERVICES[PRIV_PROTOCOLS[protocol]]
    key = OctetString(bytes(range(32)))  # long enough for every protocol's localized key
    plain = b"a scoped PDU, padded to 32 bytes"
    cipher, salt = service.encrypt_data(key, (1, 2, 0), plain)
    assert bytes(cipher) != plain
    assert bytes(service.decrypt_data(key, (1, 2, salt), cipher))[: len(plain)] == plain


_OPEN_ONE_DEVICE = """
import asyncio, sys
import agent.cli, collectors.cloud, collectors.sms, collectors.snmp  # what `sla-agent run` loads
from collectors.snmp.config import SnmpDevice
from collectors.snmp.session import DeviceSession, Engines

async def main():
    engines = Engines()
    await DeviceSession.create(engines, SnmpDevice.model_validate(DEVICE))  # opens a socket, sends nothing
    engines.close()

asyncio.run(main())
print(any(name.split(".")[0] in ("pysnmp", "pyasn1") for name in sys.modules))
"""


@pytest.mark.parametrize(
    "device, loaded",
    [
        ({"version": "v2c", "community": "x"}, "False"),
        ({"version": "v3", "user": "u", "auth_key": "authkey123", "priv_key": "privkey123"}, "True"),
    ],
    ids=["v2c", "v3"],
)
def test_pysnmp_is_loaded_only_for_a_v3_device(device, loaded):
    # v2c has its own encoder and decoder (collectors/snmp/ber.py); pysnmp's engine
    # stack is about 21 MB of RSS that a v2c fleet does not need (docs/performance.md, Memory).
    device = {"name": "d", "address": "127.0.0.1", "port": 9, "timeout": 1.0, "retries": 0, **device}
    code = _OPEN_ONE_DEVICE.replace("DEVICE", repr(device))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == loaded
