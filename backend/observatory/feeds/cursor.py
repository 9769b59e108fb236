"""Feed positions and their opaque cursor form.

A position is ``(xid, id)``: the writing transaction's id, then the log sequence. Readers see
only rows below the oldest running transaction (:data:`HORIZON`), so positions are handed out in
an order no later commit can undercut: resuming "after" a position never skips a row.
"""

from __future__ import annotations

import base64
from typing import NamedTuple

from observatory.graphql.errors import BadUserInput, ObservatoryError

_PREFIX = "f1:"

# Every transaction with a smaller id has ended (committed or rolled back).
HORIZON = "(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"


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
