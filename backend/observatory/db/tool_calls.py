"""The ``tool_calls`` table and its one writer: every tool call of the cached transcripts, paired
with its result, derived from the provider-neutral message blocks stored in ``messages.content``.

Sync derives the rows of the messages it just wrote, in the same transaction (``derive``);
migration 0070 and the demo loader derive every message at once (``DERIVE_ALL``). Deriving is
idempotent: a call row is keyed by (call message, block index) and re-deriving overwrites it.

A call is *pending* until a ``tool_result`` block with its id arrives (``result_at`` null), never
an error. An error's ``error_fingerprint`` is its text with ids, paths, URLs, numbers and quoted
values replaced by placeholders (SQL function ``observatory_tool_error_fingerprint``, migration
0070), so "ENOENT … '/a/b'" and "ENOENT … '/c/d'" are one group; ``error_text`` keeps the first
raw text (2,000 characters).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped, mapped_column

from observatory.db.models import Base

ERROR_TEXT_CHARS = 2000


class ToolCallRow(Base):
    __tablename__ = "tool_calls"
    __table_args__ = (
        UniqueConstraint("call_message_id", "block_index"),
        # Results find their call by id within the session.
        Index("ix_tool_calls_session_call", "session_id", "tool_call_id"),
        # Summaries and series read a time range index-only (the columns they group and filter on).
        Index(
            "ix_tool_calls_called",
            "called_at",
            postgresql_include=[
                "tool_name",
                "agent_id",
                "model",
                "kind",
                "is_error",
                "result_at",
                "duration_ms",
                "session_id",
            ],
        ),
        # Error groups of one tool, and a group's failed calls newest first.
        Index(
            "ix_tool_calls_errors",
            "tool_name",
            "error_fingerprint",
            text("called_at DESC"),
            text("id DESC"),
            postgresql_where=text("is_error"),
        ),
        Index("ix_tool_calls_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    agent_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # the session's kind, for the kind filter
    call_message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    block_index: Mapped[int] = mapped_column(SmallInteger)
    tool_call_id: Mapped[str | None] = mapped_column(String(200))
    tool_name: Mapped[str] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(200))  # of the calling assistant message
    called_at: Mapped[datetime]
    result_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    result_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    is_error: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    error_fingerprint: Mapped[str | None] = mapped_column(Text)
    error_text: Mapped[str | None] = mapped_column(Text)


def _blocks(alias: str) -> str:
    # Malformed content (no block list) derives nothing rather than failing the sync.
    return (
        f"jsonb_array_elements(CASE WHEN jsonb_typeof({alias}.content->'blocks') = 'array' "
        f"THEN {alias}.content->'blocks' ELSE '[]'::jsonb END) WITH ORDINALITY AS b(value, ord)"
    )


def _call_rows(where: str) -> str:
    return f"""
    SELECT m.session_id, m.run_id, s.agent_id, s.kind, m.id AS call_message_id,
        (b.ord - 1)::smallint AS block_index, left(b.value->>'id', 200) AS tool_call_id,
        left(coalesce(b.value->>'name', '?'), 200) AS tool_name, m.model, m.created_at AS called_at
    FROM messages m JOIN sessions s ON s.id = m.session_id
    CROSS JOIN LATERAL {_blocks("m")}
    WHERE b.value->>'type' = 'tool_call' AND {where}
    """


def _result_rows(where: str) -> str:
    # Matched by call id within the run (some models number their calls per turn, so `call_1`
    # recurs in a session); the first result wins (a provider that retries appends another).
    return f"""
    SELECT DISTINCT ON (m.session_id, m.run_id, b.value->>'tool_call_id') m.id AS mid,
        m.session_id, m.run_id, m.created_at, b.value->>'tool_call_id' AS call_id,
        coalesce(b.value->'is_error' = 'true'::jsonb, false) AS is_error,
        coalesce(b.value->>'text', '') AS body
    FROM messages m CROSS JOIN LATERAL {_blocks("m")}
    WHERE b.value->>'type' = 'tool_result' AND b.value->>'tool_call_id' IS NOT NULL AND {where}
    ORDER BY m.session_id, m.run_id, b.value->>'tool_call_id', m.provider_session_id, m.seq
    """


_CALL_COLUMNS = (
    "session_id, run_id, agent_id, kind, call_message_id, block_index, tool_call_id, tool_name, "
    "model, called_at"
)
_DURATION = "greatest(0, (extract(epoch FROM r.created_at - {called}) * 1000)::bigint)"
_FINGERPRINT = "CASE WHEN r.is_error THEN observatory_tool_error_fingerprint(r.body) END"
_ERROR_TEXT = f"CASE WHEN r.is_error THEN left(r.body, {ERROR_TEXT_CHARS}) END"


def _calls(where: str) -> str:
    return f"""
    INSERT INTO tool_calls AS t ({_CALL_COLUMNS}) {_call_rows(where)}
    ON CONFLICT (call_message_id, block_index) DO UPDATE SET
        run_id = EXCLUDED.run_id, agent_id = EXCLUDED.agent_id, kind = EXCLUDED.kind,
        tool_call_id = EXCLUDED.tool_call_id, tool_name = EXCLUDED.tool_name,
        model = EXCLUDED.model, called_at = EXCLUDED.called_at,
        duration_ms = CASE WHEN t.result_at IS NULL THEN NULL ELSE greatest(0,
            (extract(epoch FROM t.result_at - EXCLUDED.called_at) * 1000)::bigint) END
    """


def _results(where: str) -> str:
    return f"""
    UPDATE tool_calls t SET result_message_id = r.mid, result_at = r.created_at,
        duration_ms = {_DURATION.format(called="t.called_at")}, is_error = r.is_error,
        error_fingerprint = {_FINGERPRINT}, error_text = {_ERROR_TEXT}
    FROM ({_result_rows(where)}) r
    WHERE t.session_id = r.session_id AND t.tool_call_id = r.call_id
        AND t.run_id IS NOT DISTINCT FROM r.run_id
    """


# Every message at once (the demo loader; migration 0070 keeps a literal copy): calls joined to
# their results in one INSERT, so no row is written twice.
DERIVE_ALL = f"""
    INSERT INTO tool_calls ({_CALL_COLUMNS}, result_message_id, result_at, duration_ms,
        is_error, error_fingerprint, error_text)
    SELECT c.*, r.mid, r.created_at,
        CASE WHEN r.mid IS NOT NULL THEN {_DURATION.format(called="c.called_at")} END,
        coalesce(r.is_error, false), {_FINGERPRINT}, {_ERROR_TEXT}
    FROM ({_call_rows("true")}) c
    LEFT JOIN ({_result_rows("true")}) r ON r.session_id = c.session_id
        AND r.call_id = c.tool_call_id AND coalesce(r.run_id, 0) = coalesce(c.run_id, 0)
