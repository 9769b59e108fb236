# ruff: noqa: ASYNC220, RUF003
"""Memory under heavy requests: server RSS across repeated heavy queries, page latency beside.

    python bench/bench_memory.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/obs_mem \
        [--heavy 8] [--pages 200]

Needs demo data (e.g. `observatory demo --sessions 3000 --runs-per-session 8 --transcripts 3000`).
Starts `observatory serve` (one uvicorn worker, the GC tuning of app.py), sends a sessions page
`--pages` times, then the heaviest query the node budget admits `--heavy` times (RSS read from
/proc after each), then the page again. Reports RSS after each heavy request, its growth after
the first, and the page p50/p99 before and after, side by side in one run.
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
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

from observatory.auth.keys import generate_secret, hash_secret  # noqa: E402
from observatory.db.engine import asyncpg_dsn  # noqa: E402

PAGE = """{ sessions(first: 50) { edges { node { id key title status startedAt totalCost
  agent { id } latestReview { verdict rating } } } } }"""
# 10 × (100 sessions + 500 runs + 4,000 messages) = 46,000 nodes: just under the 50k budget.
HEAVY = (
    "{ "
    + " ".join(
        f"a{i}: sessions(first: 100) {{ edges {{ node {{ id title key agent {{ id }} "
        "runs(first: 5) { edges { node { id model promptPreview "
        "messages(first: 8) { edges { node { id role text } } } } } } } } }"
        for i in range(10)
    )
    + " }"
)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def timed_pages(client: httpx.AsyncClient, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = await client.post("/graphql", json={"query": PAGE})
        assert r.status_code == 200 and not r.json().get("errors"), r.text[:300]
        out.append((time.perf_counter() - t) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default=os.environ.get("OBSERVATORY_DATABASE_URL"))
    ap.add_argument("--heavy", type=int, default=8)
    ap.add_argument("--pages", type=int, default=200)
    args = ap.parse_args()
    if not args.database_url:
        sys.exit("--database-url (or OBSERVATORY_DATABASE_URL) is required")
    prefix, secret = generate_secret()
    conn = await asyncpg.connect(asyncpg_dsn(args.database_url))
    await conn.execute(
        "INSERT INTO api_keys (name, role, prefix, hash) VALUES ('bench-memory', 'viewer', $1, $2)",
        prefix,
        hash_secret(secret),
    )
    port = free_port()
    env = {
        **os.environ,
        "OBSERVATORY_DATABASE_URL": args.database_url,
        "OBSERVATORY_SYNC_ENABLED": "0",
        "OBSERVATORY_FRONTEND_DIR": "/nonexistent",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "observatory.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {secret}"},
            timeout=300,
        ) as client:
            for _ in range(300):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            before = await timed_pages(client, args.pages)
            start = rss_mib(server.pid)
            rss = []
            for i in range(args.heavy):
                t = time.perf_counter()
                r = await client.post("/graphql", json={"query": HEAVY})
                assert r.status_code == 200 and not r.json().get("errors"), r.text[:300]
                rss.append(rss_mib(server.pid))
                print(f"heavy {i + 1}: {time.perf_counter() - t:6.2f} s, RSS {rss[-1]:6.1f} MiB")
            after = await timed_pages(client, args.pages)
    finally:
        server.terminate()
        server.wait(10)
        await conn.execute("DELETE FROM api_keys WHERE name = 'bench-memory'")
        await conn.close()
    print(
        f"RSS after pages {start:.1f} MiB; after heavy #1 {rss[0]:.1f}; after #{len(rss)} {rss[-1]:.1f}"
    )
    print(
        f"growth after the first heavy request: {rss[-1] - rss[0]:+.1f} MiB ({rss[-1] / rss[0]:.2f}x)"
    )
    for name, values in (("before", before), ("after", after)):
        print(
            f"page {name}: p50 {statistics.median(values):.1f} ms, p99 {pct(values, 0.99):.1f} ms"
        )


if __name__ == "__main__":
    asyncio.run(main())
