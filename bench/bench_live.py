# ruff: noqa: ASYNC220, ASYNC221
"""Freshness of push sync: delay from an OpenClaw turn's last transcript write to the
``sessionUpdated`` event carrying the new run on a GraphQL WebSocket subscriber.

    python bench/bench_live.py [--turns 30]            # recorded store + fake gateway
    python bench/bench_live.py --real [--turns 30]     # the real OpenClaw gateway

One uvicorn worker serves the app with its background sync (push on, periodic pass every 30 s)
against a throwaway database; both transports run side by side in the same process.

Default mode (no OpenClaw needed):

- store: a copy of the recorded OpenClaw 2026.9.6 SQLite store; each turn inserts a user and
  an assistant event into ``transcript_events`` and bumps the session row in one SQLite
  transaction (what the agent does); the clock starts at that COMMIT.
- gateway: the fake gateway of the test suite (real WebSocket + HTTP on loopback, the recorded
  protocol shapes); each turn appends to the session's history/usage and emits the real-shaped
  ``sessions.changed`` event; the clock starts when the event is sent.

``--real``: the real OpenClaw 2026.9.6 gateway of ``tests/openclaw_real`` (installed into the
cache on first use, stub model on loopback). One source per transport points at the same
installation: the gateway's WebSocket/HTTP API, and its state directory (SQLite store). Each
turn is a real agent turn through the stub model, sent with the gateway's own ``chat.send``
RPC (the CLI costs ~15 s of Node start per turn here), and is seen by both transports at once.
The clock starts at the turn's last transcript write: the largest ``created_at`` of the
``transcript_events`` rows the turn appended, which OpenClaw stamps with ``Date.now()`` as it
builds the row, on the same host clock as the subscriber's ``time.time()``. Its error is
bounded by a read-only poll of the store every 20 ms that notes when each row became visible
(COMMIT): the table shows both, and the poll's own lag is at most 20 ms plus a scheduling delay.
The end is the first ``sessionUpdated`` whose session shows the turn's run (provider run id =
``chat.send``'s ``runId``) completed with its output tokens.

PostgreSQL: a private embedded server per run (see :func:`private_server` for why);
``--shared-pg`` creates and drops a database on OBSERVATORY_TEST_DATABASE_URL's server instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
import threading
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import websockets
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT / "tests" / "sync"))
sys.path.insert(0, str(ROOT / "tests" / "openclaw_real"))

from openclaw_fake_gateway import TOKEN, FakeGateway, load_recorded, serve  # noqa: E402

from observatory.auth.keys import hash_secret  # noqa: E402
from observatory.db.embedded import start_embedded, stop_embedded  # noqa: E402
from observatory.db.engine import asyncpg_dsn  # noqa: E402

SERVER = os.environ.get(
    "OBSERVATORY_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
FIXTURES = ROOT / "tests" / "fixtures" / "openclaw"
MAIN = "agent:sofia:main"
MAIN_SID = "15b6a2e8-2cda-4488-8add-f7cf4a717fdf"
SUB = "subscription { sessionUpdated { key source runCount } }"
# Real mode: the runs started since the bench began, with what shows a turn complete.
REAL_SUB = """subscription { sessionUpdated { key source runCount
  runs(first: 200, startedAfter: "%s") { edges { node { providerRunId status outputTokens } } }
} }"""
KINDS = {"store": "openclaw", "gateway": "openclaw-gateway"}


# -- the app under test ---------------------------------------------------------------------------


@dataclass
class App:
    port: int
    secret: str
    conn: asyncpg.Connection
    ids: dict[str, int]

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"


@contextlib.contextmanager
def private_server(root: Path) -> Iterator[str]:
    """A PostgreSQL of our own (embedded pgserver under ``root``): its URL.

    Live feeds deliver only below the oldest running write transaction (see
    ``observatory.feeds.cursor.HORIZON``); on a server shared with other work, one long
    transaction in any database (measured here: a 17-minute bulk COPY of another benchmark)
    held every event back for its whole length, which was measured as sync delay. Main's
    6b0573a has since made the horizon skip other databases' writers; a server of our own
    still keeps the numbers independent of whatever else a shared server runs.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        server, url = start_embedded(root)
    try:
        yield url
    finally:
        stop_embedded(server)