"""


# Calls whose message was rewritten without them (a transcript re-read from a run's start).
_DROP_STALE = """
    DELETE FROM tool_calls t WHERE t.call_message_id = ANY($1::bigint[])
      AND NOT EXISTS (
        SELECT 1 FROM messages m CROSS JOIN LATERAL {blocks}
        WHERE m.id = t.call_message_id AND b.value->>'type' = 'tool_call'
          AND b.ord - 1 = t.block_index)
""".format(blocks=_blocks("m"))

_CALLS_FOR = _calls("m.id = ANY($1::bigint[])")
# Results in the batch, and results already stored for calls the batch (re-)wrote that still
# lack one: those come after their call, so the session's messages from the earliest such
# call message on (ix_messages_session_id) -- in an ordinary incremental pass that is the batch.
_PENDING_FROM = """
    SELECT min(call_message_id) FROM tool_calls
    WHERE call_message_id = ANY($1::bigint[]) AND result_at IS NULL
"""
_RESULTS_FOR = _results("(m.id = ANY($1::bigint[]) OR (m.session_id = $2 AND m.id >= $3::bigint))")


async def derive(conn: AsyncConnection, session_id: int, message_ids: Sequence[int]) -> None:
    """(Re-)derive the tool calls and results in one session's given messages (in the caller's
    transaction)."""
    if not message_ids:
        return
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    ids = list(message_ids)
    await driver.execute(_DROP_STALE, ids)
    await driver.execute(_CALLS_FOR, ids)
    pending_from = await driver.fetchval(_PENDING_FROM, ids)
    await driver.execute(_RESULTS_FOR, ids, session_id, pending_from)
