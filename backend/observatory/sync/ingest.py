"""Idempotent upserts of provider-neutral records into PostgreSQL.

One :class:`SyncBatch` is written in the caller's transaction: the session row (keyed by
``(source_id, key)``), its runs (``(session_id, provider_run_id)``), its messages
(``(session_id, provider_session_id, seq)``), the tool calls derived from them, the cursor to
resume from, and the session's roll-up columns. A crash before COMMIT leaves no half session; replaying a batch changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    Table,
    bindparam,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from observatory.db.enums import SessionStatus
from observatory.db.models import Agent, Message, Run, Session
from observatory.db.rollup import refresh_session_totals
from observatory.db.tool_calls import derive as derive_tool_calls
from observatory.sync.source import RunRecord, SessionRecord, SyncBatch

CHUNK = 5000  # messages per statement: bounds the size of one request, not its parameters

_sessions = cast(Table, Session.__table__)
_runs = cast(Table, Run.__table__)
_messages = cast(Table, Message.__table__)
_agents = cast(Table, Agent.__table__)


@dataclass(slots=True)
class Ingested:
    session_id: int
    created: bool
    runs: int
    messages: int


async def upsert_agents(
    conn: AsyncConnection, records: Iterable[SessionRecord], provider: str
) -> None:
    """One row per agent seen, with first/last seen widened (never narrowed)."""
    span: dict[str, tuple[datetime, datetime]] = {}
    for r in records:
        first, last = span.get(r.agent_id, (r.started_at, r.updated_at))
        span[r.agent_id] = (min(first, r.started_at), max(last, r.updated_at))
    if not span:
        return
    stmt = insert(_agents)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_agents.c.id],
        set_={
            "first_seen_at": func.least(_agents.c.first_seen_at, stmt.excluded.first_seen_at),
            "last_seen_at": func.greatest(_agents.c.last_seen_at, stmt.excluded.last_seen_at),
        },
        where=(_agents.c.first_seen_at > stmt.excluded.first_seen_at)
        | (_agents.c.last_seen_at < stmt.excluded.last_seen_at),
    )
    rows = [
        {"id": agent, "provider": provider, "first_seen_at": first, "last_seen_at": last}
        for agent, (first, last) in sorted(span.items())
    ]
    await conn.execute(stmt, rows)


async def _driver(conn: AsyncConnection) -> Any:
    """The asyncpg connection under ``conn``, inside the same transaction.

    The bulk statements below go straight to asyncpg: one ``unnest`` statement per table and
    batch costs a single round trip and no per-row SQLAlchemy work (about 4x faster).
    """
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    if driver is None or not driver.is_in_transaction():
        raise RuntimeError("ingest must run inside an open transaction")
    return driver


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_SESSION_UPSERT = """
INSERT INTO sessions AS s (source_id, key, agent_id, provider_session_id, kind, status,
    provider_status, title, parent_key, model, channel, started_at, updated_at, ended_at,
    synced_at, transcript_synced_at, sync_cursor)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16::text::jsonb)
ON CONFLICT (source_id, key) DO UPDATE SET
    agent_id = EXCLUDED.agent_id,
    provider_session_id = EXCLUDED.provider_session_id,
    kind = EXCLUDED.kind,
    -- 'archived' is ours: the provider's view never un-archives a session
    status = CASE WHEN s.status = 'archived' THEN s.status ELSE EXCLUDED.status END,
    provider_status = EXCLUDED.provider_status,
    title = coalesce(EXCLUDED.title, s.title),
    parent_key = coalesce(EXCLUDED.parent_key, s.parent_key),
    model = coalesce(EXCLUDED.model, s.model),
    channel = coalesce(EXCLUDED.channel, s.channel),
    -- a batch only sees new events: widen the known span, never narrow it
    started_at = least(s.started_at, EXCLUDED.started_at),
    updated_at = greatest(s.updated_at, EXCLUDED.updated_at),
    ended_at = CASE WHEN EXCLUDED.status = 'running' THEN NULL
                    ELSE coalesce(EXCLUDED.ended_at, s.ended_at) END,
    pruned_at = NULL,
    synced_at = EXCLUDED.synced_at,
    transcript_synced_at = EXCLUDED.transcript_synced_at,
    sync_cursor = EXCLUDED.sync_cursor
