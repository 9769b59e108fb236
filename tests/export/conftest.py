"""A small demo database of our own for export and backup tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from observatory.db.engine import asyncpg_dsn
from observatory.demo import DemoConfig, load_demo
from tests.conftest import migrated_database

ANCHOR = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture(scope="session")
async def export_db() -> AsyncIterator[str]:
    async with migrated_database("obs_export") as url:
        await load_demo(
            asyncpg_dsn(url),
            DemoConfig(
                sessions=40, runs_per_session=3, seed=5, anchor=ANCHOR, days=7, transcripts=10
            ),
        )
        yield url
