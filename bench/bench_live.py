# ruff: noqa: ASYNC220, ASYNC221
"""Freshness of push sync: delay from an OpenClaw turn's last transcript write to the
``sessionUpdated`` event (with the new run counted) on a GraphQL WebSocket subscriber.

    python bench/bench_live.py [--turns 30]

One uvicorn worker serves the app with its background sync (push on, periodic pass every 30 s)
against a throwaway database; both transports run side by side in the same process:

- store: a copy of the recorded OpenClaw 2026.9.6 SQLite store; each turn inserts a user and
  an assistant event into ``transcript_events`` and bumps the session row in one SQLite
  transaction (what the agent does); the clock starts at that COMMIT.
- gateway: the fake gateway of the test suite (real WebSocket + HTTP on loopback, the recorded
  protocol shapes); each turn appends to the session's history/usage and emits the real-shaped
  ``sessions.changed`` event; the clock starts when the event is sent. The real gateway's own
  delay from its transcript write to that event is not included (see bench/README.md).

Creates and drops its own database on OBSERVATORY_TEST_DATABASE_URL's server.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT / "tests" / "sync"))

from openclaw_fake_gateway import TOKEN, FakeGateway, load_recorded, serve  # noqa: E402

from observatory.auth.keys import hash_secret  # noqa: E402
from observatory.db.engine import asyncpg_dsn  # noqa: E402

SERVER = os.environ.get(
    "OBSERVATORY_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
FIXTURES = ROOT / "tests" / "fixtures" / "openclaw"
MAIN = "agent:sofia:main"
MAIN_SID = "15b6a2e8-2cda-4488-8add-f7cf4a717fdf"
SUB = "subscription { sessionUpdated { key runCount } }"


def _template() -> tuple[dict[str, Any], dict[str, Any]]:
    """The recorded main session's first plain turn: a user and an assistant event."""
    lines = (FIXTURES / "transcripts" / f"{MAIN_SID}.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    user = next(e for e in events if (e.get("message") or {}).get("role") == "user")
    reply = next(e for e in events if (e.get("message") or {}).get("role") == "assistant")
    return user, reply


def _turn(n: int, now_ms: int) -> tuple[dict[str, Any], dict[str, Any]]:
    user, reply = (copy.deepcopy(e) for e in _template())
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_ms / 1000)) + f".{now_ms % 1000:03d}Z"
    user.update(id=f"bench-u-{n}", parentId=None, timestamp=iso)
    user["message"].update(timestamp=now_ms - 5, content=f"bench turn {n}")
    reply.update(id=f"bench-a-{n}", parentId=user["id"], timestamp=iso)
    reply["message"].update(timestamp=now_ms)
    reply["message"]["__openclaw"]["runId"] = f"bench-run-{n}"
    return user, reply


class Watch:
    """Arrival of the main session's sessionUpdated carrying a given run count, per source."""

    def __init__(self) -> None:
        self.want: int | None = None
        self.arrived = asyncio.Event()

    def expect(self, runs: int) -> None:
        self.want = runs
        self.arrived.clear()

    def hit(self, payload: dict[str, Any]) -> None:
        s = ((payload.get("data") or {}).get("sessionUpdated")) or {}
        if s.get("key") == MAIN and s.get("runCount") == self.want:
            self.arrived.set()


async def subscribe(url: str, secret: str, watch: Watch, ready: asyncio.Event) -> None:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {secret}"}}))  # fmt: skip
        await ws.recv()
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUB}}))
        ready.set()
        async for raw in ws:
            msg = json.loads(raw)
            if msg.get("type") == "next":
                watch.hit(msg.get("payload") or {})


def _octet_length(value: Any) -> int | None:
    # OpenClaw's CHECK constraints call octet_length(), which Debian 12's SQLite lacks.
    if value is None:
        return None
    return len(value.encode() if isinstance(value, str) else value)


def store_turn(path: Path, n: int) -> float:
    conn = sqlite3.connect(path)
    conn.create_function("octet_length", 1, _octet_length)
    try:
        now = int(time.time() * 1000)
        user, reply = _turn(n, now)
        (top,) = conn.execute(
            "SELECT MAX(seq) FROM transcript_events WHERE session_id = ?", (MAIN_SID,)
        ).fetchone()
        with conn:
            for offset, event in enumerate((user, reply), start=1):
                conn.execute(
                    "INSERT INTO transcript_events (session_id, seq, event_json, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    (MAIN_SID, top + offset, json.dumps(event), now),
                )
            conn.execute(
                "UPDATE session_nodes SET updated_at = ? WHERE session_key = ?", (now, MAIN)
            )
            conn.execute(
                "UPDATE session_windows SET transcript_updated_at = ? WHERE session_id = ?",
                (now, MAIN_SID),
            )
        return time.perf_counter()  # COMMIT returned
    finally:
        conn.close()