@contextlib.asynccontextmanager
async def running_app(server_url: str, configs: dict[str, dict[str, Any]]) -> AsyncIterator[App]:
    """A throwaway database, one sync source per transport, and the app on a free port, once
    every source finished its first full pass."""
    name = f"obs_live_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(server_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "OBSERVATORY_DATABASE_URL": url, "OBSERVATORY_FRONTEND_DIR": "/nonexistent",
           "OBSERVATORY_SYNC_ENABLED": "true", "OBSERVATORY_SYNC_PUSH": "true"}  # fmt: skip
    server = None
    try:
        subprocess.run([sys.executable, "-m", "observatory.cli", "migrate"], env=env, check=True, capture_output=True)  # fmt: skip
        conn = await asyncpg.connect(asyncpg_dsn(url))
        secret = "obs_live_" + uuid.uuid4().hex
        await conn.execute(
            "INSERT INTO api_keys (name, prefix, hash, role) VALUES ('bench', 'live', $1, 'viewer')",
            hash_secret(secret),
        )
        ids = {}
        for kind, config in configs.items():
            ids[kind] = await conn.fetchval(
                "INSERT INTO sync_sources (name, kind, config) VALUES ($1, $2, $3::jsonb) RETURNING id",
                kind, KINDS[kind], json.dumps(config),
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
            for _ in range(300):
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        for source in ids.values():
            await first_pass(conn, source)
        try:
            yield App(port, secret, conn, ids)
        finally:
            await conn.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def first_pass(conn: asyncpg.Connection, source: int) -> int:
    """Wait for the source's first full pass; the main session's run count after it."""
    for _ in range(1200):
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


async def subscribe(
    url: str,
    secret: str,
    query: str,
    on_event: Callable[[dict[str, Any]], None],
    ready: asyncio.Event,
) -> None:
    """Feed every ``sessionUpdated`` payload to ``on_event`` as it arrives."""
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], max_size=None) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {secret}"}}))  # fmt: skip
        await ws.recv()
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        ready.set()
        async for raw in ws:
            msg = json.loads(raw)
            if msg.get("type") == "next":
                on_event(((msg.get("payload") or {}).get("data") or {}).get("sessionUpdated") or {})
            elif msg.get("type") == "error":
                raise RuntimeError(f"subscription failed: {msg}")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _summary(name: str, delays: list[float]) -> str:
    if not delays:
        return f"| {name} | 0 | — | — | — |"
    return (
        f"| {name} | {len(delays)} | {statistics.median(delays):.0f} | {_p95(delays):.0f} "
        f"| {max(delays):.0f} |"
    )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# -- default mode: recorded store + fake gateway --------------------------------------------------


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

    def hit(self, session: dict[str, Any]) -> None:
        if session.get("key") == MAIN and session.get("runCount") == self.want:
            self.arrived.set()


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


async def fake_main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="obs-live-"))
    store = tmp / "agents" / "sofia" / "agent" / "openclaw-agent.sqlite"
    store.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / "sqlite" / "openclaw-agent.sqlite", store)
    fake = FakeGateway(load_recorded(FIXTURES))
    delays: dict[str, list[float]] = {"store": [], "gateway": []}
    stack = contextlib.ExitStack()
    try:
        server = SERVER if args.shared_pg else stack.enter_context(private_server(tmp / "pg"))
        async with serve(fake) as gateway_url, running_app(
            server, {"store": {"state_dir": str(tmp)}, "gateway": {"gateway_url": gateway_url, "token": TOKEN}}
        ) as app:  # fmt: skip
            base = {kind: await first_pass(app.conn, app.ids[kind]) for kind in app.ids}
            watches = {kind: Watch() for kind in app.ids}
            subscribers = []
            for kind in app.ids:
                ready = asyncio.Event()
                subscribers.append(asyncio.create_task(subscribe(app.ws, app.secret, SUB, watches[kind].hit, ready)))  # fmt: skip
                await ready.wait()
            await asyncio.sleep(1.0)
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
    finally:
        stack.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"\n{args.turns} turns per transport, one uvicorn worker, debounce 100 ms, load {_load()}"
    )
    print("| transport | turns | p50 ms | p95 ms | max ms |\n| --- | ---: | ---: | ---: | ---: |")
    print(_summary("store (SQLite write → sessionUpdated)", delays["store"]))
    print(_summary("gateway (sessions.changed → sessionUpdated), fake gateway", delays["gateway"]))


