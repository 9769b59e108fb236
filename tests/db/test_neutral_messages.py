"""Migration 0030 converts cached OpenClaw-shaped content to the neutral model exactly as sync
now writes it, and back on downgrade."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
import pytest

from observatory.db.engine import asyncpg_dsn
from observatory.sync.openclaw.events import parse_event

MIGRATION = (
    Path(__file__).parents[2] / "migrations" / "versions" / "20261203_0030_neutral_messages.py"
)

# (OpenClaw message as the gateway/store gives it, the content that sync stored before 0030)
CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "hmm"},
                {"type": "text", "text": "Reading."},
                {"type": "toolCall", "id": "c1", "name": "read", "arguments": {"path": "a"}},
            ],
            "stopReason": "toolUse",
        },
        {
            "blocks": [
                {"type": "thinking", "thinking": "hmm"},
                {"type": "text", "text": "Reading."},
                {"type": "toolCall", "id": "c1", "name": "read", "arguments": {"path": "a"}},
            ],
            "stopReason": "toolUse",
        },
    ),
    (
        {
            "role": "toolResult",
            "toolCallId": "c1",
            "toolName": "read",
            "isError": True,
            "content": [{"type": "text", "text": "ENOENT"}, {"type": "image", "mimeType": "x"}],
        },
        {
            "blocks": [{"type": "text", "text": "ENOENT"}, {"type": "image", "mimeType": "x"}],
            "toolCallId": "c1",
            "toolName": "read",
            "isError": True,
        },
    ),
    (
        {
            "role": "user",
            "content": "heartbeat?",
            "provenance": {"kind": "internal", "sourceTool": "heartbeat"},
        },
        {
            "blocks": [{"type": "text", "text": "heartbeat?"}],
            "provenance": {"kind": "internal", "sourceTool": "heartbeat"},
        },
    ),
    (
        {"role": "custom", "customType": "note", "details": {"a": 1}, "content": []},
        {"blocks": [], "customType": "note", "details": {"a": 1}},
    ),
]


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("m0030", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def conn(db_url: str) -> Any:
    c = await asyncpg.connect(asyncpg_dsn(db_url))
    m = _migration()
    await c.execute(m.TO_NEUTRAL)
    await c.execute(m.TO_OPENCLAW)
    try:
        yield c
    finally:
        await c.close()


async def _call(conn: Any, fn: str, value: dict[str, Any]) -> Any:
    return json.loads(
        await conn.fetchval(f"SELECT pg_temp.{fn}($1::text::jsonb)::text", json.dumps(value))
    )


async def test_upgrade_matches_sync_and_downgrade_restores(conn: Any) -> None:
    assert CASES
    for message, stored in CASES:
        synced = parse_event({"type": "message", "message": message}, 0).content.to_json()
        converted = await _call(conn, "neutral_content", stored)
        assert converted == synced
        assert await _call(conn, "neutral_content", converted) == converted  # idempotent
        assert await _call(conn, "openclaw_content", converted) == stored
