from __future__ import annotations

from sqlalchemy import select
from strawberry.types import Info

from observatory.db.models import Message
from observatory.graphql.pagination import Key, Page, first_page, keyset_page


async def list_messages(
    info: Info, *, session_id: int | None, run_id: int | None, first: int | None, after: str | None
) -> Page:
    base = select(Message)
    if session_id is not None:
        base = base.where(Message.session_id == session_id)
    if run_id is not None:
        base = base.where(Message.run_id == run_id)
    keys = [Key(Message.id, "int")]
    if after is None and (session_id is None) != (run_id is None):
        # A first page, likely one of many under a list: batched (one statement per request).
        loaders = info.context.loaders
        if session_id is not None:
            return await first_page(
                info, loaders.first_messages_by_session, session_id, base, keys, first
            )
        assert run_id is not None
        return await first_page(info, loaders.first_messages_by_run, run_id, base, keys, first)
    return await keyset_page(info, base, keys, first=first, after=after, descending=False)
