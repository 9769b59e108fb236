# ruff: noqa: ASYNC110, ASYNC220, ASYNC221
"""Subscription fan-out: N WebSocket subscribers on one uvicorn worker; delay from COMMIT of a
new session (in another process) to delivery on every socket.

    python bench/bench_fanout.py [--subscribers 1000] [--events 30]

Creates and drops its own database on OBSERVATORY_TEST_DATABASE_URL's server (default
127.0.0.1:5432). The subscribers run in this process, so they share the machine's 2 cores with
the server: the figures include that contention.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

from observatory.auth.keys import hash_secret  # noqa: E402
from observatory.db.engine import asyncpg_dsn  # noqa: E402

SERVER = os.environ.get(
    "OBSERVATORY_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
SUB = "subscription { sessionCreated { id key } }"


class Probe:
    """The event in flight: subscribers stamp its arrival (cheaply: no JSON parsing)."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.key = ""
        self.times: list[float] = []
        self.done = asyncio.Event()

    def start(self, key: str) -> None:
        self.key, self.times = key, []
        self.done.clear()

    def hit(self, raw: str | bytes) -> None:
        text = raw if isinstance(raw, str) else raw.decode()
        if self.key and self.key in text:
            self.times.append(time.perf_counter())
            if len(self.times) >= self.expected:
                self.done.set()


async def subscriber(url: str, secret: str, probe: Probe, ready: list[int]) -> None:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=None) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {secret}"}}
            )
        )
        await ws.recv()
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUB}}))
        ready[0] += 1
        async for raw in ws:
            probe.hit(raw)


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--subscribers", type=int, default=1000)
    p.add_argument("--events", type=int, default=30)
    p.add_argument("--profile", help="py-spy the server into this SVG")
    args = p.parse_args()
    name = f"obs_fanout_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(SERVER))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    env = {**os.environ, "OBSERVATORY_DATABASE_URL": url, "OBSERVATORY_FRONTEND_DIR": "/nonexistent",
           "OBSERVATORY_SYNC_ENABLED": "false", "OBSERVATORY_SUBSCRIBER_QUEUE_SIZE": "1000"}  # fmt: skip
    server = None
    try:
        subprocess.run(
            [sys.executable, "-m", "observatory.cli", "migrate"],
            env=env,
            check=True,
            capture_output=True,
        )
        conn = await asyncpg.connect(asyncpg_dsn(url))
        secret = "obs_fanout_" + uuid.uuid4().hex
        await conn.execute(
            "INSERT INTO api_keys (name, prefix, hash, role) VALUES ('bench', 'fanout', $1, 'viewer')",
            hash_secret(secret),
        )
        source = await conn.fetchval(
            "INSERT INTO sync_sources (name, kind) VALUES ('bench', 'bench') RETURNING id"
        )
        await conn.execute("INSERT INTO agents (id) VALUES ('bench')")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "observatory.app:create_app", "--factory", "--port", str(port),
             "--log-level", "warning", "--no-access-log", "--ws-max-queue", "1000",
             "--ws-per-message-deflate", "false"],
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
        probe = Probe(args.subscribers)
        ready = [0]
        ws_url = f"ws://127.0.0.1:{port}/graphql"
        tasks = []
        for i in range(args.subscribers):
            tasks.append(asyncio.create_task(subscriber(ws_url, secret, probe, ready)))
            if i % 50 == 49:
                await asyncio.sleep(0.05)
        while ready[0] < args.subscribers:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        spy = None
        if args.profile:
            spy = subprocess.Popen(
                [
                    "py-spy",
                    "record",
                    "-o",
                    args.profile,
                    "-p",
                    str(server.pid),
                    "-d",
                    "15",
                    "-f",
                    "speedscope",
                ]
            )
            await asyncio.sleep(1)
        delays: list[float] = []
        for e in range(args.events):
            key = f"agent:bench:subagent:{uuid.uuid4()}"
            probe.start(key)
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO sessions (source_id, key, agent_id, kind, status, started_at, updated_at) "
                    "VALUES ($1, $2, 'bench', 'task', 'running', now(), now())",
                    source, key,
                )  # fmt: skip
            committed = time.perf_counter()
            try:
                await asyncio.wait_for(probe.done.wait(), 10)
            except TimeoutError:
                print(f"event {e}: {args.subscribers - len(probe.times)} missing", file=sys.stderr)
            delays += [(t - committed) * 1000 for t in probe.times]
            await asyncio.sleep(0.3)
        if spy is not None:
            spy.wait()
        for t in tasks:
            t.cancel()
        await conn.close()
        delays.sort()
        print(f"\n{args.subscribers} subscribers, {args.events} events, one uvicorn worker "
              f"({len(delays)} deliveries)")  # fmt: skip
        print("| commit → delivery | ms |\n| --- | ---: |")
        print(f"| p50 | {statistics.median(delays):.1f} |")
        print(f"| p99 | {delays[int(0.99 * (len(delays) - 1))]:.1f} |")
        print(f"| max | {delays[-1]:.1f} |")
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
