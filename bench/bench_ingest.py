"""Ingest throughput: a generated OpenClaw store (10k sessions / 1M messages by default) synced
end to end into PostgreSQL, then an incremental re-sync of the unchanged store.

    python bench/bench_ingest.py                       # full size, local PostgreSQL
    python bench/bench_ingest.py --sessions 500 --messages 40   # quick look

The store is a copy of the recorded OpenClaw 2026.9.6 SQLite file (same schema, version 23)
with its rows replaced by generated sessions; one event in ten is stored zstd-compressed like
OpenClaw does for large rows. A throwaway database is created on the server and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sqlite3
import sys
import time
import uuid
from pathlib import Path

import zstandard

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "backend"))

from observatory.db.engine import asyncpg_dsn, make_engine  # noqa: E402
from observatory.db.migrate import upgrade_async  # noqa: E402
from observatory.settings import load_settings  # noqa: E402
from observatory.sync.circuit import Policy  # noqa: E402
from observatory.sync.runner import sync_once  # noqa: E402

FIXTURE = REPO / "tests" / "fixtures" / "openclaw" / "sqlite" / "openclaw-agent.sqlite"
T0 = 1_795_000_000_000  # epoch ms


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def _session_events(sid: str, start: int, messages: int, rng: random.Random) -> list[dict]:
    events: list[dict] = [
        {"type": "session", "version": 4, "id": sid, "timestamp": _iso(start), "cwd": "/w"}
    ]
    t, parent, n = start, None, 0
    while n < messages:
        run = str(uuid.UUID(int=rng.getrandbits(128)))
        t += rng.randint(1_000, 60_000)
        eid = f"{run[:8]}-u"
        events.append(
            {
                "type": "message",
                "id": eid,
                "parentId": parent,
                "timestamp": _iso(t),
                "message": {
                    "role": "user",
                    "content": f"please look at item {n} " + "lorem ipsum " * rng.randint(2, 30),
                    "timestamp": t,
                    "idempotencyKey": f"{run}:user",
                },
            }
        )
        parent, n = eid, n + 1
        tool = n + 3 <= messages and rng.random() < 0.3
        if tool:
            t += rng.randint(200, 3_000)
            events.append(_assistant(run, f"{run[:8]}-a1", parent, t, rng, tool_call=True))
            parent = events[-1]["id"]
            t += rng.randint(10, 500)
            events.append(
                {
                    "type": "message",
                    "id": f"{run[:8]}-t",
                    "parentId": parent,
                    "timestamp": _iso(t),
                    "message": {
                        "role": "toolResult",
                        "toolCallId": "call_1",
                        "toolName": "read",
                        "content": [{"type": "text", "text": "file body " * rng.randint(5, 200)}],
                        "isError": rng.random() < 0.05,
                        "timestamp": t,
                        "__openclaw": {"runId": run},
                    },
                }
            )
            parent, n = events[-1]["id"], n + 2
        if n < messages:
            t += rng.randint(200, 5_000)
            events.append(_assistant(run, f"{run[:8]}-a2", parent, t, rng, tool_call=False))
            parent, n = events[-1]["id"], n + 1
    return events


def _assistant(
    run: str, eid: str, parent: str | None, t: int, rng: random.Random, *, tool_call: bool
) -> dict:
    inp, out = rng.randint(1_000, 20_000), rng.randint(5, 800)
    content = (
        [{"type": "toolCall", "id": "call_1", "name": "read", "arguments": {"path": "x.md"}}]
        if tool_call
        else [{"type": "text", "text": "answer " * rng.randint(5, 120)}]
    )
    return {
        "type": "message",
        "id": eid,
        "parentId": parent,
        "timestamp": _iso(t + 300),
        "message": {
            "role": "assistant",
            "content": content,
            "api": "openai-completions",
            "provider": "bench",
            "model": "bench-model",
            "usage": {
                "input": inp,
                "output": out,
                "cacheRead": 0,
                "cacheWrite": 0,
                "totalTokens": inp + out,
                "cost": {"total": round(inp * 3e-6 + out * 15e-6, 6)},
            },
            "stopReason": "toolUse" if tool_call else "stop",
            "timestamp": t,
            "__openclaw": {"runId": run},
        },
    }


def generate(path: Path, sessions: int, messages: int, seed: int = 7) -> int:
    """Write the store; returns the number of message events."""
    if not FIXTURE.is_file():
        raise SystemExit(f"recorded store not found at {FIXTURE}")
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE, path)
    db = sqlite3.connect(path)
    # The store's CHECKs call octet_length(), newer than the SQLite some Pythons ship.
    db.create_function(
        "octet_length",
        1,
        lambda v: None if v is None else len(v.encode() if isinstance(v, str) else v),
        deterministic=True,
    )
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    for table in (
        "transcript_event_identities",
        "session_transcript_active_events",
        "session_transcript_index_state",
        "transcript_events",
        "session_windows",
        "session_nodes",
    ):
        db.execute(f"DELETE FROM {table}")
    rng = random.Random(seed)
    zstd = zstandard.ZstdCompressor(level=3)
    nav = json.dumps(
        {
            "version": 1,
            "report": {"kind": "canonical"},
            "navigation": {},
            "reset": {},
            "model": {},
            "modelBytes": 0,
            "modelWithoutCheckpointBytes": 0,
            "withoutCustomDataBytes": 0,
        }
    )
    total = 0
    shapes = ["subagent:{u}", "cron:{u}", "telegram:group:{n}", "subagent:{u}"]
    for i in range(sessions):
        if i < 20:
            key = f"agent:agent{i}:main"
        elif i < 40:
            key = f"agent:agent{i - 20}:main:heartbeat"
        else:
            rest = shapes[i % len(shapes)].format(u=uuid.UUID(int=rng.getrandbits(128)), n=i)
            key = f"agent:agent{i % 20}:{rest}"
        sid = str(uuid.UUID(int=rng.getrandbits(128)))
        start = T0 + i * 60_000
        events = _session_events(sid, start, messages, rng)
        total += sum(1 for e in events if e["type"] == "message")
        end = (
            int(time.mktime(time.strptime(events[-1]["timestamp"][:19], "%Y-%m-%dT%H:%M:%S")))
            * 1000
        )
        entry = {
            "sessionId": sid,
            "createdAt": start,
            "updatedAt": end,
            "status": "done",
            "model": "bench-model",
            "label": f"bench {i}",
        }
        db.execute(
            "INSERT INTO session_nodes (session_key, current_session_id, entry_json, entry_valid, "
            "updated_at, status, created_at) VALUES (?, ?, ?, 1, ?, 'done', ?)",
            (key, sid, json.dumps(entry), end, start),
        )
        db.execute(
            "INSERT INTO session_windows (session_id, session_key, created_at, updated_at, "
            "transcript_updated_at, status) VALUES (?, ?, ?, ?, ?, 'done')",
            (sid, key, start, end, end),
        )
        rows = []
        for seq, event in enumerate(events):
            raw = json.dumps(event)
            if seq % 10 == 9:
                rows.append(
                    (sid, seq, None, start, zstd.compress(raw.encode()), len(raw.encode()), nav)
                )
            else:
                rows.append((sid, seq, raw, start, None, None, None))
        db.executemany(
            "INSERT INTO transcript_events (session_id, seq, event_json, created_at, event_zstd, "
            "event_utf8_bytes, navigation_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        if i % 1000 == 999:
            db.commit()
            print(f"  generated {i + 1}/{sessions} sessions", file=sys.stderr)
    db.commit()
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    return total


async def bench(args: argparse.Namespace) -> None:
    import asyncpg

    store = Path(args.store)
    if args.regenerate or not store.is_file():
        started = time.perf_counter()
        n = generate(store, args.sessions, args.messages)
        print(
            f"generated {args.sessions} sessions / {n} messages in "
            f"{time.perf_counter() - started:.1f}s -> {store}",
            file=sys.stderr,
        )
    server = args.database_url
    name = f"obs_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(server))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        await upgrade_async(url)
        engine = make_engine(url, pool_size=4, app_name="bench-ingest")
        async with engine.begin() as conn:
            from sqlalchemy import text

            await conn.execute(
                text(
                    "INSERT INTO sync_sources (name, kind, config) VALUES "
                    "('bench', 'openclaw-store', CAST(:c AS jsonb))"
                ),
                {"c": json.dumps({"store_paths": [str(store)]})},
            )
        last = [0.0]

        def progress(p: object) -> None:
            now = time.perf_counter()
            if now - last[0] > 5 or p.done == p.total:  # type: ignore[attr-defined]
                last[0] = now
                print(
                    f"  {p.done}/{p.total} sessions, {p.messages} messages "  # type: ignore[attr-defined]
                    f"({p.messages / max(p.elapsed_s, 1e-9):,.0f} msg/s)",
                    file=sys.stderr,
                )  # type: ignore[attr-defined]

        policy = Policy()
        started = time.perf_counter()
        first = await sync_once(
            engine, load_settings(), policy=policy, force=True, progress=progress
        )
        full_s = time.perf_counter() - started
        [rep] = first.sources
        assert rep.outcome == "ok", rep
        started = time.perf_counter()
        second = await sync_once(engine, load_settings(), policy=policy, force=True)
        incremental_s = time.perf_counter() - started
        await engine.dispose()
        print(
            f"\nfull sync: {rep.sessions_synced} sessions, {rep.runs} runs, {rep.messages} "
            f"messages in {full_s:.1f}s = {rep.messages / full_s:,.0f} messages/s end to end"
        )
        print(
            f"incremental re-sync of the unchanged store: {incremental_s:.2f}s "
            f"({second.sources[0].sessions_synced} sessions re-read)"
        )
    finally:
        if not args.keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=100, help="messages per session")
    parser.add_argument("--store", default="/tmp/observatory-bench/openclaw-agent.sqlite")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "OBSERVATORY_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a server URL; a throwaway database is created on it",
    )
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
