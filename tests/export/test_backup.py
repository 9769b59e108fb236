"""The README's backup/restore recipe, for real: pg_dump, pg_restore into a fresh database, same
row counts in every table, and the API serves the restored data."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from pathlib import Path

import asyncpg
import httpx
import pytest

from observatory.app import create_app
from observatory.auth.keys import create_key
from observatory.db.engine import asyncpg_dsn, make_engine, make_session_factory
from observatory.db.enums import Role
from observatory.settings import load_settings
from tests.conftest import create_database, drop_database

pytestmark = pytest.mark.skipif(
    not (shutil.which("pg_dump") and shutil.which("pg_restore")), reason="needs pg_dump/pg_restore"
)

TABLES = (
    "SELECT table_name FROM information_schema.tables "
    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
)


async def _counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        names = [r[0] for r in await conn.fetch(TABLES)]
        return {n: int(await conn.fetchval(f'SELECT count(*) FROM "{n}"')) for n in names}
    finally:
        await conn.close()


async def _run(*argv: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()


async def test_dump_and_restore_into_a_fresh_database(export_db: str, tmp_path: Path) -> None:
    dump = tmp_path / "observatory.dump"
    await _run("pg_dump", "--format=custom", f"--file={dump}", asyncpg_dsn(export_db))
    restored = await create_database("obs_restore")
    try:
        await _run(
            "pg_restore", "--no-owner", "--exit-on-error", f"--dbname={asyncpg_dsn(restored)}",
            str(dump),
        )  # fmt: skip
        before, after = await _counts(export_db), await _counts(restored)
        assert before["sessions"] > 0 and before["runs"] > 0
        assert after == before

        engine = make_engine(restored, app_name="observatory-tests")
        try:
            async with make_session_factory(engine)() as db, db.begin():
                secret = (await create_key(db, "after restore", Role.VIEWER)).secret
        finally:
            await engine.dispose()
        settings = dataclasses.replace(load_settings(), database_url=restored, frontend_dir=None)
        app = create_app(settings, run_background=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.post(
                    "/graphql",
                    json={
                        "query": "{ sessions { totalCount } runs(first: 1) { edges { node { id } } } }"
                    },
                    headers={"Authorization": f"Bearer {secret}"},
                )
        data = response.json()["data"]
        assert data["sessions"]["totalCount"] == before["sessions"]
        assert data["runs"]["edges"]
    finally:
        await drop_database(restored)
