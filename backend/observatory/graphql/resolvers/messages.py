from __future__ import annotations

from sqlalchemy import select
from strawberry.types import Info

from observatory.db.models import Message
from observatory.graphql.pagination import Key, Page, keyset_page


async def list_messages(
    info: Info, *, session_id: int | None, run_id: int | None, first: int | None, after: str | None
) -> Page:
    base = select(Message)
    if session_id is not None:
        base = base.where(Message.session_id == session_id)
    if run_id is not None:
        base = base.where(Message.run_id == run_id)
    keys = [Key(Message.id, "int")]
    return await keyset_page(info, base, keys, first=first, after=after, descending=False)
