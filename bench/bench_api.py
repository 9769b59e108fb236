# ruff: noqa: ASYNC221, RUF001
"""API benchmark: GraphQL on one uvicorn worker beside raw asyncpg SQL for the same data.

    python bench/bench_api.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/obs_bench \
        [--load] [--requests 300] [--before-src /tmp/before/backend]

--load fills an empty database with the demo loader (100k sessions / 2M runs) first.
Reports medians/p99 and ratios measured side by side in one run: the GraphQL request and the
raw SQL alternate request by request, so load from other processes hits both alike.
--before-src starts a second server from another checkout's backend/ (e.g. `git archive main
backend | tar -x -C /tmp/before`) and interleaves it too, for before/after figures in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

from observatory.auth.keys import hash_secret  # noqa: E402
from observatory.db.engine import asyncpg_dsn  # noqa: E402

PAGE = """query { sessions(first: 50) { edges { node {
  id key title status startedAt totalCost
  agent { id displayName }
  metrics { runCount inputTokens outputTokens cost wallTimeMs }
  latestReview { verdict rating createdBy } } } } }"""

SERIES = """query($f: DateTime!, $t: DateTime!) {
  metricSeries(groupBy: AGENT, bucket: DAY, from: $f, to: $t) {
    points { bucketStart group runCount cost totalTokens durationP50Ms durationP95Ms successRate } } }"""

RAW_PAGE = [
    "SELECT * FROM sessions ORDER BY started_at DESC, id DESC LIMIT 51",
    "SELECT * FROM agents WHERE id = ANY($1::text[])",
    """SELECT session_id, count(*), sum(input_tokens), sum(output_tokens), sum(cost), sum(duration_ms)
       FROM runs WHERE session_id = ANY($2::bigint[]) GROUP BY session_id""",
    """SELECT DISTINCT ON (session_id) * FROM reviews WHERE session_id = ANY($2::bigint[])
       ORDER BY session_id, (reviewer_kind = 'human') DESC, created_at DESC, id DESC""",
]
# The statements metricSeries runs (roll-up for whole hours; the range here is day-aligned,
# so the raw-edge query is empty but still executed), on a bare asyncpg connection.
RAW_SERIES = [
    """SELECT date_trunc('day', bucket, 'UTC'), agent_id, sum(run_count)::bigint,
              sum(failed_runs)::bigint, sum(usage_runs)::bigint, sum(input_tokens)::bigint,
              sum(output_tokens)::bigint, sum(cost), {hist}
       FROM run_rollups WHERE bucket >= $1 AND bucket < $2 GROUP BY 1, 2""".format(
        hist=", ".join(f"sum(h{i})::bigint" for i in range(32))
    ),
    """SELECT date_trunc('day', r.started_at, 'UTC'), r.agent_id, count(*) FROM runs r
       WHERE (r.started_at >= $1 AND r.started_at < $1) OR (r.started_at >= $2 AND r.started_at < $2)
       GROUP BY 1, 2""",
    """SELECT date_trunc('day', s.started_at, 'UTC'), s.agent_id, count(*),
              count(*) FILTER (WHERE s.latest_verdict = 'accomplished')
       FROM sessions s WHERE s.latest_verdict IS NOT NULL AND s.started_at >= $1 AND s.started_at < $2
       GROUP BY 1, 2""",
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed(n: int, fn: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(min(20, n)):
        await fn()  # warm-up
    out = []
    for _ in range(n):
        t = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


async def side_by_side(
    n: int, fns: dict[str, Callable[[], Awaitable[object]]]
) -> dict[str, list[float]]:
    """Each of ``fns`` n times, alternating (the first one rotates), so a burst of load from
    elsewhere on the machine lands on all of them alike."""
    for fn in fns.values():
        for _ in range(min(20, n)):
            await fn()  # warm-up
    out: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for i in range(n):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            t = time.perf_counter()
            await fns[name]()
            out[name].append((time.perf_counter() - t) * 1000)
    return out


async def throughput(
    seconds: float, concurrency: int, fn: Callable[[], Awaitable[object]]
) -> float:
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await fn()
            done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / seconds


async def trivial_throughput(port: int, dsn: str) -> tuple[float, float]:
    """`{ __typename }` by wrk (a C load generator; a Python client tops out first) when it is
    installed, else by httpx; beside `SELECT 1` over an 8-connection asyncpg pool."""
    pool = await asyncpg.create_pool(dsn, min_size=8, max_size=8)
    raw = await throughput(5, 8, lambda: pool.fetchval("SELECT 1"))
    await pool.close()
    if shutil.which("wrk"):
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        script.write_text(
            'wrk.method = "POST"\nwrk.body = \'{"query":"{ __typename }"}\'\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        out = subprocess.run(
            ["wrk", "-t1", "-c8", "-d5s", "-s", str(script), f"http://127.0.0.1:{port}/graphql"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        script.unlink()
        return float(out.split("Requests/sec:")[1].split()[0]), raw
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        gql = await throughput(
            5, 8, lambda: client.post("/graphql", json={"query": "{ __typename }"})
        )
    return gql, raw


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--database-url", default=os.environ.get("OBSERVATORY_DATABASE_URL",
                   "postgresql+asyncpg://postgres@127.0.0.1:5432/obs_bench"))  # fmt: skip
    p.add_argument("--load", action="store_true")
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--before-src", type=Path, help="another checkout's backend/ to compare")
    args = p.parse_args()
    dsn = asyncpg_dsn(args.database_url)
    env = {
        **os.environ,
        "OBSERVATORY_DATABASE_URL": args.database_url,
        "OBSERVATORY_FRONTEND_DIR": "/nonexistent",
        "OBSERVATORY_SYNC_ENABLED": "false",
    }
    if args.load:
        subprocess.run([sys.executable, "-m", "observatory.cli", "demo", "--sessions", "100000",
                        "--runs-per-session", "20", "--transcripts", "2000"], env=env, check=True)  # fmt: skip
    subprocess.run([sys.executable, "-m", "observatory.cli", "migrate"], env=env, check=True)
    conn = await asyncpg.connect(dsn)
    secret = "obs_benchkey_" + os.urandom(16).hex()
    await conn.execute(
        "INSERT INTO api_keys (name, prefix, hash, role) VALUES ('bench', $1, $2, 'admin')",
        os.urandom(4).hex(),
        hash_secret(secret),
    )
    sessions, runs = (
        await conn.fetchval("SELECT count(*) FROM sessions"),
        await conn.fetchval("SELECT count(*) FROM runs"),
    )
    end = await conn.fetchval("SELECT date_trunc('day', max(started_at)) FROM runs")
    start = end - timedelta(days=30)

    def start_server(pythonpath: Path | None) -> tuple[subprocess.Popen[bytes], int]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        extra = {"PYTHONPATH": str(pythonpath)} if pythonpath else {}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "observatory.app:create_app", "--factory", "--port", str(port),
             "--workers", "1", "--log-level", "warning", "--no-access-log"],
            env={**env, **extra},
        )  # fmt: skip
        return server, port

    server, port = start_server(None)
    before = start_server(args.before_src) if args.before_src else None
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                     headers={"Authorization": f"Bearer {secret}"}) as client, \
                   httpx.AsyncClient(base_url=f"http://127.0.0.1:{before[1] if before else port}",
                                     timeout=30, headers={"Authorization": f"Bearer {secret}"}) as old:  # fmt: skip
            for c in (client, old):
                for _ in range(100):
                    try:
                        if (await c.get("/readyz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(0.2)

            async def gql(
                query: str,
                variables: dict[str, object] | None = None,
                on: httpx.AsyncClient = client,
            ) -> None:
                r = await on.post("/graphql", json={"query": query, "variables": variables or {}})
                body = r.json()
                assert "errors" not in body, body

            async def raw_page() -> None:
                rows = await conn.fetch(RAW_PAGE[0])
                ids = [r["id"] for r in rows]
                agents = list({r["agent_id"] for r in rows})
                await conn.fetch(RAW_PAGE[1], agents)
                await conn.fetch(RAW_PAGE[2].replace("$2", "$1"), ids)
                await conn.fetch(RAW_PAGE[3].replace("$2", "$1"), ids)

            variables = {"f": start.isoformat(), "t": end.isoformat()}
            n = args.requests
            page_fns: dict[str, Callable[[], Awaitable[object]]] = {
                "gql": lambda: gql(PAGE), "raw": raw_page,
            }  # fmt: skip
            if before:
                page_fns["before"] = lambda: gql(PAGE, on=old)
            page = await side_by_side(n, page_fns)
            page_gql, page_raw = page["gql"], page["raw"]
            series_gql = await timed(max(50, n // 3), lambda: gql(SERIES, variables))

            async def raw_series() -> None:
                for statement in RAW_SERIES:
                    await conn.fetch(statement, start, end)

            series_raw = await timed(max(50, n // 3), raw_series)
            trivial_gql, trivial_raw = await trivial_throughput(port, dsn)
    finally:
        for proc in (server, before[0] if before else None):
            if proc:
                proc.terminate()
                proc.wait(10)
        await conn.execute("DELETE FROM api_keys WHERE name = 'bench'")
        await conn.close()

    rows = [
        (
            "sessions page (50 rows, nested) p50 ms",
            statistics.median(page_gql),
            statistics.median(page_raw),
        ),
        ("sessions page (50 rows, nested) p99 ms", pct(page_gql, 0.99), pct(page_raw, 0.99)),
    ]
    if "before" in page:
        rows += [
            (
                "sessions page p50 ms, --before-src server",
                statistics.median(page["before"]),
                statistics.median(page_raw),
            ),
            ("sessions page p99 ms, --before-src server", pct(page["before"], 0.99), pct(page_raw, 0.99)),
        ]  # fmt: skip
    rows += [
        (
            "metricSeries 30 d by agent per day p50 ms",
            statistics.median(series_gql),
            statistics.median(series_raw),
        ),
        ("trivial query req/s (8 connections)", trivial_gql, trivial_raw),
    ]
    print(
        f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {sessions:,} sessions, {runs:,} runs, one uvicorn worker\n"
    )
    print("| measure | GraphQL | raw asyncpg SQL | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name, g, r in rows:
        print(f"| {name} | {g:,.1f} | {r:,.1f} | {g / r:.2f}× |")


if __name__ == "__main__":
    asyncio.run(main())
