"""Export memory and speed: `observatory export` of runs as CSV at two data sizes (1x and 4x
the rows), each in a fresh process; peak RSS should not grow with the rows (constant memory).

    python bench/bench_export.py                        # 2,000 and 8,000 task sessions x 10 runs
    python bench/bench_export.py --sessions 500 --repeat 1   # quick look

Throwaway databases are created on the server (OBSERVATORY_TEST_DATABASE_URL or the local
default) and dropped after. Medians of --repeat runs per size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "backend"))

import asyncpg  # noqa: E402

from observatory.db.engine import asyncpg_dsn  # noqa: E402
from observatory.db.migrate import upgrade_async  # noqa: E402
from observatory.demo import DemoConfig, load_demo  # noqa: E402

SERVER = os.environ.get(
    "OBSERVATORY_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
# Runs the CLI in this interpreter and reports its own peak RSS (KiB on Linux) on stderr.
CHILD = (
    "import resource, sys\n"
    "from observatory.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print('PEAK_KIB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "raise SystemExit(code)\n"
)


def _db_url(name: str) -> str:
    base, _, query = SERVER.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + ("?" + query if query else "")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(SERVER))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _prepare(sessions: int, runs: int) -> tuple[str, str, int]:
    name = f"obs_bench_export_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = _db_url(name)
    await upgrade_async(url)
    await load_demo(
        asyncpg_dsn(url), DemoConfig(sessions=sessions, runs_per_session=runs, transcripts=0)
    )
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        count = int(await conn.fetchval("SELECT count(*) FROM runs"))
    finally:
        await conn.close()
    return name, url, count


def _export(url: str, out: str) -> tuple[float, int]:
    env = {**os.environ, "OBSERVATORY_DATABASE_URL": url}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "export", "--what", "runs", "--format", "csv", "-o", out],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    took = time.perf_counter() - started
    peak = next(
        int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK_KIB")
    )
    return took, peak


async def bench(args: argparse.Namespace) -> None:
    sizes = [args.sessions, args.sessions * 4]
    rows = []
    for sessions in sizes:
        name, url, runs = await _prepare(sessions, args.runs_per_session)
        try:
            with tempfile.TemporaryDirectory() as out:
                samples = [await asyncio.to_thread(_export, url, out) for _ in range(args.repeat)]
        finally:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        took = statistics.median(s[0] for s in samples)
        peak = statistics.median(s[1] for s in samples) / 1024
        rows.append((runs, took, peak))
        print(
            f"{runs:>9,} runs: {took:6.2f} s ({runs / took:,.0f} rows/s), peak RSS {peak:.0f} MiB"
        )
    (small_runs, _, small_peak), (big_runs, _, big_peak) = rows
    print(
        f"rows x{big_runs / small_runs:.1f} -> peak RSS x{big_peak / small_peak:.2f} "
        "(constant memory: ~1.0)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--runs-per-session", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
