"""Relay-style connections with keyset cursors; ``totalCount`` runs its query only when selected.

One generic pair, specialised per node type (Strawberry names ``Edge[Session]`` ``SessionEdge``).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import Select, func, select
from strawberry.types import Info

from observatory.graphql.types.core import Message, Review, Run, Session

N = TypeVar("N")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo
    _count_stmt: strawberry.Private[Select[Any] | None]

    @strawberry.field(description="Rows matching the filter (computed only when selected).")
    async def total_count(self, info: Info) -> int:
        if self._count_stmt is None:
            return 0
        count = select(func.count()).select_from(self._count_stmt.order_by(None).subquery())
        async with info.context.db() as db:
            return int(await db.scalar(count) or 0)


# Named subclasses (not aliases) so that other modules can reference them lazily by name.
SessionEdge = Edge[Session]
RunEdge = Edge[Run]
MessageEdge = Edge[Message]
ReviewEdge = Edge[Review]


@strawberry.type
class SessionConnection(Connection[Session]):
    pass


@strawberry.type
class RunConnection(Connection[Run]):
    pass


@strawberry.type
class MessageConnection(Connection[Message]):
    pass


@strawberry.type
class ReviewConnection(Connection[Review]):
    pass
