"""GraphQL scalars and enums. The domain enums are registered with Strawberry in place, so
annotations use the real classes (GraphQL values are their member names: MAIN, TASK, …)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NewType

import strawberry
from strawberry.scalars import JSON

from observatory.db.enums import (
    CircuitState,
    MessageRole,
    ReviewerKind,
    ReviewJobStatus,
    Role,
    RunStatus,
    RunTrigger,
    SessionKind,
    SessionStatus,
    Verdict,
)

BigInt = NewType("BigInt", int)
BIGINT_SCALAR = strawberry.scalar(
    name="BigInt",
    description="A 64-bit integer (token counts, milliseconds), serialised as a JSON number.",
    serialize=int,
    parse_value=int,
)

# Times far outside any session's life only ever meant trouble: arithmetic on them overflowed
# (9999-12-31 plus a bucket) and naive values could not be compared with aware ones.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def parse_datetime(value: object) -> datetime:
    from observatory.graphql.errors import BadUserInput

    if not isinstance(value, str) or len(value) > 64:
        raise BadUserInput("a DateTime is an ISO 8601 string such as 2026-12-03T10:00:00Z")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadUserInput(f"not an ISO 8601 date-time: {value!r}") from None
    if parsed.tzinfo is None:
        raise BadUserInput(f"{value!r} has no UTC offset: add Z or +hh:mm")
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:
        raise BadUserInput(f"{value!r} is out of range") from None
    if not EARLIEST <= utc < LATEST:
        raise BadUserInput(f"{value!r} is out of range (1900 to 2999)")
    return utc


DATETIME_SCALAR = strawberry.scalar(
    name="DateTime",
    description="Date with time (ISO 8601, with a UTC offset), between 1900 and 2999.",
    serialize=datetime.isoformat,
    parse_value=parse_datetime,
)

strawberry.enum(SessionKind, description="main | task | heartbeat | cron | channel | other")
strawberry.enum(SessionStatus, description="pending → running → completed | failed → archived")
strawberry.enum(RunTrigger, description="What started a run.")
strawberry.enum(RunStatus)
strawberry.enum(MessageRole)
strawberry.enum(Verdict, description="Did the session accomplish its work?")
strawberry.enum(ReviewerKind)
strawberry.enum(Role)
strawberry.enum(CircuitState)
strawberry.enum(ReviewJobStatus, description="queued → running → done | failed")

__all__ = [
    "JSON",
    "BigInt",
    "CircuitState",
    "MessageRole",
    "ReviewerKind",
    "Role",
    "RunStatus",
    "RunTrigger",
    "SessionKind",
    "SessionStatus",
    "Verdict",
]
