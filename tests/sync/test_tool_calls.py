"""Tool calls derived at sync: matched to their results by id, durations from timestamps,
pending until a result arrives, idempotent on re-sync, backfilled by the migration."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sync_helpers import add_source, snapshot
from test_sync_ingest import run, store_config

from observatory.db.enums import MessageRole, RunStatus, RunTrigger, SessionKind
from observatory.db.tool_calls import DERIVE_ALL
from observatory.sync import ingest
from observatory.sync.source import (
    MessageContent,
    MessageRecord,
    RunRecord,
    SessionRecord,
    SyncBatch,
    TextBlock,
    ToolCall,
    ToolResult,
)

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _ts(event: dict[str, Any]) -> datetime:
    """When the message was produced: its own epoch-ms timestamp, else the event's."""
    own = event["message"].get("timestamp")
    if isinstance(own, int | float):
        return datetime.fromtimestamp(own / 1000, tz=UTC)
    return datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00"))


def expected_from_transcripts(fixtures: Path) -> dict[str, dict[str, Any]]:
    """Every toolCall in the fixture transcripts with its toolResult, read straight from JSONL."""
    calls: dict[str, dict[str, Any]] = {}
    results: dict[str, tuple[datetime, bool]] = {}
    for path in sorted((fixtures / "transcripts").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            msg = event.get("message")
            if event.get("type") != "message" or not isinstance(msg, dict):
                continue
            at = _ts(event)
            if msg.get("role") == "assistant" and isinstance(msg.get("content"), list):
                for block in msg["content"]:
                    if block.get("type") == "toolCall":
                        calls[block["id"]] = {"name": block["name"], "at": at}
            if msg.get("role") == "toolResult":
                results.setdefault(msg["toolCallId"], (at, bool(msg.get("isError"))))
    for call_id, call in calls.items():
        result_at, is_error = results.get(call_id, (None, False))
        call["result_at"] = result_at
        call["is_error"] = is_error
    return calls


async def _rows(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT t.*, cm.role AS call_role, rm.role AS result_role "
                    "FROM tool_calls t JOIN messages cm ON cm.id = t.call_message_id "
                    "LEFT JOIN messages rm ON rm.id = t.result_message_id"
                )
            )
        ).all()
    return {r.tool_call_id: r for r in rows}


async def test_derived_from_the_openclaw_fixtures(
    clean_db: AsyncEngine, fixtures_dir: Path
) -> None:
    engine = clean_db
    await add_source(engine, "sofia", store_config(fixtures_dir))
    assert (await run(engine)).ok
    expected = expected_from_transcripts(fixtures_dir)
    rows = await _rows(engine)
    assert expected, "the fixtures hold tool calls"
    assert set(rows) == set(expected)
    for call_id, want in expected.items():
        row = rows[call_id]
        assert row.tool_name == want["name"]
        assert row.called_at == want["at"]
        assert row.call_role == "assistant"
        assert row.result_at == want["result_at"]
        assert row.is_error is want["is_error"]
        if want["result_at"] is None:
            assert row.duration_ms is None and row.result_message_id is None
        else:
            assert row.result_role == "tool_result"
            delta = want["result_at"] - want["at"]
            assert row.duration_ms == round(delta.total_seconds() * 1000)
        assert row.agent_id == "sofia"
        assert row.run_id is not None
    # the calling message's model is the call's model
    async with engine.connect() as conn:
        mismatched = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM tool_calls t JOIN messages m ON m.id = t.call_message_id "
                    "WHERE t.model IS DISTINCT FROM m.model"
                )
            )
        ).scalar_one()
    assert mismatched == 0


async def test_backfill_equals_sync(clean_db: AsyncEngine, fixtures_dir: Path) -> None:
    """The bulk derivation (demo loader; the migration's backfill is a copy) equals sync's."""
    engine = clean_db
    await add_source(engine, "sofia", store_config(fixtures_dir))
    await run(engine)
    synced = (await snapshot(engine))["tool_calls"]
    assert synced
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM tool_calls"))
        await conn.exec_driver_sql(DERIVE_ALL)
    assert (await snapshot(engine))["tool_calls"] == synced


def _session() -> SessionRecord:
    return SessionRecord(
        key="agent:atlas:subagent:t1",
        agent_id="atlas",
        kind=SessionKind.TASK,
        provider_status="running",
        started_at=T0,
        updated_at=T0,
        provider_session_id="psid-1",
    )


