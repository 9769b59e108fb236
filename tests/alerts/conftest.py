"""Alert fixtures: a database of our own, emptied per test, and a scriptable webhook receiver
on a loopback port (fails, delays, recovers)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from observatory.db.engine import make_engine, make_session_factory
from tests.conftest import migrated_database
from tests.livesrv import serve_in_thread

TABLES = (
    "outbox_deliveries, webhook_endpoints, alerts, alert_silences, alert_rules, "
    "reviews, messages, runs, sessions, agents, api_keys, sync_sources"
)


@pytest.fixture(scope="session")
async def adb_url() -> AsyncIterator[str]:
    async with migrated_database("obs_alerts") as url:
        yield url


@pytest.fixture(scope="session")
async def aengine(adb_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(adb_url, pool_size=6, app_name="observatory-alert-tests")
    yield eng
    await eng.dispose()


@pytest.fixture
async def factory(aengine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with aengine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    yield make_session_factory(aengine)


@dataclass
class Receiver:
    """Answers from a script: each entry is "fail" (HTTP 500), "slow" (answers after the
    sender's timeout) or "ok"; once the script is used up, always "ok"."""

    url: str = ""
    script: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)  # every request, in order
    kept: list[str] = field(default_factory=list)  # idempotency keys kept once (deduplicated)
    slow_s: float = 1.0
    changed: threading.Condition = field(default_factory=threading.Condition)

    async def wait_for(self, predicate: Callable[[], bool], seconds: float = 20.0) -> None:
        """Wait (without polling) until ``predicate`` holds after some request; fail on timeout."""

        def block() -> bool:
            with self.changed:
                return self.changed.wait_for(predicate, seconds)

        assert await asyncio.to_thread(block), "the receiver never saw what the test waited for"

    async def handle(self, request: Request) -> Response:
        body = await request.json()
        with self.changed:
            action = self.script.pop(0) if self.script else "ok"
            self.requests.append({"action": action, "body": body, "headers": dict(request.headers)})
            self.changed.notify_all()
        if action == "fail":
            return JSONResponse({"error": "down"}, status_code=500)
        if action == "slow":
            await asyncio.sleep(self.slow_s)
        with self.changed:
            if body["idempotency_key"] not in self.kept:
                self.kept.append(body["idempotency_key"])
            self.changed.notify_all()
        return JSONResponse({"ok": True})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    app = Starlette(routes=[Route("/hook", rec.handle, methods=["POST"])])
    with serve_in_thread(app) as url:
        rec.url = f"{url}/hook"
        yield rec