# -- --real: the real OpenClaw gateway ------------------------------------------------------------


class StorePoll:
    """When each ``transcript_events`` row became visible to a reader (wall clock), polled
    read-only every ``every_s`` in a thread (a WAL reader never blocks OpenClaw's writer)."""

    def __init__(self, path: Path, every_s: float = 0.02) -> None:
        self.path = path
        self.every_s = every_s
        self.seen: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-poll", daemon=True)

    def __enter__(self) -> StorePoll:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        conn = sqlite3.connect(f"file:{quote(str(self.path))}?mode=ro", uri=True, timeout=1)
        last = 0
        try:
            while not self._stop.wait(self.every_s):
                try:
                    rows = conn.execute(
                        "SELECT rowid, session_id, seq FROM transcript_events WHERE rowid > ?",
                        (last,),
                    ).fetchall()
                except sqlite3.OperationalError:
                    continue  # briefly locked (checkpoint): next tick
                now = time.time()
                for rowid, sid, seq in rows:
                    self.seen.setdefault((sid, seq), now)
                    last = max(last, rowid)
        finally:
            conn.close()


def _store_rows(path: Path, key: str, after_seq: int | None) -> tuple[str, list[tuple[int, int]]]:
    """The current window of ``key`` and its (seq, created_at) rows after ``after_seq``."""
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=5)
    try:
        (sid,) = conn.execute(
            "SELECT current_session_id FROM session_nodes WHERE session_key = ?", (key,)
        ).fetchone()
        rows = conn.execute(
            "SELECT seq, created_at FROM transcript_events WHERE session_id = ? AND seq > ? "
            "ORDER BY seq",
            (sid, after_seq if after_seq is not None else -1),
        ).fetchall()
        return sid, [(int(s), int(c)) for s, c in rows]
    finally:
        conn.close()


def _replied(path: Path) -> bool:
    """The main session's transcript holds an assistant reply (warm-up done)."""
    if not path.is_file():
        return False
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=5)
    try:
        found = conn.execute(
            "SELECT 1 FROM transcript_events t JOIN session_nodes n "
            "ON n.current_session_id = t.session_id WHERE n.session_key = ? "
            'AND t.event_json LIKE \'%"role":"assistant"%\' LIMIT 1',
            (MAIN,),
        ).fetchone()
    except sqlite3.OperationalError:
        return False  # tables not created yet
    finally:
        conn.close()
    return found is not None


@dataclass
class RunWatch:
    """Wall-clock arrival, per source, of the first sessionUpdated showing a run completed."""

    sources: dict[str, str]  # source name -> transport
    run_id: str | None = None
    arrived: dict[str, float] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    log: list[tuple[float, str, int]] = field(default_factory=list)  # every event, for a look

    def expect(self, run_id: str) -> None:
        self.run_id, self.arrived = run_id, {}
        self.done.clear()

    def hit(self, session: dict[str, Any]) -> None:
        now = time.time()
        transport = self.sources.get(str(session.get("source")))
        if session.get("key") != MAIN or transport is None:
            return
        self.log.append((now, transport, int(session.get("runCount") or 0)))
        if transport in self.arrived or self.run_id is None:
            return
        for edge in (session.get("runs") or {}).get("edges") or []:
            run = edge.get("node") or {}
            if (
                run.get("providerRunId") == self.run_id
                and run.get("status") == "COMPLETED"
                and run.get("outputTokens") is not None
            ):
                self.arrived[transport] = now
                if len(self.arrived) == len(self.sources):
                    self.done.set()


