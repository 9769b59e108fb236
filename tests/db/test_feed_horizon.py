"""The feed horizon: an open writer in another database of the cluster does not hold this
database's feeds back; an open writer in this database does (its events may still commit)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from observatory.db.engine import asyncpg_dsn
from observatory.feeds.cursor import HORIZON
from tests.conftest import create_database, drop_database


@pytest.fixture
async def other_db() -> AsyncIterator[str]:
    url = await create_database("obs_test_other")
    try:
        yield url
    finally:
        await drop_database(url)


async def _xid(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT pg_current_xact_id()::text::bigint"))


async def test_writer_in_another_database_does_not_hold_the_horizon(
    db_url: str, other_db: str
) -> None:
    here = await asyncpg.connect(asyncpg_dsn(db_url))
    elsewhere = await asyncpg.connect(asyncpg_dsn(other_db))
    try:
        async with elsewhere.transaction():
            old = await _xid(elsewhere)  # an xid assigned and held open, as a long COPY does
            async with here.transaction():
                newer = await _xid(here)  # a writer here that commits after the old one began
            assert newer > old
            horizon = int(await here.fetchval(f"SELECT {HORIZON}"))
            # the plain snapshot xmin would stop at `old` and hide `newer`'s events
            assert (
                int(
                    await here.fetchval(
                        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
                    )
                )
                <= old
            )
            assert horizon > newer
    finally:
        await here.close()
        await elsewhere.close()


async def test_writer_in_this_database_holds_the_horizon(db_url: str) -> None:
    writer = await asyncpg.connect(asyncpg_dsn(db_url))
    reader = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        async with writer.transaction():
            open_xid = await _xid(writer)
            horizon = int(await reader.fetchval(f"SELECT {HORIZON}"))
            assert horizon <= open_xid
        horizon = int(await reader.fetchval(f"SELECT {HORIZON}"))
        assert horizon > open_xid
    finally:
        await writer.close()
        await reader.close()
