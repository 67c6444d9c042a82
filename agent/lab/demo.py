"""`sla-agent demo`: the agent against the bundled simulated infrastructure."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from agent.app import Agent
from agent.config import Config, parse_config
from agent.lab.apps import AppLab
from agent.lab.cloud import CloudLab
from agent.lab.devices import DEMO_DEVICES
from agent.lab.scans import DEMO_EVERY as SCAN_EVERY
from agent.lab.scans import ScanLab
from agent.lab.power import DEMO_UNITS, PowerLab
from agent.lab.simulator import SnmpLab
from agent.lab.sms import DEMO_CANARY, SmsLab

log = logging.getLogger(__name__)

# A gentle fault so the availability figures move: the mobile-office
# ChinaUnicom link drops for FLAP_DOWN seconds every FLAP_EVERY seconds.
FLAP_DEVICE, FLAP_IF_INDEX = "mobile-r1", 2
FLAP_EVERY, FLAP_DOWN = 180.0, 20.0
# And one business system of the app answers 503 for APP_FLAP_DOWN seconds every APP_FLAP_EVERY
# seconds (about 97 % available, above its 90 % target); its certificate has APP_DAYS_LEFT days left.
APP_FLAP_SYSTEM, APP_FLAP_EVERY, APP_FLAP_DOWN = "venue-code", 300.0, 10.0
APP_DAYS_LEFT = 30.0
POWER_OUTAGE_AFTER, POWER_OUTAGE = 120.0, 30.0


def demo_data(lab: SnmpLab, cloud: CloudLab, listen: str, data_dir: Path, sms: SmsLab,
              app: AppLab | None = None, scans: ScanLab | None = None) -> dict[str, Any]:
    """The bundled demo config as parsed YAML, pointed at the running labs (secrets as references).

    Without ``app`` and ``scans`` (callers that run only the SNMP, cloud and SMS labs) the probes and the
    security scans are left out, and with a plain SnmpLab the power units.
    """
    text = resources.files("agent.lab").joinpath("demo.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["agent"]["listen"] = listen
    data["agent"]["data_dir"] = str(data_dir)
    data["snmp"]["defaults"]["port"] = lab.port
    for entry in data["clouds"]:
        entry["auth_url"] = cloud.auth_url
    for entry in data["sms"]:
        entry["url"] = sms.url
    leave_out: list[tuple[str, str]] = []  # (section, KPI selector) of the labs not running
    if not isinstance(lab, PowerLab):  # a lab without the power units: neither they nor the KPIs on them
        units = {entry["device"] for entry in data["power"]}
        data["snmp"]["devices"] = [d for d in data["snmp"]["devices"] if d["name"] not in units]
        data["kpis"] = [kpi for kpi in data["kpis"] if kpi["id"] not in ("power_faults", "power_cabinets")]
        del data["power"]
    if app is None:
        leave_out.append(("probes", "probes"))
    else:
        for entry in data["probes"]:
            entry["url"] = entry["url"].replace("APP_URL", app.url)
            entry["ca_file"] = str(app.ca_file)
    if scans is None:
        leave_out.append(("security_scans", "scans"))
    else:
        for entry in data["security_scans"]:
            entry["directory"] = str(scans.directory)
    for section, selector in leave_out:
        del data[section]
        data["kpis"] = [kpi for kpi in data["kpis"] if selector not in kpi]
    return data


def demo_env(lab: SnmpLab, cloud: CloudLab, sms: SmsLab) -> dict[str, str]:
    """The secrets the demo config refers to."""
    return {"SLA_DEMO_V3_AUTH_KEY": lab.v3_auth_key, "SLA_DEMO_V3_PRIV_KEY": lab.v3_priv_key,
            **cloud.demo_env(), **sms.demo_env()}


def demo_config(lab: SnmpLab, cloud: CloudLab, listen: str, data_dir: Path, sms: SmsLab, app: AppLab,
                scans: ScanLab) -> Config:
    """The bundled demo config, pointed at the running labs."""
    env = {**os.environ, **demo_env(lab, cloud, sms)}
    return parse_config(demo_data(lab, cloud, listen, data_dir, sms, app, scans), "demo.yaml (bundled)",
                        env=env)


async def _flap(lab: SnmpLab) -> None:
    while True:
        await asyncio.sleep(FLAP_EVERY)
        log.info("demo: taking %s ifIndex %d down for %gs", FLAP_DEVICE, FLAP_IF_INDEX, FLAP_DOWN)
        await lab.set_oper_status(FLAP_DEVICE, FLAP_IF_INDEX, up=False)
        await asyncio.sleep(FLAP_DOWN)
        await lab.set_oper_status(FLAP_DEVICE, FLAP_IF_INDEX, up=True)


async def _power_outage(lab: PowerLab) -> None:
    # One mains failure a while after the start: ups-b on battery for POWER_OUTAGE seconds (a power fault).
    await asyncio.sleep(POWER_OUTAGE_AFTER)
    log.info("demo: ups-b on battery for %gs", POWER_OUTAGE)
    await lab.set_output_source("ups-b", "battery")
    await asyncio.sleep(POWER_OUTAGE)
    await lab.set_output_source("ups-b", "normal")


async def run_demo(listen: str, data_dir: Path, duration: float | None = None) -> None:
    """Start the lab and the agent; run until cancelled or ``duration`` seconds."""
    async with (PowerLab(DEMO_UNITS, devices=DEMO_DEVICES) as lab, CloudLab() as cloud, SmsLab(**DEMO_CANARY) as sms,
                AppLab(tls="valid", days_left=APP_DAYS_LEFT) as app):
        scans = ScanLab(data_dir / "scans" / "portal")
        if not any(scans.directory.glob("*.json")):  # a first start: past reports (a restart keeps its own)
            scans.history(3, end=time.time() - SCAN_EVERY)
        config = demo_config(lab, cloud, listen, data_dir, sms, app, scans)
        app.start_flap(APP_FLAP_SYSTEM, down=APP_FLAP_DOWN, every=APP_FLAP_EVERY)
        scans.start(every=SCAN_EVERY)
        agent = Agent(config)
        started = asyncio.Event()
        async with asyncio.TaskGroup() as group:
            runner = group.create_task(agent.run(started))
            flapper = group.create_task(_flap(lab))
            outage = group.create_task(_power_outage(lab))
            await started.wait()
            print(
                f"sla-agent demo: {len(lab.devices)} simulated routers and {len(lab.units)} power units on "
                f"udp://{lab.host}:{lab.port}, "
                f"simulated cloud (Keystone) at {cloud.auth_url}, simulated SMS gateway at {sms.url}, "
                f"simulated app at {app.url}, scan reports in {scans.directory}/, ledger in {data_dir}/\n"
                f"  metrics: http://{listen}/metrics\n  health:  http://{listen}/healthz\n"
                "  (Ctrl-C to stop)",
                flush=True,
            )
            try:
                if duration is not None:
                    await asyncio.sleep(duration)
                    runner.cancel()
                    flapper.cancel()
                    outage.cancel()
                else:
                    await runner
            finally:
                await scans.stop()
