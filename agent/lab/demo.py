"""`sla-agent demo`: the agent against the bundled simulated infrastructure."""

from __future__ import annotations

import asyncio
import logging
import os
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from agent.app import Agent
from agent.config import Config, parse_config
from agent.lab.cloud import CloudLab
from agent.lab.devices import DEMO_DEVICES
from agent.lab.simulator import SnmpLab
from agent.lab.sms import DEMO_CANARY, SmsLab

log = logging.getLogger(__name__)

# A gentle fault so the availability figures move: the mobile-office
# ChinaUnicom link drops for FLAP_DOWN seconds every FLAP_EVERY seconds.
FLAP_DEVICE, FLAP_IF_INDEX = "mobile-r1", 2
FLAP_EVERY, FLAP_DOWN = 180.0, 20.0


def demo_data(lab: SnmpLab, cloud: CloudLab, listen: str, data_dir: Path, sms: SmsLab) -> dict[str, Any]:
    """The bundled demo config as parsed YAML, pointed at the running labs (secrets as references)."""
    text = resources.files("agent.lab").joinpath("demo.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["agent"]["listen"] = listen
    data["agent"]["data_dir"] = str(data_dir)
    data["snmp"]["defaults"]["port"] = lab.port
    for entry in data["clouds"]:
        entry["auth_url"] = cloud.auth_url
    for entry in data["sms"]:
        entry["url"] = sms.url
    return data


def demo_env(lab: SnmpLab, cloud: CloudLab, sms: SmsLab) -> dict[str, str]:
    """The secrets the demo config refers to."""
    return {"SLA_DEMO_V3_AUTH_KEY": lab.v3_auth_key, "SLA_DEMO_V3_PRIV_KEY": lab.v3_priv_key,
            **cloud.demo_env(), **sms.demo_env()}


def demo_config(lab: SnmpLab, cloud: CloudLab, listen: str, data_dir: Path, sms: SmsLab) -> Config:
    """The bundled demo config, pointed at the running labs."""
    env = {**os.environ, **demo_env(lab, cloud, sms)}
    return parse_config(demo_data(lab, cloud, listen, data_dir, sms), "demo.yaml (bundled)", env=env)


async def _flap(lab: SnmpLab) -> None:
    while True:
        await asyncio.sleep(FLAP_EVERY)
        log.info("demo: taking %s ifIndex %d down for %gs", FLAP_DEVICE, FLAP_IF_INDEX, FLAP_DOWN)
        await lab.set_oper_status(FLAP_DEVICE, FLAP_IF_INDEX, up=False)
        await asyncio.sleep(FLAP_DOWN)
        await lab.set_oper_status(FLAP_DEVICE, FLAP_IF_INDEX, up=True)


async def run_demo(listen: str, data_dir: Path, duration: float | None = None) -> None:
    """Start the lab and the agent; run until cancelled or ``duration`` seconds."""
    async with SnmpLab(DEMO_DEVICES) as lab, CloudLab() as cloud, SmsLab(**DEMO_CANARY) as sms:
        config = demo_config(lab, cloud, listen, data_dir, sms)
        agent = Agent(config)
        started = asyncio.Event()
        async with asyncio.TaskGroup() as group:
            runner = group.create_task(agent.run(started))
            flapper = group.create_task(_flap(lab))
            await started.wait()
            print(
                f"sla-agent demo: {len(lab.devices)} simulated devices on udp://{lab.host}:{lab.port}, "
                f"simulated cloud (Keystone) at {cloud.auth_url}, simulated SMS gateway at {sms.url}, "
                f"ledger in {data_dir}/\n"
                f"  metrics: http://{listen}/metrics\n  health:  http://{listen}/healthz\n"
                "  (Ctrl-C to stop)",
                flush=True,
            )
            if duration is not None:
                await asyncio.sleep(duration)
                runner.cancel()
                flapper.cancel()
            else:
                await runner