RETURNING id, (xmax = 0) AS inserted
"""


async def _upsert_session(
    conn: AsyncConnection, source_id: int, batch: SyncBatch, now: datetime
) -> tuple[int, bool]:
    s = batch.session
    row = await (await _driver(conn)).fetchrow(
        _SESSION_UPSERT,
        source_id,
        s.key,
        s.agent_id,
        s.provider_session_id,
        s.kind.value,
        (s.status or SessionStatus.PENDING).value,
        s.provider_status,
        s.title,
        s.parent_key,
        s.model,
        s.channel,
        s.started_at,
        s.updated_at,
        s.ended_at,
        now,
        _json(batch.cursor),
    )
    return int(row["id"]), bool(row["inserted"])


_RUN_UPSERT = (
    """
INSERT INTO runs AS r (session_id, agent_id, provider_run_id, trigger, status, started_at,
    finished_at, duration_ms, model, input_tokens, output_tokens, cache_read_tokens,
    cache_write_tokens, cost, error, prompt_preview, outcome_preview, tool_call_count,
    tool_error_count)
SELECT $1, $2, u.* FROM unnest($3::text[], $4::text[], $5::text[], $6::timestamptz[],
    $7::timestamptz[], $8::bigint[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[],
    $13::bigint[], $14::numeric[], $15::text[], $16::text[], $17::text[], $18::int[],
    $19::int[]) AS u
ON CONFLICT (session_id, provider_run_id) DO UPDATE SET
"""
    + ",\n".join(
        f"    {c} = EXCLUDED.{c}"
        for c in (
            "agent_id",
            "trigger",
            "status",
            "started_at",
            "finished_at",
            "duration_ms",
            "model",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "cost",
            "error",
            "prompt_preview",
            "outcome_preview",
            "tool_call_count",
            "tool_error_count",
        )
    )
    + "\nRETURNING provider_run_id, id"
)


async def _upsert_runs(
    conn: AsyncConnection, session_id: int, agent_id: str, runs: Sequence[RunRecord]
) -> dict[str, int]:
    if not runs:
        return {}
    rows = await (await _driver(conn)).fetch(
        _RUN_UPSERT,
        session_id,
        agent_id,
        [r.provider_run_id for r in runs],
        [r.trigger.value for r in runs],
        [r.status.value for r in runs],
        [r.started_at for r in runs],
        [r.finished_at for r in runs],
        [r.duration_ms for r in runs],
        [r.model for r in runs],
        [r.usage.input_tokens for r in runs],
        [r.usage.output_tokens for r in runs],
        [r.usage.cache_read_tokens for r in runs],
        [r.usage.cache_write_tokens for r in runs],
        [r.usage.cost for r in runs],
        [r.error for r in runs],
        [r.prompt_preview for r in runs],
        [r.outcome_preview for r in runs],
        [r.tool_call_count for r in runs],
        [r.tool_error_count for r in runs],
    )
    return {row["provider_run_id"]: int(row["id"]) for row in rows}


async def _run_ids_for(
    conn: AsyncConnection, session_id: int, provider_run_ids: set[str]
) -> dict[str, int]:
    if not provider_run_ids:
        return {}
    rows = await (await _driver(conn)).fetch(
        "SELECT provider_run_id, id FROM runs WHERE session_id = $1 "
        "AND provider_run_id = ANY($2::text[])",
        session_id,
        sorted(provider_run_ids),
    )
    return {row["provider_run_id"]: int(row["id"]) for row in rows}


_MESSAGE_UPSERT = (
    """
INSERT INTO messages AS m (session_id, provider_session_id, seq, provider_event_id,
    parent_event_id, run_id, provider_run_id, role, content, created_at, model, input_tokens,
    output_tokens, cache_read_tokens, cache_write_tokens, cost, is_error)
SELECT $1, u.psid, u.seq, u.eid, u.pid, u.run_id, u.prid, u.role, u.content::jsonb,
    u.created_at, u.model, u.it, u.ot, u.crt, u.cwt, u.cost, u.is_error
FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::bigint[], $7::text[],
    $8::text[], $9::text[], $10::timestamptz[], $11::text[], $12::bigint[], $13::bigint[],
    $14::bigint[], $15::bigint[], $16::numeric[], $17::bool[])
    AS u(psid, seq, eid, pid, run_id, prid, role, content, created_at, model, it, ot, crt,
         cwt, cost, is_error)
