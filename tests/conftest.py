"""Shared fixtures: one throwaway PostgreSQL database per test run, migrated with Alembic.

The server comes from OBSERVATORY_TEST_DATABASE_URL (default: 127.0.0.1:5432, trust auth);
the database gets a unique name and is dropped at the end, so runs never collide.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from observatory.db.engine import asyncpg_dsn, make_engine, make_session_factory
from observatory.db.migrate import upgrade_async

SERVER_URL = os.environ.get(
    "OBSERVATORY_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REPO = Path(__file__).resolve().parents[1]
# Recorded from a real OpenClaw 2026.9.6 installation; kept in the repo so a fresh clone runs them.
FIXTURES = REPO / "tests" / "fixtures" / "openclaw"

TABLES = "review_jobs, reviews, messages, runs, sessions, agents, api_keys, sync_sources"


def _with_db(url: str, db: str) -> str:
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + db
    return base + ("?" + query if query else "")


async def create_database(prefix: str = "obs_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(asyncpg_dsn(SERVER_URL))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return _with_db(SERVER_URL, name)


async def drop_database(url: str) -> None:
    name = url.partition("?")[0].rsplit("/", 1)[1]
    conn = await asyncpg.connect(asyncpg_dsn(SERVER_URL))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def migrated_database(prefix: str = "obs_test") -> AsyncIterator[str]:
    """A fresh database with every migration applied, dropped on exit."""
    url = await create_database(prefix)
    try:
        await upgrade_async(url)
        yield url
    finally:
        await drop_database(url)


@pytest.fixture(scope="session")
async def db_url() -> AsyncIterator[str]:
    async with migrated_database() as url:
        yield url


@pytest.fixture(scope="session")
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(db_url, pool_size=5, app_name="observatory-tests")
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(engine)


@pytest.fixture
async def clean_db(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """Empty every table before the test (tests that write use this)."""
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    yield engine


@pytest.fixture(scope="session")
def fixtures_dir() -> Iterator[Path]:
    if not FIXTURES.is_dir():
        pytest.skip(f"OpenClaw fixtures not found at {FIXTURES}")
    yield FIXTURES
