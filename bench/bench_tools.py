# ruff: noqa: ASYNC220, ASYNC221, RUF001
"""Tool analytics benchmark: toolSummary / toolSeries / toolErrors / toolErrorCalls over GraphQL
on one uvicorn worker, beside the same queries run directly (observatory.improve.tools on an
AsyncSession: the SQL without the GraphQL layer).

    python bench/bench_tools.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/obs_tools \
        [--load --sessions 100000 --runs-per-session 20] [--requests 60]

--load fills an empty database with the demo loader first, with transcripts (and so tool calls)
for every session. Reports medians measured side by side in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

from observatory.auth.keys import hash_secret  # noqa: E402
from observatory.db.engine import asyncpg_dsn, make_engine, make_session_factory  # noqa: E402
from observatory.improve import tools  # noqa: E402

STATS = "calls completed errors pending errorRate durationP50Ms durationP95Ms"
SUMMARY = f"""query($f: DateTime!, $t: DateTime!) {{
  toolSummary(from: $f, to: $t) {{ tool sessions {STATS} }} }}"""
SPLIT = f"""query($f: DateTime!, $t: DateTime!) {{
  toolSummary(from: $f, to: $t, splitBy: MODEL, first: 200) {{ tool group {STATS} }} }}"""
SERIES = f"""query($f: DateTime!, $t: DateTime!) {{
  toolSeries(groupBy: TOOL, bucket: DAY, from: $f, to: $t, groups: 8) {{
    groups points {{ bucketStart group {STATS} }} }} }}"""
ERRORS = """query($f: DateTime!, $t: DateTime!) {
  toolErrors(tool: "exec", from: $f, to: $t) { id count sessions firstSeen lastSeen latestText trend } }"""
CALLS = """query($g: ID!, $f: DateTime!, $t: DateTime!) {
  toolErrorCalls(group: $g, from: $f, to: $t, first: 20) {
    edges { node { id calledAt errorText sessionId runId resultMessageId session { id title } } } } }"""


async def timed(n: int, fn: Callable[[], Awaitable[object]]) -> list[float]:
    await fn()  # warm-up (plans, caches)
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--database-url", default=os.environ.get("OBSERVATORY_DATABASE_URL",
                   "postgresql+asyncpg://postgres@127.0.0.1:5432/obs_tools"))  # fmt: skip
    p.add_argument("--load", action="store_true")
    p.add_argument("--sessions", type=int, default=100000)
    p.add_argument("--runs-per-session", type=int, default=20)
    p.add_argument("--requests", type=int, default=60)
    args = p.parse_args()
    dsn = asyncpg_dsn(args.database_url)
    env = {
        **os.environ,
        "OBSERVATORY_DATABASE_URL": args.database_url,
        "OBSERVATORY_FRONTEND_DIR": "/nonexistent",
        "OBSERVATORY_SYNC_ENABLED": "false",
    }
    if args.load:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "observatory.cli", "demo", "--sessions",
                        str(args.sessions), "--runs-per-session", str(args.runs_per_session),
                        "--transcripts", str(args.sessions)], env=env, check=True)  # fmt: skip
        print(f"loaded in {time.perf_counter() - t0:,.0f} s")
    subprocess.run([sys.executable, "-m", "observatory.cli", "migrate"], env=env, check=True)
    conn = await asyncpg.connect(dsn)
    secret = "obs_benchkey_" + os.urandom(16).hex()
    await conn.execute(
        "INSERT INTO api_keys (name, prefix, hash, role) VALUES ('bench', $1, $2, 'admin')",
        os.urandom(4).hex(),
        hash_secret(secret),
    )
    sessions = await conn.fetchval("SELECT count(*) FROM sessions")
    runs = await conn.fetchval("SELECT count(*) FROM runs")
    calls = await conn.fetchval("SELECT count(*) FROM tool_calls")
    messages = await conn.fetchval("SELECT count(*) FROM messages")
    end = await conn.fetchval("SELECT date_trunc('day', max(called_at)) FROM tool_calls")
    start = end - timedelta(days=30)
    in_range = await conn.fetchval(
        "SELECT count(*) FROM tool_calls WHERE called_at >= $1 AND called_at < $2", start, end
    )
    engine = make_engine(args.database_url, pool_size=2, app_name="bench-tools")
    factory = make_session_factory(engine)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "observatory.app:create_app", "--factory", "--port", str(port),
         "--workers", "1", "--log-level", "warning", "--no-access-log"],
        env=env,
    )  # fmt: skip
    results: list[tuple[str, list[float], list[float]]] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60,
                                     headers={"Authorization": f"Bearer {secret}"}) as client:  # fmt: skip
            for _ in range(150):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)

            async def gql(query: str, variables: dict[str, object]) -> dict[str, object]:
                r = await client.post("/graphql", json={"query": query, "variables": variables})
                body = r.json()
                assert "errors" not in body, body
                return body["data"]

            v: dict[str, object] = {"f": start.isoformat(), "t": end.isoformat()}
            found = await gql(ERRORS.replace("id count", "id fingerprint count"), v)
            groups = found["toolErrors"]
            assert isinstance(groups, list) and groups, "no exec errors in range"
            group_id, fingerprint = groups[0]["id"], groups[0]["fingerprint"]
            n = args.requests
            f = tools.ToolFilter()

            async def direct(fn: Callable[..., Awaitable[object]], *a: object) -> None:
                async with factory() as db:
                    await fn(db, *a)

            async def direct_calls() -> None:
                await conn.fetch(
                    "SELECT * FROM tool_calls WHERE is_error AND tool_name = 'exec' "
                    "AND error_fingerprint = $1 AND called_at >= $2 AND called_at < $3 "
                    "ORDER BY called_at DESC, id DESC LIMIT 21",
                    fingerprint,
                    start,
                    end,
                )

            cases: list[tuple[str, Callable[[], Awaitable[object]], Callable[[], Awaitable[object]]]] = [
                ("toolSummary 30 d", lambda: gql(SUMMARY, v),
                 lambda: direct(tools.summary, start, end, f, 50)),
                ("toolSummary 30 d split by model", lambda: gql(SPLIT, v),
                 lambda: direct(tools.summary, start, end, f, 200, "model")),
                ("toolSeries 30 d by tool per day", lambda: gql(SERIES, v),
                 lambda: direct(tools.series, "tool", "day", start, end, f, 8)),
                ("toolErrors exec 30 d", lambda: gql(ERRORS, v),
                 lambda: direct(tools.error_groups, "exec", start, end, f, 20)),
                ("toolErrorCalls first 20", lambda: gql(CALLS, {**v, "g": group_id}), direct_calls),
            ]  # fmt: skip
            for name, g, d in cases:
                results.append((name, await timed(n, g), await timed(n, d)))
    finally:
        server.terminate()
        server.wait(10)
        await conn.execute("DELETE FROM api_keys WHERE name = 'bench'")
        await conn.close()
        await engine.dispose()

    print(
        f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {sessions:,} sessions, {runs:,} runs, "
        f"{messages:,} messages, {calls:,} tool calls ({in_range:,} in the 30 days), "
        "one uvicorn worker\n"
    )
    print("| query (p50 ms) | GraphQL | direct SQL | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name, g_ms, d_ms in results:
        gm, dm = statistics.median(g_ms), statistics.median(d_ms)
        print(f"| {name} | {gm:,.1f} | {dm:,.1f} | {gm / dm:.2f}× |")


if __name__ == "__main__":
    asyncio.run(main())