def _msg(seq: int, role: MessageRole, *blocks: Any, at: timedelta) -> MessageRecord:
    return MessageRecord(
        provider_session_id="psid-1",
        seq=seq,
        role=role,
        content=MessageContent(list(blocks)),
        created_at=T0 + at,
        provider_run_id="run-1",
        model="gpt-5" if role == MessageRole.ASSISTANT else None,
    )


async def _ingest(engine: AsyncEngine, batch: SyncBatch) -> None:
    async with engine.begin() as conn:
        await ingest.upsert_agents(conn, [batch.session], "openclaw")
        await ingest.ingest_batch(conn, 1, batch, now=T0)


async def test_pending_until_the_result_arrives_in_a_later_batch(clean_db: AsyncEngine) -> None:
    engine = clean_db
    await add_source(engine, "atlas", {})
    run_record = RunRecord("run-1", RunTrigger.SPAWN, RunStatus.RUNNING, T0)
    call = _msg(
        1,
        MessageRole.ASSISTANT,
        TextBlock("reading"),
        ToolCall("call_a", "read", {"path": "/x"}),
        ToolCall("call_b", "exec", {"cmd": "ls"}),
        at=timedelta(seconds=1),
    )
    await _ingest(engine, SyncBatch(_session(), [run_record], [call]))
    rows = await _rows(engine)
    assert set(rows) == {"call_a", "call_b"}
    assert all(r.result_at is None and r.is_error is False for r in rows.values())
    assert [rows["call_a"].block_index, rows["call_b"].block_index] == [1, 2]

    error = "ENOENT: no such file or directory, open '/srv/a/b.txt'"
    results = [
        _msg(2, MessageRole.TOOL_RESULT, ToolResult("call_a", "read", True, error),
             at=timedelta(seconds=1, milliseconds=250)),
        _msg(3, MessageRole.TOOL_RESULT, ToolResult("call_b", "exec", False, "ok"),
             at=timedelta(seconds=4)),
    ]  # fmt: skip
    batch = SyncBatch(_session(), [run_record], results)
    await _ingest(engine, batch)
    rows = await _rows(engine)
    assert rows["call_a"].is_error is True
    assert rows["call_a"].duration_ms == 250
    assert rows["call_a"].error_text == error
    assert rows["call_a"].error_fingerprint == "ENOENT: no such file or directory, open <q>"
    assert rows["call_b"].is_error is False and rows["call_b"].duration_ms == 3000
    assert rows["call_b"].error_fingerprint is None

    # Replaying both batches changes nothing.
    before = await snapshot(engine)
    await _ingest(engine, SyncBatch(_session(), [run_record], [call]))
    await _ingest(engine, batch)
    assert await snapshot(engine) == before

    # The call message re-read without its second call: that call is gone, the first stays.
    shorter = _msg(1, MessageRole.ASSISTANT, ToolCall("call_a", "read", {}), at=timedelta(0))
    await _ingest(engine, SyncBatch(_session(), [run_record], [shorter], replace_from={}))
    rows = await _rows(engine)
    assert set(rows) == {"call_a"}
    assert rows["call_a"].block_index == 0
    assert rows["call_a"].duration_ms == 1250  # called earlier now: recomputed


async def test_call_ids_reused_across_runs_match_within_their_run(clean_db: AsyncEngine) -> None:
    """Some models number tool calls per turn: `call_1` in every run of a session."""
    engine = clean_db
    await add_source(engine, "atlas", {})
    runs = [RunRecord(f"run-{i}", RunTrigger.MESSAGE, RunStatus.COMPLETED, T0) for i in (1, 2)]
    messages = []
    for i, (ok, at) in enumerate([(True, 1), (False, 60)]):
        call = _msg(
            2 * i, MessageRole.ASSISTANT, ToolCall("call_1", "exec", {}), at=timedelta(seconds=at)
        )
        result = _msg(
            2 * i + 1,
            MessageRole.TOOL_RESULT,
            ToolResult("call_1", "exec", not ok, "ok" if ok else "exit code 2"),
            at=timedelta(seconds=at + 2 + i),
        )
        call.provider_run_id = result.provider_run_id = f"run-{i + 1}"
        messages += [call, result]
    await _ingest(engine, SyncBatch(_session(), runs, messages))
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT r.provider_run_id, t.is_error, t.duration_ms FROM tool_calls t "
                    "JOIN runs r ON r.id = t.run_id ORDER BY 1"
                )
            )
        ).all()
    assert [tuple(r) for r in rows] == [("run-1", False, 2000), ("run-2", True, 3000)]
