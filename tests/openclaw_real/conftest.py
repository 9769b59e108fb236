"""The real-OpenClaw tier: one scenario against the real gateway, synced through both transports.

Runs only when selected (``pytest -m openclaw``, which ``make test-openclaw`` does after
installing OpenClaw into the cache) and installed: the default suite stays fast and needs no
network. The scenario runs once per session; the two syncs happen while the gateway is up.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openclaw_gateway import AGENTS, Gateway, fresh_usage, running_gateway
from openclaw_install import installed
from openclaw_scenario import Scenario, heartbeat_polls, session_keys, store_events
from openclaw_scenario import run as run_scenario
from stub_model import serve_stub
from tests.conftest import migrated_database
from tests.sync.sync_helpers import add_source, snapshot

from observatory.db.engine import make_engine
from observatory.settings import load_settings
from observatory.sync.circuit import Policy
from observatory.sync.openclaw.gateway import GatewayRpc
from observatory.sync.runner import SyncReport, sync_once

POLICY = Policy(
    interval_s=30, backoff_base_s=2, backoff_max_s=60, failure_threshold=3, cooldown_s=120
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected = "openclaw" in (config.getoption("markexpr") or "")
    reason = None
    if not selected:
        reason = "real OpenClaw tier: run `make test-openclaw` (pytest -m openclaw)"
    elif installed() is None:
        reason = "OpenClaw is not installed: run `python tests/openclaw_real/openclaw_install.py`"
    if reason is None:
        return
    for item in items:
        # The marker, not item.keywords: keywords hold parent node names, and a checkout
        # directory called "openclaw" would put every test of the suite in them.
        if item.get_closest_marker("openclaw") is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


@dataclass
class Synced:
    report: SyncReport
    rows: dict[str, list[Any]]
    seconds: float


@dataclass
class RealRun:
    scenario: Scenario
    store: Synced
    gateway: Synced
    usage: dict[str, Any]  # the gateway's own sessions.usage payload
    listed: list[dict[str, Any]]  # the gateway's sessions.list rows
    store_keys: set[str]  # session keys in OpenClaw's SQLite stores
    polls: dict[str, int]  # heartbeat polls OpenClaw wrote, per session key
    timings: dict[str, float] = field(default_factory=dict)


async def _sync(kind: str, config: dict[str, Any]) -> Synced:
    async with migrated_database(f"obs_oc_{kind.split('-')[1]}") as url:
        engine = make_engine(url, pool_size=3, app_name="observatory-openclaw-tier")
        try:
            await add_source(engine, kind, config, kind=kind)
            started = time.monotonic()
            report = await sync_once(
                engine, load_settings(), policy=POLICY, clock=lambda: datetime.now(UTC), force=True
            )
            seconds = time.monotonic() - started
            return Synced(report, await snapshot(engine), seconds)
        finally:
            await engine.dispose()


async def _gateway_truth(gw: Gateway) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    async with GatewayRpc(gw.url, gw.token, timeout=60) as rpc:
        async with asyncio.timeout(180):
            usage = await fresh_usage(rpc.call)
        listed = await rpc.call("sessions.list", {"limit": 500, "offset": 0})
    return usage, list(listed.get("sessions") or [])


@pytest.fixture(scope="session")
async def real_run() -> AsyncIterator[RealRun]:
    found = installed()
    assert found is not None
    timings: dict[str, float] = {}
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="openclaw-tier-") as tmp,
        serve_stub() as stub,
        running_gateway(found, Path(tmp), stub.base_url) as gw,
    ):
        timings["gateway_start_s"] = time.monotonic() - started
        sc = await asyncio.to_thread(run_scenario, gw)
        timings["scenario_s"] = time.monotonic() - started - timings["gateway_start_s"]
        store = await _sync("openclaw-store", {"state_dir": str(gw.state_dir)})
        gateway = await _sync(
            "openclaw-gateway", {"gateway_url": gw.url, "token": gw.token, "timeout": 60}
        )
        usage, listed = await _gateway_truth(gw)
        keys = {key for agent in AGENTS for key in session_keys(gw, agent)}
        polls = {
            key: heartbeat_polls(store_events(gw, key.split(":")[1], key)) for key in sorted(keys)
        }
        timings["store_sync_s"] = store.seconds
        timings["gateway_sync_s"] = gateway.seconds
        yield RealRun(sc, store, gateway, usage, listed, keys, polls, timings)
    timings["total_s"] = time.monotonic() - started
    print(f"\nreal OpenClaw tier timings: {timings}")
