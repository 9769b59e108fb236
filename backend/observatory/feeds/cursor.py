"""Feed positions and their opaque cursor form.

A position is ``(xid, id)``: the writing transaction's id, then the log sequence. Readers see
only rows below the oldest running transaction of this database (:data:`HORIZON`), so positions are handed out in
an order no later commit can undercut: resuming "after" a position never skips a row.
"""

from __future__ import annotations

import base64
from typing import NamedTuple

from observatory.graphql.errors import BadUserInput, ObservatoryError

_PREFIX = "f1:"

# Every transaction of this database with a smaller id has ended (committed or rolled back).
# Transaction ids are cluster-wide, so the plain snapshot xmin would let any open writer in
# ANY database of the cluster hold every feed back: a 15-minute COPY into another database
# froze all subscriptions here for its whole length (2026-12-03). Writers known to run in
# another database (pg_stat_activity) cannot write this database's feed_events, so they are
# skipped; anything unknown (no row, no privilege to see it) still holds the horizon. A
# backend never changes database and an xid is never reused while running, so a stale view
# of pg_stat_activity (it is cached per transaction) can only hold the horizon, never skip.
HORIZON = """(SELECT COALESCE(
  (SELECT min(x::text::bigint) FROM pg_snapshot_xip(s.snap) AS x
   WHERE (x::text::bigint % 4294967296) NOT IN (
     SELECT a.backend_xid::text::bigint FROM pg_stat_activity a
     WHERE a.backend_xid IS NOT NULL
       AND a.datid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database()))),
  pg_snapshot_xmax(s.snap)::text::bigint)
 FROM (SELECT pg_current_snapshot() AS snap) AS s)"""


class CursorExpired(ObservatoryError):
    """The cursor points before the retained log: re-query the current state, then follow
    live from the cursor that comes with the next event."""

    code = "CURSOR_EXPIRED"


class Position(NamedTuple):
    xid: int
    id: int

    def encode(self) -> str:
        raw = f"{_PREFIX}{self.xid}.{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str, field: str = "after") -> Position:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            if not raw.startswith(_PREFIX) or len(cursor) > 80:
                raise ValueError
            xid, _, ident = raw[len(_PREFIX) :].partition(".")
            pos = cls(int(xid), int(ident))
        except (ValueError, UnicodeDecodeError):
            raise BadUserInput("not a feed cursor", field=field) from None
        if pos.xid < 0 or pos.id < 0 or pos.xid >= 2**63 or pos.id >= 2**63:
            raise BadUserInput("not a feed cursor", field=field)
        return pos
