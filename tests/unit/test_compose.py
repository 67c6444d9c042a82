"""docker/ without Docker: the compose file's structure and the files it wires together.

Docker cannot run on the build machines, so this checks what a `docker compose
up` would trip over: mounts of files that do not exist, services or ports
referenced but not defined, ports published twice, and the container paths
of rules and dashboards agreeing between compose, Prometheus and Grafana.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"
# Ports the upstream images listen on by default.
IMAGE_PORTS = {"prom/prometheus": 9090, "prom/alertmanager": 9093, "grafana/grafana": 3000}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))


def mounts(service: dict) -> list[tuple[str, str]]:
    return [tuple(v.split(":")[:2]) for v in service.get("volumes", [])]


def listen_port(service: dict) -> int:
    """The port a service's container listens on: its --listen argument, else the image's."""
    command = service.get("command", [])
    if "--listen" in command:
        return int(command[command.index("--listen") + 1].rpartition(":")[2])
    image = service["image"].split(":")[0]
    return IMAGE_PORTS[image]


def test_every_bind_mount_exists_and_every_named_volume_is_declared(compose):
    for name, service in compose["services"].items():
        for source, target in mounts(service):
            if source.startswith((".", "/")):
                assert (DOCKER / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in compose["volumes"], f"{name}: volume {source} not declared"
            assert target.startswith("/")


def test_build_context_and_dockerfile_exist(compose):
    build = compose["services"]["agent"]["build"]
    context = (DOCKER / build["context"]).resolve()
    assert (context / build["dockerfile"]).is_file() and (context / "pyproject.toml").is_file()


def test_depends_on_names_defined_services(compose):
    services = compose["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", []):
            assert dependency in services, f"{name} depends on undefined {dependency}"


def test_published_host_ports_are_unique_and_loopback_only(compose):
    published = [p for s in compose["services"].values() for p in s.get("ports", [])]
    host_ports = [p.rsplit(":", 2)[-2] for p in published]
    assert len(host_ports) == len(set(host_ports))
    assert all(p.startswith("127.0.0.1:") for p in published)
    for name, service in compose["services"].items():
        for mapping in service.get("ports", []):
            assert int(mapping.rsplit(":", 1)[1]) == listen_port(service), name


def referenced_endpoints() -> list[tuple[str, str, int]]:
    """(where, host, port) of every service address in the mounted configs."""
    found = []
    prometheus = yaml.safe_load((DOCKER / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    for job in prometheus["scrape_configs"]:
        for static in job["static_configs"]:
            found += [(f"prometheus job {job['job_name']}", *t.split(":")) for t in static["targets"]]
    for am in prometheus["alerting"]["alertmanagers"]:
        found += [("prometheus alerting", *t.split(":")) for static in am["static_configs"] for t in static["targets"]]
    alertmanager = yaml.safe_load((DOCKER / "alertmanager" / "alertmanager.yml").read_text(encoding="utf-8"))
    for receiver in alertmanager["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            url = urlsplit(hook["url"])
            found.append((f"alertmanager receiver {receiver['name']}", url.hostname, url.port))
    for path in (DOCKER / "grafana" / "provisioning" / "datasources").glob("*.yml"):
        for source in yaml.safe_load(path.read_text(encoding="utf-8"))["datasources"]:
            url = urlsplit(source["url"])
            found.append((f"grafana datasource {source['name']}", url.hostname, url.port))
    return [(where, host, int(port)) for where, host, port in found]


def test_every_referenced_service_and_port_is_defined(compose):
    services = compose["services"]
    endpoints = referenced_endpoints()
    assert len(endpoints) >= 5
    for where, host, port in endpoints:
        if host == "localhost":  # Prometheus scraping itself
            continue
        assert host in services, f"{where}: no service {host}"
        assert port == listen_port(services[host]), f"{where}: {host} does not listen on {port}"


def test_rules_and_dashboards_land_where_prometheus_and_grafana_look(compose):
    services = compose["services"]
    prometheus = yaml.safe_load((DOCKER / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    rules_target = dict(mounts(services["prometheus"]))["../rules"]
    assert prometheus["rule_files"] == [f"{rules_target}/*.yml"]
    assert list((DOCKER / "../rules").glob("*.yml"))
    config_target = dict(mounts(services["prometheus"]))["./prometheus/prometheus.yml"]
    assert f"--config.file={config_target}" in services["prometheus"]["command"]

    grafana = dict(mounts(services["grafana"]))
    provider = yaml.safe_load((DOCKER / "grafana/provisioning/dashboards/sla-agent.yml").read_text(encoding="utf-8"))
    assert provider["providers"][0]["options"]["path"] == grafana["../dashboards"]
    assert grafana["./grafana/provisioning/datasources"] == "/etc/grafana/provisioning/datasources"
    assert grafana["./grafana/provisioning/dashboards"] == "/etc/grafana/provisioning/dashboards"
    home = services["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(grafana["../dashboards"] + "/")
    assert (DOCKER / "../dashboards" / Path(home).name).is_file()

    alertmanager = dict(mounts(services["alertmanager"]))
    assert f"--config.file={alertmanager['./alertmanager/alertmanager.yml']}" in services["alertmanager"]["command"]


def test_dockerfile_is_slim_non_root_and_checks_healthz():
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    user = re.findall(r"^USER (\S+)$", text, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, re.M)
    assert re.search(r"^EXPOSE 9877$", text, re.M)
    assert "pip install ." in text


def dockerfile() -> str:
    return (DOCKER / "Dockerfile").read_text(encoding="utf-8")


def test_agent_container_writes_only_its_data_volume(compose):
    agent = compose["services"]["agent"]
    assert agent["read_only"] is True
    assert agent["tmpfs"] == ["/tmp"]  # the demo's simulated devices keep their files there
    assert agent["cap_drop"] == ["ALL"] and "no-new-privileges:true" in agent["security_opt"]
    # The user is the image's own unprivileged one, so the volume (created from the image's
    # directory, owned by it) is writable and nothing else is.
    uid = re.search(r"useradd .*--uid (\d+)", dockerfile()).group(1)
    assert agent["user"] == f"{uid}:{uid}" and uid != "0"
    (volume,) = agent["volumes"]
    source, target = volume.split(":")
    assert source in compose["volumes"] and not volume.endswith(":ro")
    assert re.search(rf'^VOLUME \["{re.escape(target)}"\]$', dockerfile(), re.M)
    assert re.search(rf"--home-dir {re.escape(target)} ", dockerfile())  # HOME is the volume too
    command = agent["command"]
    assert command[command.index("--data-dir") + 1] == target


def test_image_writes_no_bytecode_at_run_time():
    text = dockerfile()
    env = re.search(r"^ENV (.*?)(?<!\\)$", text, re.M | re.S).group(1)
    assert re.search(r"\bPYTHONDONTWRITEBYTECODE=1\b", env)
