"""Relay-style connections with keyset cursors; ``totalCount`` runs its query only when selected."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select, func, select
from strawberry.types import Info

from observatory.graphql.types.core import Message, Review, Run, Session


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


async def _count(info: Info, stmt: Select[Any] | None) -> int:
    if stmt is None:
        return 0
    async with info.context.db() as db:
        return int(
            await db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        )


@strawberry.type
class SessionEdge:
    cursor: str
    node: Session


@strawberry.type
class SessionConnection:
    edges: list[SessionEdge]
    page_info: PageInfo
    _count_stmt: strawberry.Private[Select[Any] | None]

    @strawberry.field(description="Rows matching the filter (computed only when selected).")
    async def total_count(self, info: Info) -> int:
        return await _count(info, self._count_stmt)


@strawberry.type
class RunEdge:
    cursor: str
    node: Run


@strawberry.type
class RunConnection:
    edges: list[RunEdge]
    page_info: PageInfo
    _count_stmt: strawberry.Private[Select[Any] | None]

    @strawberry.field(description="Rows matching the filter (computed only when selected).")
    async def total_count(self, info: Info) -> int:
        return await _count(info, self._count_stmt)


@strawberry.type
class MessageEdge:
    cursor: str
    node: Message


@strawberry.type
class MessageConnection:
    edges: list[MessageEdge]
    page_info: PageInfo
    _count_stmt: strawberry.Private[Select[Any] | None]

    @strawberry.field(description="Rows matching the filter (computed only when selected).")
    async def total_count(self, info: Info) -> int:
        return await _count(info, self._count_stmt)


@strawberry.type
class ReviewEdge:
    cursor: str
    node: Review


@strawberry.type
class ReviewConnection:
    edges: list[ReviewEdge]
    page_info: PageInfo
    _count_stmt: strawberry.Private[Select[Any] | None]

    @strawberry.field(description="Rows matching the filter (computed only when selected).")
    async def total_count(self, info: Info) -> int:
        return await _count(info, self._count_stmt)