@dataclass
class RealTurn:
    run_id: str
    last_write: float  # max created_at of the turn's rows, seconds
    last_visible: float | None  # when the poll first saw that row
    rows: int
    arrived: dict[str, float]
    sent: float = 0.0
    first_write: float = 0.0
    events: list[tuple[float, str, int]] = field(default_factory=list)


async def _real_turn(rpc: Any, gw: Any, watch: RunWatch, poll: StorePoll, n: int, gap: float) -> RealTurn | None:  # fmt: skip
    store = gw.store("sofia")
    _, before = _store_rows(store, MAIN, None)
    top = before[-1][0] if before else -1
    idem = str(uuid.uuid4())
    watch.expect(idem)  # the gateway runs the turn under its idempotency key; checked below
    sent = time.time()
    mark = len(watch.log)
    message = {"sessionKey": MAIN, "message": f"Bench turn {n}: reply briefly.", "idempotencyKey": idem}  # fmt: skip
    ack = await rpc.call("chat.send", message)
    run_id = str((ack or {}).get("runId") or idem)
    if run_id != idem:
        watch.run_id = run_id
    try:
        await asyncio.wait_for(watch.done.wait(), 180)
    except TimeoutError:
        print(f"turn {n}: arrived only from {sorted(watch.arrived)} within 180 s", file=sys.stderr)
    # Let the turn finish its writes (OpenClaw appends a bootstrap-context entry after the reply).
    await asyncio.sleep(gap)
    sid, rows = _store_rows(store, MAIN, top)
    if not rows:
        print(f"turn {n}: no transcript rows written", file=sys.stderr)
        return None
    last_seq, last_ms = max(rows, key=lambda r: r[1])
    turn = RealTurn(run_id, last_ms / 1000, poll.seen.get((sid, last_seq)), len(rows), dict(watch.arrived))  # fmt: skip
    turn.sent, turn.first_write, turn.events = (
        sent,
        min(c for _, c in rows) / 1000,
        watch.log[mark:],
    )
    return turn


async def real_main(args: argparse.Namespace) -> None:
    from openclaw_gateway import running_gateway, wait_until
    from openclaw_install import install
    from stub_model import serve_stub

    from observatory.sync.openclaw.gateway import GatewayRpc

    found = install()
    turns: list[RealTurn] = []
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="obs-live-real-")))
        server = SERVER if args.shared_pg else stack.enter_context(private_server(tmp / "pg"))
        stub = stack.enter_context(serve_stub())
        gw = stack.enter_context(running_gateway(found, tmp / "openclaw", stub.base_url))
        scopes = ("operator.read", "operator.write")
        async with GatewayRpc(gw.url, gw.token, timeout=300, scopes=scopes) as rpc:
            # Warm-up turn before the app starts: the session and the store exist for its
            # first full pass.
            await rpc.call("chat.send", {"sessionKey": MAIN, "message": "Hello, warm-up.", "idempotencyKey": str(uuid.uuid4())})  # fmt: skip
            await asyncio.to_thread(
                wait_until, "the warm-up reply", lambda: _replied(gw.store("sofia")), timeout=600
            )
            configs = {
                "store": {"state_dir": str(gw.state_dir)},
                "gateway": {"gateway_url": gw.url, "token": gw.token, "timeout": 60},
            }
            async with running_app(server, configs) as app:
                since = datetime.now(UTC).isoformat()
                watch = RunWatch({kind: kind for kind in app.ids})
                ready = asyncio.Event()
                subscriber = asyncio.create_task(subscribe(app.ws, app.secret, REAL_SUB % since, watch.hit, ready))  # fmt: skip
                await ready.wait()
                with StorePoll(gw.store("sofia")) as poll:
                    for n in range(args.warmup + args.turns):
                        if subscriber.done():
                            subscriber.result()  # the subscription failed: show why
                        turn = await _real_turn(rpc, gw, watch, poll, n, args.gap)
                        if turn is not None:
                            print(_turn_line(n, turn), file=sys.stderr)
                            if n >= args.warmup:
                                turns.append(turn)
                subscriber.cancel()
                await _compare_runs(app)
    _real_report(args, turns)


