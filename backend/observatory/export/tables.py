"""What can be exported and how each is filtered: one row source per ``--what``.

Rows stream from a server-side cursor in batches (``yield_per``), so memory stays flat however
many rows match. Time bounds apply to each table's own time column; ``--agent`` reaches
messages and reviews through their session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Select, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from observatory.db.migrate import load_models

BATCH = 2000


class What(StrEnum):
    SESSIONS = "sessions"
    RUNS = "runs"
    MESSAGES = "messages"
    REVIEWS = "reviews"


_TIME = {
    What.SESSIONS: "started_at",
    What.RUNS: "started_at",
    What.MESSAGES: "created_at",
    What.REVIEWS: "created_at",
}


@dataclass(frozen=True)
class Scope:
    since: datetime | None = None
    until: datetime | None = None
    agents: Sequence[str] = ()


def table(what: What) -> Table:
    return load_models().tables[what.value]


def columns(what: What) -> list[Column[Any]]:
    return list(table(what).columns)


def query(what: What, scope: Scope) -> Select[Any]:
    t = table(what)
    at = t.c[_TIME[what]]
    stmt = select(*t.columns)
    if scope.since is not None:
        stmt = stmt.where(at >= scope.since)
    if scope.until is not None:
        stmt = stmt.where(at < scope.until)
    if scope.agents:
        if "agent_id" in t.c:
            stmt = stmt.where(t.c.agent_id.in_(scope.agents))
        else:
            sessions = table(What.SESSIONS)
            mine = select(sessions.c.id).where(sessions.c.agent_id.in_(scope.agents))
            stmt = stmt.where(t.c.session_id.in_(mine))
    return stmt.order_by(at, t.c.id)


async def stream(
    engine: AsyncEngine, what: What, scope: Scope
) -> AsyncIterator[Sequence[Sequence[Any]]]:
    """Batches of rows (tuples in ``columns(what)`` order) from a server-side cursor."""
    async with engine.connect() as conn:
        result = await conn.stream(query(what, scope).execution_options(yield_per=BATCH))
        async for batch in result.partitions(BATCH):
            yield batch
