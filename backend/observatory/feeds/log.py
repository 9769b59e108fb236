"""Reading the feed log: latest event per entity after a position, below the commit horizon."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.feeds.cursor import HORIZON, CursorExpired, Position

# Positions at or below this mark were pruned (retention): older cursors cannot resume.
PRUNED = "pruned"
_MAX_ID = 2**63 - 1


class Change(NamedTuple):
    entity_id: int
    kind: str
    position: Position


async def horizon(db: AsyncSession) -> int:
    """The oldest transaction id still running: every event below it is final."""
    return int((await db.execute(text(f"SELECT {HORIZON}"))).scalar_one())


def now_position(h: int) -> Position:
    """Just before every event a transaction at or after ``h`` writes: "from now on"."""
    return Position(h - 1, _MAX_ID)


# "From now" reaches back this far: a subscribe racing a write (the client sends both at
# once, the server starts the feed a few ms later) still gets that write. Extra events from
# just before are harmless to a client that asked for "now"; a missed one is not.
_GRACE_S = 0.25


async def start_now(db: AsyncSession) -> Position:
    """Where a feed without a cursor starts: now, less a short grace period."""
    h = await horizon(db)
    row = (
        await db.execute(
            text(
                "SELECT xid, id FROM feed_events "
                "WHERE created_at >= now() - make_interval(secs => :grace) "
                "ORDER BY xid, id LIMIT 1"
            ),
            {"grace": _GRACE_S},
        )
    ).first()
    pos = now_position(h)
    if row is not None:
        pos = min(pos, Position(row.xid, row.id - 1))
    return pos


async def check_retained(db: AsyncSession, after: Position) -> None:
    row = (
        await db.execute(
            text("SELECT xid, event_id FROM feed_marks WHERE name = :n"), {"n": PRUNED}
        )
    ).first()
    if row is not None and after < Position(row.xid, row.event_id):
        raise CursorExpired(
            "this cursor is older than the retained feed; re-query the current state and "
            "follow live from there",
            field="after",
        )


_LATEST = """
SELECT entity_id, kind, xid, id FROM (
  SELECT DISTINCT ON (entity_id) entity_id, kind, xid, id FROM feed_events
  WHERE kind = ANY(:kinds) AND (xid, id) > (:x, :i) AND xid < :h
  ORDER BY entity_id, xid DESC, id DESC
) latest
WHERE (xid, id) > (:px, :pi)
ORDER BY xid, id
LIMIT :n
"""


async def latest(
    db: AsyncSession,
    kinds: Sequence[str],
    after: Position,
    below: int,
    page_after: Position | None = None,
    limit: int = 500,
) -> list[Change]:
    """Each entity's latest event in ``(after, below)``, in position order, one page.

    ``below`` is a horizon read earlier (:func:`horizon`): the span is final, so paging with
    ``page_after`` (the last position of the previous page) walks a fixed set."""
    p = page_after or after
    rows = (
        await db.execute(
            text(_LATEST),
            {
                "kinds": list(kinds),
                "x": after.xid,
                "i": after.id,
                "h": below,
                "px": p.xid,
                "pi": p.id,
                "n": limit,
            },
        )
    ).all()
    return [Change(r.entity_id, r.kind, Position(r.xid, r.id)) for r in rows]


_EVERY = f"""
SELECT entity_id, kind, xid, id FROM feed_events
WHERE (xid, id) > (:x, :i) AND xid < {HORIZON}
ORDER BY xid, id
LIMIT :n
"""


async def every(db: AsyncSession, after: Position, limit: int = 500) -> list[Change]:
    """Every event after ``after`` (not collapsed per entity), below the horizon: webhooks."""
    rows = (await db.execute(text(_EVERY), {"x": after.xid, "i": after.id, "n": limit})).all()
    return [Change(r.entity_id, r.kind, Position(r.xid, r.id)) for r in rows]
