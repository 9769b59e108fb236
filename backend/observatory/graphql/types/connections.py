"""Relay-style connections with keyset cursors; ``totalCount`` runs its query only when selected.

One generic pair, specialised beside each node type (``types/core.py``: Strawberry names
``Edge[Session]`` ``SessionEdge``); this module imports no node type, so nothing circles back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Self, TypeVar

import strawberry
from sqlalchemy import Select, func, select
from strawberry.types import Info

from observatory.graphql.pagination import Page

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

    @classmethod
    def of(cls, page: Page, node: Callable[[Any], N]) -> Self:
        edges = [Edge(cursor=c, node=node(r)) for r, c in zip(page.rows, page.cursors, strict=True)]
        end = edges[-1].cursor if edges else None
        return cls(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=end),
            _count_stmt=page.base,
        )

    @strawberry.field(description="Rows matching the filter (computed only when selected).")
    async def total_count(self, info: Info) -> int:
        if self._count_stmt is None:
            return 0
        count = select(func.count()).select_from(self._count_stmt.order_by(None).subquery())
        async with info.context.db() as db:
            return int(await db.scalar(count) or 0)