async def gateway_turn(fake: FakeGateway, n: int) -> float:
    rec = fake.recorded
    now = int(time.time() * 1000)
    user, reply = _turn(n, now)
    seq = max(i["__openclaw"]["seq"] for i in rec.history[MAIN])
    for offset, event in enumerate((user, reply), start=1):
        item = copy.deepcopy(event["message"])
        meta = dict(item.pop("__openclaw", None) or {})
        meta.update(id=event["id"], seq=seq + offset, transcriptPosition={"rawSeq": 1000 + 2 * n + offset})  # fmt: skip
        item["__openclaw"] = meta
        rec.history[MAIN].append(item)
    usage = reply["message"]["usage"]
    rec.timeseries[MAIN]["points"].append(
        {"timestamp": now, "input": usage["input"], "output": usage["output"], "cacheRead": 0,
         "cacheWrite": 0, "totalTokens": usage["totalTokens"], "cost": usage["cost"]["total"]}
    )  # fmt: skip
    rec.logs[MAIN]["logs"] += [
        {"timestamp": now - 5, "role": "user", "content": f"bench turn {n}"},
        {"timestamp": now, "role": "assistant", "content": "ok"},
    ]
    row = next(r for r in rec.sessions_list["sessions"] if r["key"] == MAIN)
    row["updatedAt"] = now
    started = time.perf_counter()
    await fake.emit("sessions.changed", {"sessionKey": MAIN, "agentId": "sofia", "reason": "run", "phase": "end", "ts": now})  # fmt: skip
    return started


async def first_pass(conn: asyncpg.Connection, source: int) -> int:
    """Wait for the source's first full pass; the main session's run count after it."""
    for _ in range(600):
        runs = await conn.fetchval(
            "SELECT s.run_count FROM sync_sources src JOIN sessions s ON s.source_id = src.id "
            "WHERE src.id = $1 AND s.key = $2 AND src.last_success_at IS NOT NULL",
            source,
            MAIN,
        )
        if runs is not None:
            return int(runs)
        await asyncio.sleep(0.1)
    raise TimeoutError(f"source {source} never finished its first pass")


def _summary(name: str, delays: list[float]) -> str:
    delays = sorted(delays)
    p95 = delays[max(0, round(0.95 * len(delays)) - 1)]
    return f"| {name} | {len(delays)} | {statistics.median(delays):.0f} | {p95:.0f} | {delays[-1]:.0f} |"


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--turns", type=int, default=30)
    p.add_argument("--gap", type=float, default=0.5, help="seconds between turns")
    args = p.parse_args()
    name = f"obs_live_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(SERVER))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    tmp = Path(tempfile.mkdtemp(prefix="obs-live-"))
    store = tmp / "agents" / "sofia" / "agent" / "openclaw-agent.sqlite"
    store.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / "sqlite" / "openclaw-agent.sqlite", store)
    env = {**os.environ, "OBSERVATORY_DATABASE_URL": url, "OBSERVATORY_FRONTEND_DIR": "/nonexistent",
           "OBSERVATORY_SYNC_ENABLED": "true", "OBSERVATORY_SYNC_PUSH": "true"}  # fmt: skip
    server = None
    fake = FakeGateway(load_recorded(FIXTURES))
    try:
        subprocess.run([sys.executable, "-m", "observatory.cli", "migrate"], env=env, check=True, capture_output=True)  # fmt: skip
        conn = await asyncpg.connect(asyncpg_dsn(url))
        secret = "obs_live_" + uuid.uuid4().hex
        await conn.execute(
            "INSERT INTO api_keys (name, prefix, hash, role) VALUES ('bench', 'live', $1, 'viewer')",
            hash_secret(secret),
        )
        async with serve(fake) as gateway_url:
            ids = {}
            for kind, config in (
                ("store", {"state_dir": str(tmp)}),
                ("gateway", {"gateway_url": gateway_url, "token": TOKEN}),
            ):
                ids[kind] = await conn.fetchval(
                    "INSERT INTO sync_sources (name, kind, config) VALUES ($1, $2, $3::jsonb) RETURNING id",
                    kind, "openclaw" if kind == "store" else "openclaw-gateway", json.dumps(config),
                )  # fmt: skip
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            server = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "observatory.app:create_app", "--factory",
                 "--port", str(port), "--log-level", "warning", "--no-access-log"],
                env=env,
            )  # fmt: skip
            async with httpx.AsyncClient() as client:
                for _ in range(100):
                    try:
                        if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(0.2)
            base = {kind: await first_pass(conn, ids[kind]) for kind in ids}
            watches = {kind: Watch() for kind in ids}
            subscribers = []
            for kind in ids:
                ready = asyncio.Event()
                subscribers.append(asyncio.create_task(subscribe(f"ws://127.0.0.1:{port}/graphql", secret, watches[kind], ready)))  # fmt: skip
                await ready.wait()
            await asyncio.sleep(1.0)
            delays: dict[str, list[float]] = {"store": [], "gateway": []}
            for n in range(args.turns):
                for kind in ("store", "gateway"):  # interleaved: both see the same machine load
                    watch = watches[kind]
                    watch.expect(base[kind] + n + 1)
                    started = (
                        store_turn(store, n) if kind == "store" else await gateway_turn(fake, n)
                    )
                    try:
                        await asyncio.wait_for(watch.arrived.wait(), 30)
                        delays[kind].append((time.perf_counter() - started) * 1000)
                    except TimeoutError:
                        print(f"{kind} turn {n}: no sessionUpdated within 30 s", file=sys.stderr)
                    await asyncio.sleep(args.gap)
            for task in subscribers:
                task.cancel()
        await conn.close()
        print(f"\n{args.turns} turns per transport, one uvicorn worker, debounce 100 ms")
        print(
            "| transport | turns | p50 ms | p95 ms | max ms |\n| --- | ---: | ---: | ---: | ---: |"
        )
        print(_summary("store (SQLite write → sessionUpdated)", delays["store"]))
        print(
            _summary("gateway (sessions.changed → sessionUpdated), fake gateway", delays["gateway"])
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
