"""Helpers shared by the sync DB tests: sources, table snapshots, a fixed clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from observatory.sync.circuit import Policy

POLICY = Policy(
    interval_s=30, backoff_base_s=2, backoff_max_s=60, failure_threshold=3, cooldown_s=120
)


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 27, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def add_source(
    engine: AsyncEngine, name: str, config: dict[str, Any], kind: str = "openclaw"
) -> int:
    import json

    async with engine.begin() as conn:
        return int(
            (
                await conn.execute(
                    text(
                        "INSERT INTO sync_sources (name, kind, config) "
                        "VALUES (:n, :k, CAST(:c AS jsonb)) RETURNING id"
                    ),
                    {"n": name, "k": kind, "c": json.dumps(config)},
                )
            ).scalar_one()
        )


async def source_row(engine: AsyncEngine, source_id: int) -> Any:
    async with engine.connect() as conn:
        return (
            await conn.execute(text("SELECT * FROM sync_sources WHERE id = :i"), {"i": source_id})
        ).one()


SESSION_COLS = (
    "s.key, s.agent_id, s.provider_session_id, s.kind, s.status, s.provider_status, s.title, "
    "s.parent_key, s.model, s.channel, s.started_at, s.updated_at, s.ended_at, s.archived_at, "
    "s.pruned_at, s.run_count, s.total_tokens, s.total_cost, s.duration_ms, s.last_run_at"
)
RUN_COLS = (
    "s.key, r.provider_run_id, r.agent_id, r.trigger, r.status, r.started_at, r.finished_at, "
    "r.duration_ms, r.model, r.input_tokens, r.output_tokens, r.cache_read_tokens, "
    "r.cache_write_tokens, r.cost, r.error, r.prompt_preview, r.outcome_preview, "
    "r.tool_call_count, r.tool_error_count"
)
MESSAGE_COLS = (
    "s.key, m.provider_session_id, m.seq, m.provider_event_id, m.parent_event_id, "
    "r.provider_run_id AS run, m.provider_run_id, m.role, m.content, m.created_at, m.model, "
    "m.input_tokens, m.output_tokens, m.cache_read_tokens, m.cache_write_tokens, m.cost, "
    "m.is_error"
)
TOOL_COLS = (
    "s.key, cm.seq AS call_seq, t.block_index, t.tool_call_id, t.tool_name, t.agent_id, t.kind, "
    "r.provider_run_id AS run, t.model, t.called_at, rm.seq AS result_seq, t.result_at, "
    "t.duration_ms, t.is_error, t.error_fingerprint, t.error_text"
)


async def snapshot(engine: AsyncEngine, source_id: int | None = None) -> dict[str, list[Any]]:
    """Every synced row of a source, without surrogate ids or sync bookkeeping times."""
    where = "WHERE s.source_id = :src" if source_id is not None else ""
    params = {"src": source_id} if source_id is not None else {}
    async with engine.connect() as conn:
        sessions = (
            await conn.execute(
                text(f"SELECT {SESSION_COLS} FROM sessions s {where} ORDER BY s.key"), params
            )
        ).all()
        runs = (
            await conn.execute(
                text(
                    f"SELECT {RUN_COLS} FROM runs r JOIN sessions s ON s.id = r.session_id {where} "
                    "ORDER BY s.key, r.started_at, r.provider_run_id"
                ),
                params,
            )
        ).all()
        messages = (
            await conn.execute(
                text(
                    f"SELECT {MESSAGE_COLS} FROM messages m JOIN sessions s ON s.id = m.session_id "
                    f"LEFT JOIN runs r ON r.id = m.run_id {where} "
                    "ORDER BY s.key, m.provider_session_id, m.seq"
                ),
                params,
            )
        ).all()
        tool_calls = (
            await conn.execute(
                text(
                    f"SELECT {TOOL_COLS} FROM tool_calls t JOIN sessions s ON s.id = t.session_id "
                    "JOIN messages cm ON cm.id = t.call_message_id "
                    "LEFT JOIN messages rm ON rm.id = t.result_message_id "
                    f"LEFT JOIN runs r ON r.id = t.run_id {where} "
                    "ORDER BY s.key, cm.provider_session_id, cm.seq, t.block_index"
                ),
                params,
            )
        ).all()
        agents = (await conn.execute(text("SELECT id, provider FROM agents ORDER BY id"))).all()
    return {
        "sessions": [tuple(r) for r in sessions],
        "runs": [tuple(r) for r in runs],
        "messages": [tuple(r) for r in messages],
        "tool_calls": [tuple(r) for r in tool_calls],
        "agents": [tuple(r) for r in agents],
    }


async def count(engine: AsyncEngine, sql: str, **params: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())
