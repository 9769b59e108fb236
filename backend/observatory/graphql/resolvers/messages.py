from __future__ import annotations

from sqlalchemy import select
from strawberry.types import Info

from observatory.db.models import Message
from observatory.graphql.pagination import decode_cursor, encode_cursor, page_size
from observatory.graphql.resolvers.common import cursor_value
from observatory.graphql.types.connections import MessageConnection, MessageEdge, PageInfo
from observatory.graphql.types.core import Message as MessageType


async def list_messages(
    info: Info, *, session_id: int | None, run_id: int | None, first: int | None, after: str | None
) -> MessageConnection:
    limit = page_size(first, info.context.settings.max_page_size)
    base = select(Message)
    if session_id is not None:
        base = base.where(Message.session_id == session_id)
    if run_id is not None:
        base = base.where(Message.run_id == run_id)
    stmt = base
    cursor = decode_cursor(after, 1)
    if cursor is not None:
        stmt = stmt.where(Message.id > cursor_value("int", cursor[0]))
    stmt = stmt.order_by(Message.id).limit(limit + 1)
    async with info.context.db() as db:
        rows = list((await db.execute(stmt)).scalars())
    has_next = len(rows) > limit
    rows = rows[:limit]
    edges = [MessageEdge(cursor=encode_cursor(m.id), node=MessageType.from_row(m)) for m in rows]
    return MessageConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None),
        _count_stmt=base,
    )
