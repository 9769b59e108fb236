"""The ``observatory`` command line against the test database."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from observatory.cli import main
from observatory.db.engine import asyncpg_dsn
from tests.conftest import create_database, drop_database


async def _cli(*argv: str) -> int:
    # The commands call asyncio.run(): give them a thread without a running loop.
    return await asyncio.to_thread(main, list(argv))


@pytest.fixture
async def cli_db(
    db_url: str, clean_db: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AsyncEngine]:
    monkeypatch.setenv("OBSERVATORY_DATABASE_URL", db_url)
    yield clean_db


async def test_keys_create_list_revoke(
    cli_db: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await _cli("keys", "create", "--name", "ci bot", "--role", "reviewer") == 0
    out = capsys.readouterr().out
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("obs_") and "shown once" in out

    async with cli_db.connect() as conn:
        row = (await conn.execute(text("SELECT * FROM api_keys"))).mappings().one()
    assert row["hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["prefix"] in secret and row["prefix"] != secret
    assert secret not in {str(v) for v in row.values()}, "the secret itself must not be stored"
    assert (row["name"], row["role"], row["revoked_at"]) == ("ci bot", "reviewer", None)

    assert await _cli("keys", "list") == 0
    listing = capsys.readouterr().out
    assert "ci bot" in listing and row["prefix"] in listing
    assert secret not in listing, "the secret is shown once, at creation only"

    assert await _cli("keys", "revoke", str(row["id"])) == 0
    assert f"revoked key {row['id']}" in capsys.readouterr().out
    async with cli_db.connect() as conn:
        revoked_at = await conn.scalar(text("SELECT revoked_at FROM api_keys"))
    assert revoked_at is not None
    # Revoking again (or an unknown id) fails with a message.
    assert await _cli("keys", "revoke", str(row["id"])) == 1
    assert "no active key" in capsys.readouterr().err


async def test_create_rejects_unknown_role(cli_db: AsyncEngine) -> None:
    with pytest.raises(SystemExit):
        await _cli("keys", "create", "--name", "x", "--role", "root")


async def test_migrate_is_idempotent(cli_db: AsyncEngine) -> None:
    assert await _cli("migrate") == 0


async def test_demo_command(monkeypatch: pytest.MonkeyPatch) -> None:
    url = await create_database("obs_cli_demo")
    monkeypatch.setenv("OBSERVATORY_DATABASE_URL", url)
    monkeypatch.setenv("TZ", "America/New_York")  # a naive time must not be read as local
    time.tzset()
    try:
        argv = ("demo", "--sessions", "12", "--runs-per-session", "2", "--seed", "3")
        assert await _cli(*argv, "--days", "2", "--anchor", "2026-01-01T00:00") == 0
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            tasks = await conn.fetchval("SELECT count(*) FROM sessions WHERE kind = 'task'")
            latest = await conn.fetchval("SELECT max(started_at) FROM runs")
        finally:
            await conn.close()
        assert tasks == 12
        # A naive --anchor means UTC, whatever the machine's time zone.
        assert datetime(2025, 12, 31, 20, tzinfo=UTC) < latest <= datetime(2026, 1, 1, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()
        await drop_database(url)
