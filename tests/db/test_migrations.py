"""Alembic migrations: up from empty, down to base, up again; models and migrations agree."""

from __future__ import annotations

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from observatory.db.engine import asyncpg_dsn
from observatory.db.migrate import downgrade_async, load_models, pending_diff, upgrade_async
from tests.conftest import create_database, drop_database

OUR_FUNCTIONS = "SELECT count(*) FROM pg_proc WHERE proname LIKE 'observatory\\_%'"
PUBLIC_TABLES = (
    "SELECT table_name FROM information_schema.tables "
    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
)


async def _state(url: str) -> tuple[set[str], int, str | None]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        tables = {r[0] for r in await conn.fetch(PUBLIC_TABLES)}
        functions = await conn.fetchval(OUR_FUNCTIONS)
        version = None
        if "alembic_version" in tables:
            version = await conn.fetchval("SELECT version_num FROM alembic_version")
        return tables - {"alembic_version"}, functions, version
    finally:
        await conn.close()


async def test_up_down_up_from_empty() -> None:
    url = await create_database("obs_migr")
    model_tables = set(load_models().tables)
    try:
        assert await _state(url) == (set(), 0, None)

        await upgrade_async(url)
        tables, functions, head = await _state(url)
        assert tables == model_tables
        assert functions > 0  # the NOTIFY trigger functions of 0002
        assert head is not None

        await downgrade_async(url, "base")
        assert await _state(url) == (set(), 0, None)

        await upgrade_async(url)
        assert await _state(url) == (model_tables, functions, head)
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                assert await pending_diff(conn) == []
                # ...and the drift check does see a schema the models do not describe.
                await conn.exec_driver_sql("ALTER TABLE agents ADD COLUMN stray integer")
                diff = await pending_diff(conn)
                assert any("stray" in repr(d) for d in diff), diff
                await conn.rollback()
        finally:
            await engine.dispose()
    finally:
        await drop_database(url)


async def test_models_match_migrations(engine: AsyncEngine) -> None:
    """Fails when a model changes without a migration (or the other way round)."""
    async with engine.connect() as conn:
        diff = await pending_diff(conn)
    assert diff == [], f"models and migrations disagree; add a migration: {diff}"
