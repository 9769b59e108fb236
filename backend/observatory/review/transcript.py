"""Load a review target (a session, or one run of it) and render its messages as text.

Content is the neutral message model (``observatory.sync.source.MessageContent``); anything
else (a bare string, an unknown block type) is rendered tolerantly rather than dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.db.models import Run
from observatory.db.models import Session as SessionRow
from observatory.review.writes import TargetNotFound
from observatory.sync.source import (
    Compaction,
    MessageContent,
    TextBlock,
    ToolCall,
    ToolResult,
)

ARG_CHARS = 400


@dataclass(frozen=True)
class ToolError:
    ordinal: int
    tool: str
    text: str


@dataclass(frozen=True)
class TranscriptMessage:
    ordinal: int  # 1-based position in the target's transcript: the "#n" reference
    message_id: int | None
    role: str
    text: str
    is_error: bool = False
    created_at: datetime | None = None
    tool_errors: tuple[ToolError, ...] = ()

    @property
    def ref(self) -> str:
        return f"#{self.ordinal}"


@dataclass
class TargetInfo:
    session_id: int
    run_id: int | None
    agent_id: str
    kind: str
    status: str
    title: str | None
    key: str
    model: str | None
    started_at: datetime | None
    ended_at: datetime | None
    trigger: str | None = None  # for a run target
    runs: int = 0
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: Decimal | None = None
    duration_ms: int | None = None
    tool_calls: int = 0
    tool_errors: int = 0
    run_errors: list[str] = field(default_factory=list)
    ask_fallback: str | None = None  # run.prompt_preview when the transcript is not cached
    outcome_fallback: str | None = None


def _short(value: Any, limit: int) -> str:
    raw = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return raw if len(raw) <= limit else raw[:limit] + f"…[+{len(raw) - limit} chars]"


def render_content(content: Any) -> tuple[str, list[tuple[str, str]]]:
    """Text of one message and its tool errors as (tool name, error text)."""
    if isinstance(content, str):
        return content, []
    if not isinstance(content, dict):
        return _short(content, 2000), []
    if not isinstance(content.get("blocks"), list):
        if isinstance(content.get("text"), str):
            return content["text"], []
        return _short(content, 2000), []
    parts: list[str] = []
    errors: list[tuple[str, str]] = []
    for block in MessageContent.from_json(content).blocks:
        if isinstance(block, TextBlock):
            if not block.thinking:  # private reasoning: long, and not what is graded
                parts.append(block.text)
        elif isinstance(block, ToolCall):
            parts.append(f"→ call {block.name}({_short(block.arguments, ARG_CHARS)})")
        elif isinstance(block, ToolResult):
            name = block.name or "tool"
            if block.is_error:
                errors.append((name, block.text))
                parts.append(f"← {name} ERROR: {block.text}")
            else:
                parts.append(f"← {name}: {block.text}")
        elif isinstance(block, Compaction):
            parts.append(f"[compacted] {block.summary or ''}")
        else:
            parts.append(_short(block.data, 500))
    return "\n".join(p for p in parts if p), errors


async def load_target(
    db: AsyncSession,
    session_id: int,
    run_id: int | None = None,
    *,
    head: int = 300,
    tail: int = 3000,
    max_errors: int = 200,
) -> tuple[TargetInfo, list[TranscriptMessage], int]:
    """The target's facts, a bounded selection of its messages (first ``head``, last ``tail`` and
    error messages, each with its ordinal), and the total message count."""
    session = await db.get(SessionRow, session_id)
    if session is None:
        raise TargetNotFound(f"session {session_id} not found")
    info = TargetInfo(
        session_id=session.id,
        run_id=run_id,
        agent_id=session.agent_id,
        kind=str(session.kind),
        status=str(session.status),
        title=session.title,
        key=session.key,
        model=session.model,
        started_at=session.started_at,
        ended_at=session.ended_at,
    )
    if run_id is not None:
        run = await db.get(Run, run_id)
        if run is None or run.session_id != session_id:
            raise TargetNotFound(f"run {run_id} not found in session {session_id}")
        info.trigger = str(run.trigger)
        info.status = str(run.status)
        info.model = run.model or session.model
        info.started_at, info.ended_at = run.started_at, run.finished_at
        info.runs = 1
        info.input_tokens, info.output_tokens, info.cost = (
            run.input_tokens,
            run.output_tokens,
            run.cost,
        )
        info.duration_ms = run.duration_ms
        info.tool_calls, info.tool_errors = run.tool_call_count, run.tool_error_count
        info.run_errors = [run.error] if run.error else []
        info.ask_fallback, info.outcome_fallback = run.prompt_preview, run.outcome_preview
    else:
        agg = (
            await db.execute(
                select(
                    func.count(),
                    func.sum(Run.input_tokens),
                    func.sum(Run.output_tokens),
                    func.sum(Run.cost),
                    func.coalesce(func.sum(Run.tool_call_count), 0),
                    func.coalesce(func.sum(Run.tool_error_count), 0),
                ).where(Run.session_id == session_id)
            )
        ).one()
        info.runs, info.input_tokens, info.output_tokens, info.cost = agg[0], agg[1], agg[2], agg[3]
        info.tool_calls, info.tool_errors = int(agg[4]), int(agg[5])
        info.duration_ms = session.duration_ms
        errors = await db.execute(
            select(Run.error)
            .where(Run.session_id == session_id, Run.error.is_not(None))
            .order_by(Run.started_at)
            .limit(20)
        )
        info.run_errors = [e for (e,) in errors if e]
        first_last = (
            await db.execute(
                select(Run.prompt_preview, Run.outcome_preview)
                .where(Run.session_id == session_id)
                .order_by(Run.started_at)
            )
        ).all()
        if first_last:
            info.ask_fallback = first_last[0][0]
            info.outcome_fallback = first_last[-1][1]
    messages, total = await _load_messages(db, session_id, run_id, head, tail, max_errors)
    return info, messages, total


async def _load_messages(
    db: AsyncSession, session_id: int, run_id: int | None, head: int, tail: int, max_errors: int
) -> tuple[list[TranscriptMessage], int]:
    where = "m.run_id = :run_id" if run_id is not None else "m.session_id = :session_id"
    sql = f"""
    WITH numbered AS (
      SELECT m.id, m.role, m.created_at, m.is_error,
             row_number() OVER (ORDER BY m.created_at, m.seq, m.id) AS ord,
             count(*) OVER () AS total
      FROM messages m WHERE {where}
    ), picked AS (
      SELECT * FROM numbered WHERE ord <= :head OR ord > total - :tail
      UNION
      (SELECT * FROM numbered WHERE is_error ORDER BY ord LIMIT :max_errors)
    )
    SELECT p.id, p.role, m.content, p.created_at, p.is_error, p.ord, p.total
    FROM picked p JOIN messages m ON m.id = p.id ORDER BY p.ord
    """
    params = {
        "run_id": run_id,
        "session_id": session_id,
        "head": head,
        "tail": tail,
        "max_errors": max_errors,
    }
    rows = (await db.execute(text(sql), params)).all()
    total = int(rows[0].total) if rows else 0
    out: list[TranscriptMessage] = []
    for row in rows:
        body, errors = render_content(row.content)
        out.append(
            TranscriptMessage(
                ordinal=int(row.ord),
                message_id=int(row.id),
                role=str(row.role),
                text=body,
                is_error=bool(row.is_error),
                created_at=row.created_at,
                tool_errors=tuple(ToolError(int(row.ord), n, t) for n, t in errors),
            )
        )
    return out, total