async def _compare_runs(app: App) -> None:
    """The main session's runs per transport: both read the same installation, so they should
    agree (a run only one side has is printed; the periodic full pass may still be catching up)."""
    rows = await app.conn.fetch(
        "SELECT src.name, r.provider_run_id, r.trigger, r.status, r.input_tokens, r.output_tokens "
        "FROM runs r JOIN sessions s ON s.id = r.session_id JOIN sync_sources src "
        "ON src.id = s.source_id WHERE s.key = $1 ORDER BY r.started_at",
        MAIN,
    )
    by: dict[str, dict[str, tuple[Any, ...]]] = {"store": {}, "gateway": {}}
    for r in rows:
        by[r["name"]][r["provider_run_id"]] = tuple(r)[2:]
    print(f"main session runs: store {len(by['store'])}, gateway {len(by['gateway'])}", file=sys.stderr)  # fmt: skip
    for name, other in (("store", "gateway"), ("gateway", "store")):
        for run_id, row in by[name].items():
            if run_id not in by[other]:
                print(f"  only {name}: {run_id} {row}", file=sys.stderr)


def _turn_line(n: int, t: RealTurn) -> str:
    parts = [f"turn {n}: {t.rows} rows"]
    for kind, at in sorted(t.arrived.items()):
        parts.append(f"{kind} {1000 * (at - t.last_write):.0f} ms")
    if t.last_visible is not None:
        parts.append(f"visible +{1000 * (t.last_visible - t.last_write):.0f} ms")
    if os.environ.get("BENCH_VERBOSE"):
        parts.append(
            f"send→first write {t.first_write - t.sent:.1f} s, →last {t.last_write - t.sent:.1f} s"
        )
        parts.append("events " + " ".join(f"{k[0]}{c}@{at - t.sent:.1f}" for at, k, c in t.events))
    return ", ".join(parts)


def _real_report(args: argparse.Namespace, turns: list[RealTurn]) -> None:
    print(f"\n{len(turns)} real turns (both transports each), one uvicorn worker, debounce 100 ms, load {_load()}")  # fmt: skip
    print("| transport | turns | p50 ms | p95 ms | max ms |\n| --- | ---: | ---: | ---: | ---: |")
    for kind, label in (("store", "store (last transcript write → sessionUpdated)"),
                        ("gateway", "gateway (last transcript write → sessionUpdated)")):  # fmt: skip
        delays = [1000 * (t.arrived[kind] - t.last_write) for t in turns if kind in t.arrived]
        print(_summary(label, delays))
        missed = sum(1 for t in turns if kind not in t.arrived)
        if missed:
            print(f"  {kind}: {missed} turn(s) never arrived")
    visible = [1000 * (t.last_visible - t.last_write) for t in turns if t.last_visible is not None]
    print(_summary("clock check: created_at → row visible to a 20 ms poll", visible))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--turns", type=int, default=30)
    p.add_argument("--gap", type=float, default=0.5, help="seconds between turns")
    p.add_argument("--real", action="store_true", help="against the real OpenClaw gateway")
    p.add_argument("--warmup", type=int, default=1, help="--real: unmeasured turns first")
    p.add_argument(
        "--shared-pg",
        action="store_true",
        help="use OBSERVATORY_TEST_DATABASE_URL's server, not a private embedded one",
    )
    args = p.parse_args()
    asyncio.run(real_main(args) if args.real else fake_main(args))


if __name__ == "__main__":
    main()
