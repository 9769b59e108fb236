"""Small builders for review-loop test data (plain inserts, explicit values)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.db.models import Agent, Message, Review, Run, SyncSource
from observatory.db.models import Session as SessionRow

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


class Builder:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db
        self.source_id: int | None = None
        self.agents: set[str] = set()
        self.n = 0

    async def agent(self, agent_id: str) -> str:
        if self.source_id is None:
            src = SyncSource(name="test", kind="test")
            self.db.add(src)
            await self.db.flush()
            self.source_id = src.id
        if agent_id not in self.agents:
            self.db.add(Agent(id=agent_id))
            await self.db.flush()
            self.agents.add(agent_id)
        return agent_id

    async def session(
        self,
        agent: str = "sofia",
        *,
        kind: str = "task",
        status: str = "completed",
        started: datetime = NOW - timedelta(hours=2),
        ended: datetime | None = None,
        title: str = "Fix the build",
        model: str = "m-1",
        total_cost: Decimal | None = None,
        total_tokens: int | None = None,
        updated: datetime | None = None,
    ) -> int:
        await self.agent(agent)
        self.n += 1
        if ended is None and status in ("completed", "failed", "archived"):
            ended = started + timedelta(minutes=10)
        row = SessionRow(
            source_id=self.source_id,
            key=f"agent:{agent}:{kind}:{self.n}",
            agent_id=agent,
            provider_session_id=f"psid-{self.n}",
            kind=kind,
            status=status,
            title=title,
            model=model,
            started_at=started,
            updated_at=updated or ended or started,
            ended_at=ended,
            total_cost=total_cost,
            total_tokens=total_tokens,
            duration_ms=int((ended - started).total_seconds() * 1000) if ended else None,
        )
        self.db.add(row)
        await self.db.flush()
        return row.id

    async def run(
        self,
        session_id: int,
        agent: str = "sofia",
        *,
        trigger: str = "spawn",
        status: str = "completed",
        started: datetime = NOW - timedelta(hours=2),
        duration: timedelta = timedelta(minutes=2),
        model: str = "m-1",
        input_tokens: int | None = 1000,
        output_tokens: int | None = 100,
        cost: Decimal | None = Decimal("0.01"),
        error: str | None = None,
        prompt: str | None = None,
        outcome: str | None = None,
        tool_calls: int = 0,
        tool_errors: int = 0,
    ) -> int:
        self.n += 1
        finished = None if status == "running" else started + duration
        row = Run(
            session_id=session_id,
            agent_id=agent,
            provider_run_id=f"run-{self.n}",
            trigger=trigger,
            status=status,
            started_at=started,
            finished_at=finished,
            duration_ms=None if finished is None else int(duration.total_seconds() * 1000),
            model=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost=cost,
            error=error,
            prompt_preview=prompt,
            outcome_preview=outcome,
            tool_call_count=tool_calls,
            tool_error_count=tool_errors,
        )
        self.db.add(row)
        await self.db.flush()
        return row.id

    async def messages(
        self,
        session_id: int,
        rows: list[tuple[str, list[dict[str, Any]]]],
        *,
        run_id: int | None = None,
        start: datetime = NOW - timedelta(hours=2),
        is_error: list[bool] | None = None,
        psid: str | None = None,
    ) -> None:
        values = [
            {
                "session_id": session_id,
                "provider_session_id": psid or f"psid-s{session_id}",
                "seq": i,
                "run_id": run_id,
                "role": role,
                "content": {"blocks": blocks},
                "created_at": start + timedelta(seconds=i),
                "is_error": bool(is_error[i]) if is_error else False,
            }
            for i, (role, blocks) in enumerate(rows)
        ]
        await self.db.execute(insert(Message), values)

    async def review(
        self,
        session_id: int,
        verdict: str,
        *,
        run_id: int | None = None,
        kind: str = "human",
        rating: int = 4,
        model: str | None = None,
        confidence: float | None = None,
        summary: str = "",
        at: datetime = NOW,
        api_key_id: int | None = None,
    ) -> int:
        row = Review(
            session_id=session_id,
            run_id=run_id,
            verdict=verdict,
            rating=rating,
            summary=summary,
            reviewer_kind=kind,
            reviewer_model=model if kind == "ai" else None,
            confidence=confidence,
            created_by_api_key_id=api_key_id,
            created_at=at,
            updated_at=at,
        )
        self.db.add(row)
        await self.db.flush()
        return row.id

    async def api_key(self, name: str = "alice") -> int:
        return int(
            await self.db.scalar(
                text(
                    "INSERT INTO api_keys (name, prefix, hash, role) "
                    "VALUES (:n, :p, :h, 'reviewer') RETURNING id"
                ),
                {"n": name, "p": f"p{name}"[:32], "h": f"h{name}"},
            )
        )


def text_block(s: str) -> dict[str, Any]:
    return {"type": "text", "text": s}


def simple_transcript(
    ask: str = "Fix the build", answer: str = "Done: build is green."
) -> list[tuple[str, list[dict[str, Any]]]]:
    return [
        ("user", [text_block(ask)]),
        (
            "assistant",
            [
                text_block("Running the tests."),
                {"type": "tool_call", "id": "c1", "name": "exec", "arguments": {"cmd": "make"}},
            ],
        ),
        (
            "tool_result",
            [
                {
                    "type": "tool_result",
                    "tool_call_id": "c1",
                    "name": "exec",
                    "text": "ok",
                    "is_error": False,
                }
            ],
        ),
        ("assistant", [text_block(answer)]),
    ]


def dumps(v: Any) -> str:
    return json.dumps(v)
