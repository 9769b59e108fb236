"""GraphQL scalars and enums. The domain enums are registered with Strawberry in place, so
annotations use the real classes (GraphQL values are their member names: MAIN, TASK, …)."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.scalars import JSON

from observatory.db.enums import (
    CircuitState,
    MessageRole,
    ReviewerKind,
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

strawberry.enum(SessionKind, description="main | task | heartbeat | cron | channel | other")
strawberry.enum(SessionStatus, description="pending → running → completed | failed → archived")
strawberry.enum(RunTrigger, description="What started a run.")
strawberry.enum(RunStatus)
strawberry.enum(MessageRole)
strawberry.enum(Verdict, description="Did the session accomplish its work?")
strawberry.enum(ReviewerKind)
strawberry.enum(Role)
strawberry.enum(CircuitState)

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
