from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from observatory.app import create_app
from observatory.auth.keys import create_key
from observatory.db.engine import asyncpg_dsn, make_engine, make_session_factory
from observatory.db.enums import Role
from observatory.demo import DemoConfig, load_demo
from observatory.events import EventHub
from observatory.settings import load_settings
from tests.conftest import migrated_database
from tests.livesrv import serve_in_thread

ANCHOR = datetime(2026, 11, 20, 12, tzinfo=UTC)


class Api:
    """A GraphQL client bound to one API key."""

    def __init__(self, client: httpx.AsyncClient, secret: str | None) -> None:
        self.client = client
        self.secret = secret

    async def raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.secret}"} if self.secret else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.raw(query, variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def error_code(self, query: str, variables: dict[str, Any] | None = None) -> str:
        body = await self.raw(query, variables)
        assert body.get("errors"), body
        return body["errors"][0]["extensions"]["code"]


@pytest.fixture(scope="session")
async def demo_db() -> AsyncIterator[str]:
    """A database of its own with the demo data loaded once (read-mostly API tests), so tests
    elsewhere that truncate the shared test database never pull data from under these."""
    async with migrated_database("obs_api") as url:
        await load_demo(
            asyncpg_dsn(url),
            DemoConfig(sessions=160, runs_per_session=3, seed=3, anchor=ANCHOR, days=14),
        )
        yield url


@pytest.fixture(scope="session")
async def demo_engine(demo_db: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(demo_db, pool_size=3, app_name="observatory-tests")
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
async def app(demo_db: str) -> AsyncIterator[Starlette]:
    settings = dataclasses.replace(load_settings(), database_url=demo_db, frontend_dir=None)
    application = create_app(settings, run_background=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture(scope="session")
async def keys(demo_engine: AsyncEngine) -> dict[str, str]:
    out: dict[str, str] = {}
    async with make_session_factory(demo_engine)() as db, db.begin():
        for role in Role:
            out[role.value] = (await create_key(db, f"test {role.value}", role)).secret
    return out


@pytest.fixture(scope="session")
def api(client: httpx.AsyncClient, keys: dict[str, str]) -> dict[str, Api]:
    out = {role: Api(client, secret) for role, secret in keys.items()}
    out["anonymous"] = Api(client, None)
    return out


@pytest.fixture(scope="module")
def live_app(demo_db: str) -> Iterator[tuple[str, Starlette]]:
    """The app on a real uvicorn server on a loopback port (WebSocket, schemathesis)."""
    app = create_app(
        dataclasses.replace(load_settings(), database_url=demo_db, frontend_dir=None),
        run_background=False,
    )
    with serve_in_thread(app) as url:
        yield url, app


@pytest.fixture(scope="module")
def live_url(live_app: tuple[str, Starlette]) -> str:
    return live_app[0]


@pytest.fixture(scope="module")
def live_hub(live_app: tuple[str, Starlette]) -> EventHub:
    """The live server's event hub: a test waits on its subscriber count, never on a sleep."""
    hub: EventHub = live_app[1].state.services.events
    return hub
