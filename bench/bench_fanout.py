# ruff: noqa: ASYNC110, ASYNC220, ASYNC221
"""Subscription fan-out: N WebSocket subscribers on one uvicorn worker; delay from COMMIT of a
new session (in another process) to delivery on every socket.

    python bench/bench_fanout.py [--subscribers 1000] [--events 30] [--workers 1] [--clients 1]

Runs the same load twice in one go, each on a fresh server: once with one execution per
subscriber (OBSERVATORY_SHARED_SUBSCRIPTIONS=false) and once with shared executions.

Creates and drops its own database on OBSERVATORY_TEST_DATABASE_URL's server (default
127.0.0.1:5432). The subscribers run in --clients processes on the same machine, so they share its 2 cores with
the server: the figures include that contention.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from multiprocessing.connection import Connection
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
PROFILE_FORMATS = {".svg": "flamegraph", ".txt": "raw"}  # else speedscope JSON
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
    # A busy machine times out some handshakes: retry them, or `ready` would never fill up.
    for attempt in range(10):
        try:
            await subscribe_once(url, secret, probe, ready)
            return
        except (OSError, TimeoutError, websockets.exceptions.InvalidHandshake):
            await asyncio.sleep(0.5 * (attempt + 1))
    print("a subscriber gave up connecting", file=sys.stderr)


async def subscribe_once(url: str, secret: str, probe: Probe, ready: list[int]) -> None:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=None,  # type: ignore[list-item]
                                  open_timeout=60) as ws:  # fmt: skip
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


def client_process(url: str, secret: str, n: int, pipe: Connection) -> None:
    """n subscribers in their own process; answers each probe key with its arrival times."""

    async def run() -> None:
        probe = Probe(n)
        ready = [0]
        tasks = []
        for i in range(n):
            tasks.append(asyncio.create_task(subscriber(url, secret, probe, ready)))
            if i % 50 == 49:
                await asyncio.sleep(0.05)
        while ready[0] < n:
            await asyncio.sleep(0.1)
        pipe.send("ready")
        while True:
            key = await asyncio.to_thread(pipe.recv)
            if key is None:
                break
            probe.start(key)
            pipe.send("armed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(probe.done.wait(), 10)
            pipe.send(list(probe.times))
        for t in tasks:
            t.cancel()

    asyncio.run(run())


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "observatory.app:create_app", "--factory", "--port", str(port),
         "--log-level", "warning", "--no-access-log", "--ws-max-queue", "1000",
         "--ws-per-message-deflate", "false", "--workers", str(workers)],
        env=env,
    )  # fmt: skip


async def measure(
    args: argparse.Namespace, env: dict[str, str], conn: asyncpg.Connection, secret: str,
    source: int, shared: bool,
) -> list[float]:  # fmt: skip
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = start_server({**env, "OBSERVATORY_SHARED_SUBSCRIPTIONS": str(shared).lower()},
                          port, args.workers)  # fmt: skip
    procs: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(150):
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        ws_url = f"ws://127.0.0.1:{port}/graphql"
        ctx = multiprocessing.get_context("spawn")
        share = [args.subscribers // args.clients] * args.clients
        share[0] += args.subscribers - sum(share)
        for n in share:
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=client_process, args=(ws_url, secret, n, theirs))
            proc.start()
            procs.append((proc, mine))
        for _, pipe in procs:
            assert await asyncio.to_thread(pipe.recv) == "ready"
        await asyncio.sleep(1.0)
        spy = None
        if args.profile:
            spy = subprocess.Popen(["py-spy", "record", "-o", args.profile, "-p", str(server.pid),
                                    "-d", "15", "-f", PROFILE_FORMATS.get(Path(args.profile).suffix, "speedscope")])  # fmt: skip
            await asyncio.sleep(1)
        delays: list[float] = []
        for e in range(args.events):
            key = f"agent:bench:subagent:{uuid.uuid4()}"
            for _, pipe in procs:
                pipe.send(key)
            for _, pipe in procs:
                assert await asyncio.to_thread(pipe.recv) == "armed"
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO sessions (source_id, key, agent_id, kind, status, started_at, updated_at) "
                    "VALUES ($1, $2, 'bench', 'task', 'running', now(), now())",
                    source, key,
                )  # fmt: skip
            committed = time.perf_counter()  # CLOCK_MONOTONIC: comparable across processes
            got = 0
            for _, pipe in procs:
                times = await asyncio.to_thread(pipe.recv)
                got += len(times)
                delays += [(t - committed) * 1000 for t in times]
            if got < args.subscribers:
                print(f"event {e}: {args.subscribers - got} missing", file=sys.stderr)
            await asyncio.sleep(0.3)
        if spy is not None:
            spy.wait()
        return sorted(delays)
    finally:
        for proc, pipe in procs:
            with contextlib.suppress(OSError):
                pipe.send(None)
            proc.join(10)
            if proc.is_alive():
                proc.terminate()
        server.terminate()
        server.wait(20)


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--subscribers", type=int, default=1000)
    p.add_argument("--events", type=int, default=30)
    p.add_argument("--workers", type=int, default=1, help="uvicorn workers")
    p.add_argument("--clients", type=int, default=1, help="subscriber processes")
    p.add_argument("--modes", default="per-socket,shared", help="per-socket and/or shared")
    p.add_argument(
        "--profile", help="py-spy the server into this file (.svg, .txt: raw, else speedscope)"
    )
    args = p.parse_args()
    name = f"obs_fanout_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(SERVER))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    env = {**os.environ, "OBSERVATORY_DATABASE_URL": url, "OBSERVATORY_FRONTEND_DIR": "/nonexistent",
           "OBSERVATORY_SYNC_ENABLED": "false", "OBSERVATORY_SUBSCRIBER_QUEUE_SIZE": "1000"}  # fmt: skip
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
        print(f"\n{args.subscribers} subscribers in {args.clients} process(es), {args.events} "
              f"events, {args.workers} uvicorn worker(s)\n")  # fmt: skip
        print(
            "| execution | deliveries | p50 ms | p99 ms | max ms |\n| --- | ---: | ---: | ---: | ---: |"
        )
        for mode in args.modes.split(","):
            d = await measure(args, env, conn, secret, source, shared=mode == "shared")
            if not d:
                print(f"| {mode} | 0 | - | - | - |")
                continue
            print(f"| {mode} | {len(d)} | {statistics.median(d):.1f} | "
                  f"{d[int(0.99 * (len(d) - 1))]:.1f} | {d[-1]:.1f} |", flush=True)  # fmt: skip
        await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
