"""The dashboard's "download CSV": the filtered sessions list, authorised like any query."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import strawberry
from sqlalchemy import and_, select
from strawberry.types import Info

from observatory.auth.scopes import Scope
from observatory.db.models import Session
from observatory.export.tables import What, table
from observatory.export.writers import CsvWriter
from observatory.graphql.errors import BadUserInput
from observatory.graphql.permissions import scoped
from observatory.graphql.resolvers.sessions import SessionFilter, session_conditions

MAX_CSV_ROWS = 20_000  # ~5 MB of CSV in one response; the CLI export has no limit
COLUMNS = (
    "id", "key", "agent_id", "kind", "status", "title", "model", "channel", "parent_key",
    "started_at", "updated_at", "ended_at", "run_count", "total_tokens", "total_cost",
    "duration_ms", "latest_verdict",
)  # fmt: skip


@strawberry.type
class CsvFile:
    filename: str
    row_count: int
    truncated: bool = strawberry.field(description="More sessions matched than `limit`.")
    content: str


@strawberry.type
class ExportQuery:
    @scoped(
        Scope.SESSIONS_READ,
        description=f"Sessions matching the filter as CSV, newest first (at most {MAX_CSV_ROWS}).",
    )
    async def sessions_csv(
        self, info: Info, filter: SessionFilter | None = None, limit: int = 5000
    ) -> CsvFile:
        if not 1 <= limit <= MAX_CSV_ROWS:
            raise BadUserInput(f"limit must be 1 to {MAX_CSV_ROWS}", field="limit")
        conds = session_conditions(filter)
        cols = [getattr(Session, c) for c in COLUMNS]
        stmt = select(*cols)
        if conds:
            stmt = stmt.where(and_(*conds))
        stmt = stmt.order_by(Session.started_at.desc(), Session.id.desc()).limit(limit + 1)
        buffer = io.StringIO()
        sessions = table(What.SESSIONS)
        writer = CsvWriter(buffer, [sessions.c[c] for c in COLUMNS])
        async with info.context.db() as db:
            rows = (await db.execute(stmt)).all()
        writer.write(rows[:limit])
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return CsvFile(
            filename=f"sessions-{stamp}.csv",
            row_count=min(len(rows), limit),
            truncated=len(rows) > limit,
            content=buffer.getvalue(),
        )