ON CONFLICT (session_id, provider_session_id, seq) DO UPDATE SET
"""
    + ",\n".join(
        f"    {c} = EXCLUDED.{c}"
        for c in (
            "provider_event_id",
            "parent_event_id",
            "run_id",
            "provider_run_id",
            "role",
            "content",
            "created_at",
            "model",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "cost",
            "is_error",
        )
    )
    + "\nRETURNING id"
)


_DELETE_TAIL = text(
    "DELETE FROM messages WHERE session_id = :session_id "
    "AND provider_session_id = :psid AND seq >= :from_seq AND seq <> ALL(:keep)"
).bindparams(
    bindparam("session_id", type_=BigInteger),
    bindparam("psid", type_=String),
    bindparam("from_seq", type_=Integer),
    bindparam("keep", type_=ARRAY(Integer)),
)


async def _replace_tail(conn: AsyncConnection, session_id: int, batch: SyncBatch) -> None:
    """Drop cached messages the batch is authoritative for but no longer contains."""
    for provider_session_id, from_seq in batch.replace_from.items():
        keep = [m.seq for m in batch.messages if m.provider_session_id == provider_session_id]
        await conn.execute(
            _DELETE_TAIL,
            {
                "session_id": session_id,
                "psid": provider_session_id,
                "from_seq": from_seq,
                "keep": keep,
            },
        )


async def _upsert_messages(
    conn: AsyncConnection, session_id: int, run_ids: dict[str, int], batch: SyncBatch
) -> list[int]:
    driver = await _driver(conn)
    ids: list[int] = []
    for start in range(0, len(batch.messages), CHUNK):
        part = batch.messages[start : start + CHUNK]
        rows = await driver.fetch(
            _MESSAGE_UPSERT,
            session_id,
            [m.provider_session_id for m in part],
            [m.seq for m in part],
            [m.provider_event_id for m in part],
            [m.parent_event_id for m in part],
            [run_ids.get(m.provider_run_id) if m.provider_run_id else None for m in part],
            [m.provider_run_id for m in part],
            [m.role.value for m in part],
            [_json(m.content.to_json()) for m in part],
            [m.created_at for m in part],
            [m.model for m in part],
            [m.usage.input_tokens for m in part],
            [m.usage.output_tokens for m in part],
            [m.usage.cache_read_tokens for m in part],
            [m.usage.cache_write_tokens for m in part],
            [m.usage.cost for m in part],
            [m.is_error for m in part],
        )
        ids.extend(int(row["id"]) for row in rows)
    return ids


async def ingest_batch(
    conn: AsyncConnection, source_id: int, batch: SyncBatch, *, now: datetime
) -> Ingested:
    """Write one session's batch (inside the caller's transaction)."""
    # Losing the last few commits in a server crash is harmless here: the cursor is in the
    # same transaction, so the next pass re-reads exactly what was lost; no WAL flush wait per
    # session. Being the first statement, it also opens the transaction at the driver level,
    # which the asyncpg statements below rely on (_driver checks).
    await conn.execute(text("SET LOCAL synchronous_commit = off"))
    session_id, created = await _upsert_session(conn, source_id, batch, now)
    run_ids = await _upsert_runs(conn, session_id, batch.session.agent_id, batch.runs)
    missing = {
        m.provider_run_id
        for m in batch.messages
        if m.provider_run_id and m.provider_run_id not in run_ids
    }
    run_ids.update(await _run_ids_for(conn, session_id, missing))
    if not created:
        await _replace_tail(conn, session_id, batch)
    message_ids = await _upsert_messages(conn, session_id, run_ids, batch)
    await derive_tool_calls(conn, session_id, message_ids)
    await refresh_session_totals(conn, [session_id])
    return Ingested(session_id, created, len(batch.runs), len(batch.messages))


_PRUNE = text(
    "UPDATE sessions SET pruned_at = :now WHERE source_id = :source_id "
    "AND pruned_at IS NULL AND key <> ALL(:keys) RETURNING id"
).bindparams(bindparam("keys", type_=ARRAY(String)))


async def prune_missing(
    conn: AsyncConnection, source_id: int, present_keys: Iterable[str], now: datetime
) -> list[int]:
    """Mark sessions the provider no longer lists as pruned (never delete them)."""
    result = await conn.execute(
        _PRUNE, {"now": now, "source_id": source_id, "keys": sorted(present_keys)}
    )
    return [int(i) for i in result.scalars().all()]
