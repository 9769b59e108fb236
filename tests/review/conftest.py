"""Review-loop fixtures: a database of our own (so other suites' shared demo data is never
truncated under them), a stub model server, and settings pointing at it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from observatory.db.engine import make_engine, make_session_factory
from observatory.settings import Settings, load_settings
from tests.conftest import migrated_database
from tests.review.stub_model import StubModel, serve_stub

TABLES = (
    "ai_rate_limits, improvement_proposals, improvement_suggestions, review_queue_skips, review_queue_claims, review_policies, "
    "review_jobs, reviews, messages, runs, sessions, agents, api_keys, sync_sources"
)


@pytest.fixture(scope="session")
async def rdb_url() -> AsyncIterator[str]:
    async with migrated_database("obs_review") as url:
        yield url


@pytest.fixture(scope="session")
async def rengine(rdb_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(rdb_url, pool_size=6, app_name="observatory-review-tests")
    yield eng
    await eng.dispose()


@pytest.fixture
async def factory(rengine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory over an emptied review database."""
    async with rengine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    yield make_session_factory(rengine)


@pytest.fixture(scope="session")
async def stub_server() -> AsyncIterator[StubModel]:
    async with serve_stub() as stub:
        yield stub


@pytest.fixture
def stub(stub_server: StubModel) -> StubModel:
    stub_server.reset()
    return stub_server


@pytest.fixture
def settings(stub_server: StubModel) -> Settings:
    return dataclasses.replace(
        load_settings(),
        ai_base_url=stub_server.url,
        ai_model="stub-judge-1",
        ai_api_key="sk-test",
        ai_price_input_per_mtok=Decimal("2.5"),
        ai_price_output_per_mtok=Decimal("10"),
        ai_prompt_token_budget=6000,
        ai_max_concurrency=4,
        ai_requests_per_minute=100_000,
        ai_heartbeat_sample_rate=0.5,
    )
