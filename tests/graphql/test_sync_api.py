"""Sync through the API: operators start a pass (syncSource); viewers see errors without paths."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.graphql.conftest import Api

SYNC = "mutation($id: ID!) { syncSource(id: $id) { id name lastError } }"
STATUS = "{ syncStatus { id name lastError circuitState } }"


async def _source(
    engine: AsyncEngine, name: str, config: dict[str, object], kind: str = "openclaw"
) -> int:
    async with engine.begin() as conn:
        return int(
            (
                await conn.execute(
                    text(
                        "INSERT INTO sync_sources (name, kind, config) VALUES (:n, :k, CAST(:c AS jsonb)) "
                        "ON CONFLICT (name) DO UPDATE SET config = EXCLUDED.config RETURNING id"
                    ),
                    {"n": name, "k": kind, "c": json.dumps(config)},
                )
            ).scalar_one()
        )


async def _drop(engine: AsyncEngine, name: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM sync_sources WHERE name = :n"), {"n": name})


async def test_operator_syncs_a_source_and_viewers_see_no_paths(
    api: dict[str, Api], demo_engine: AsyncEngine
) -> None:
    missing = "/srv/secret/place/agents/sofia/agent/openclaw-agent.sqlite"
    source_id = await _source(demo_engine, "api-sync", {"store_paths": [missing]})
    assert await api["viewer"].error_code(SYNC, {"id": str(source_id)}) == "FORBIDDEN"
    started = await api["operator"].ok(SYNC, {"id": str(source_id)})
    assert started["syncSource"]["name"] == "api-sync"
    error = None
    for _ in range(500):  # the pass runs in the background; its outcome lands on the row
        rows = (await api["viewer"].ok(STATUS))["syncStatus"]
        error = next(r["lastError"] for r in rows if r["id"] == str(source_id))
        if error:
            break
        await asyncio.sleep(0.02)
    await _drop(demo_engine, "api-sync")
    assert error is not None and "file missing" in error
    assert "/srv/secret" not in error and "openclaw-agent.sqlite" in error


async def test_sync_source_refuses_unknown_and_demo_sources(
    api: dict[str, Api], demo_engine: AsyncEngine
) -> None:
    assert await api["operator"].error_code(SYNC, {"id": "999999"}) == "NOT_FOUND"
    demo = await _source(demo_engine, "api-demo", {}, kind="demo")
    assert await api["operator"].error_code(SYNC, {"id": str(demo)}) == "BAD_USER_INPUT"
    await _drop(demo_engine, "api-demo")
    assert await api["operator"].error_code(SYNC, {"id": str(demo)}) == "NOT_FOUND"


async def test_session_sync_error_is_visible_without_paths(
    api: dict[str, Api], demo_engine: AsyncEngine
) -> None:
    async with demo_engine.begin() as conn:
        session_id = (await conn.execute(text("SELECT min(id) FROM sessions"))).scalar_one()
        await conn.execute(
            text("UPDATE sessions SET sync_error = :e, sync_error_at = now() WHERE id = :i"),
            {
                "e": "SessionUnreadable: transcript /var/lib/oc/sessions/abc.jsonl line 3 cannot be decoded",
                "i": session_id,
            },
        )
    try:
        data = await api["viewer"].ok(
            "query($id: ID!) { session(id: $id) { syncError syncErrorAt } }",
            {"id": str(session_id)},
        )
        assert data["session"]["syncError"] == (
            "SessionUnreadable: transcript abc.jsonl line 3 cannot be decoded"
        )
        assert data["session"]["syncErrorAt"] is not None
    finally:
        async with demo_engine.begin() as conn:
            await conn.execute(
                text("UPDATE sessions SET sync_error = NULL, sync_error_at = NULL WHERE id = :i"),
                {"i": session_id},
            )
