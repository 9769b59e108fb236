"""Idempotent upserts of provider-neutral records into PostgreSQL.

One :class:`SyncBatch` is written in the caller's transaction: the session row (keyed by
``(source_id, key)``), its runs (``(session_id, provider_run_id)``), its messages
(``(session_id, provider_session_id, seq)``), the cursor to resume from, and the session's
roll-up columns. A crash before COMMIT leaves no half session; replaying a batch changes nothing.
"""

from __future__ import annotations

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
    case,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from observatory.db.enums import SessionStatus
from observatory.db.models import Agent, Message, Run, Session
from observatory.db.rollup import refresh_session_totals
from observatory.sync.source import MessageRecord, RunRecord, SessionRecord, SyncBatch

CHUNK = 1000  # rows per INSERT statement: 18 columns x 1000 stays under 32767 parameters

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


def _session_values(
    source_id: int, s: SessionRecord, cursor: dict[str, Any], now: datetime
) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "key": s.key,
        "agent_id": s.agent_id,
        "provider_session_id": s.provider_session_id,
        "kind": s.kind.value,
        "status": (s.status or SessionStatus.PENDING).value,
        "provider_status": s.provider_status,
        "title": s.title,
        "parent_key": s.parent_key,
        "model": s.model,
        "channel": s.channel,
        "started_at": s.started_at,
        "updated_at": s.updated_at,
        "ended_at": s.ended_at,
        "synced_at": now,
        "transcript_synced_at": now,
        "sync_cursor": cursor,
    }


async def _upsert_session(
    conn: AsyncConnection, source_id: int, batch: SyncBatch, now: datetime
) -> tuple[int, bool]:
    base = insert(_sessions).values(_session_values(source_id, batch.session, batch.cursor, now))
    ex = base.excluded
    c = _sessions.c
    stmt = base.on_conflict_do_update(
        index_elements=[c.source_id, c.key],
        set_={
            "agent_id": ex.agent_id,
            "provider_session_id": ex.provider_session_id,
            "kind": ex.kind,
            # 'archived' is ours: the provider's view never un-archives a session.
            "status": case((c.status == SessionStatus.ARCHIVED.value, c.status), else_=ex.status),
            "provider_status": ex.provider_status,
            "title": func.coalesce(ex.title, c.title),
            "parent_key": func.coalesce(ex.parent_key, c.parent_key),
            "model": func.coalesce(ex.model, c.model),
            "channel": func.coalesce(ex.channel, c.channel),
            # A batch only sees new events: widen the known span, never narrow it.
            "started_at": func.least(c.started_at, ex.started_at),
            "updated_at": func.greatest(c.updated_at, ex.updated_at),
            "ended_at": case(
                (ex.status == SessionStatus.RUNNING.value, None),
                else_=func.coalesce(ex.ended_at, c.ended_at),
            ),
            "pruned_at": None,
            "synced_at": ex.synced_at,
            "transcript_synced_at": ex.transcript_synced_at,
            "sync_cursor": ex.sync_cursor,
        },
    ).returning(c.id, literal_column("(xmax = 0)").label("inserted"))
    row = (await conn.execute(stmt)).one()
    return int(row[0]), bool(row[1])


def _run_row(session_id: int, agent_id: str, r: RunRecord) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "agent_id": agent_id,
        "provider_run_id": r.provider_run_id,
        "trigger": r.trigger.value,
        "status": r.status.value,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "duration_ms": r.duration_ms,
        "model": r.model,
        "input_tokens": r.usage.input_tokens,
        "output_tokens": r.usage.output_tokens,
        "cache_read_tokens": r.usage.cache_read_tokens,
        "cache_write_tokens": r.usage.cache_write_tokens,
        "cost": r.usage.cost,
        "error": r.error,
        "prompt_preview": r.prompt_preview,
        "outcome_preview": r.outcome_preview,
        "tool_call_count": r.tool_call_count,
        "tool_error_count": r.tool_error_count,
    }


_RUN_UPDATE_COLUMNS = [
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
]
_MESSAGE_UPDATE_COLUMNS = [
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
]


async def _upsert_runs(
    conn: AsyncConnection, session_id: int, agent_id: str, runs: Sequence[RunRecord]
) -> dict[str, int]:
    if not runs:
        return {}
    base = insert(_runs)
    stmt = base.on_conflict_do_update(
        index_elements=[_runs.c.session_id, _runs.c.provider_run_id],
        set_={col: base.excluded[col] for col in _RUN_UPDATE_COLUMNS},
    ).returning(_runs.c.id, _runs.c.provider_run_id, sort_by_parameter_order=True)
    ids: dict[str, int] = {}
    rows = [_run_row(session_id, agent_id, r) for r in runs]
    for start in range(0, len(rows), CHUNK):
        result = await conn.execute(stmt, rows[start : start + CHUNK])
        ids.update({provider_id: run_id for run_id, provider_id in result.all()})
    return ids


async def _run_ids_for(
    conn: AsyncConnection, session_id: int, provider_run_ids: set[str]
) -> dict[str, int]:
    if not provider_run_ids:
        return {}
    result = await conn.execute(
        select(_runs.c.provider_run_id, _runs.c.id).where(
            _runs.c.session_id == session_id,
            _runs.c.provider_run_id.in_(sorted(provider_run_ids)),
        )
    )
    return {provider_id: run_id for provider_id, run_id in result.all()}


def _message_row(session_id: int, run_ids: dict[str, int], m: MessageRecord) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "provider_session_id": m.provider_session_id,
        "seq": m.seq,
        "provider_event_id": m.provider_event_id,
        "parent_event_id": m.parent_event_id,
        "run_id": run_ids.get(m.provider_run_id) if m.provider_run_id else None,
        "provider_run_id": m.provider_run_id,
        "role": m.role.value,
        "content": m.content,
        "created_at": m.created_at,
        "model": m.model,
        "input_tokens": m.usage.input_tokens,
        "output_tokens": m.usage.output_tokens,
        "cache_read_tokens": m.usage.cache_read_tokens,
        "cache_write_tokens": m.usage.cache_write_tokens,
        "cost": m.usage.cost,
        "is_error": m.is_error,
    }


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
) -> None:
    if not batch.messages:
        return
    stmt = insert(_messages)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_messages.c.session_id, _messages.c.provider_session_id, _messages.c.seq],
        set_={col: stmt.excluded[col] for col in _MESSAGE_UPDATE_COLUMNS},
    )
    rows = [_message_row(session_id, run_ids, m) for m in batch.messages]
    for start in range(0, len(rows), CHUNK):
        await conn.execute(stmt, rows[start : start + CHUNK])


async def ingest_batch(
    conn: AsyncConnection, source_id: int, batch: SyncBatch, *, now: datetime
) -> Ingested:
    """Write one session's batch (inside the caller's transaction)."""
    session_id, created = await _upsert_session(conn, source_id, batch, now)
    run_ids = await _upsert_runs(conn, session_id, batch.session.agent_id, batch.runs)
    missing = {
        m.provider_run_id
        for m in batch.messages
        if m.provider_run_id and m.provider_run_id not in run_ids
    }
    run_ids.update(await _run_ids_for(conn, session_id, missing))
    await _replace_tail(conn, session_id, batch)
    await _upsert_messages(conn, session_id, run_ids, batch)
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
