from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.scalars import JSON

from observatory.db import enums

BigInt = NewType("BigInt", int)
BIGINT_SCALAR = strawberry.scalar(
    name="BigInt",
    description="A 64-bit integer (token counts, milliseconds), serialised as a JSON number.",
    serialize=int,
    parse_value=int,
)

SessionKind = strawberry.enum(
    enums.SessionKind, description="main | task | heartbeat | cron | channel | other"
)
SessionStatus = strawberry.enum(
    enums.SessionStatus, description="pending → running → completed | failed → archived"
)
RunTrigger = strawberry.enum(enums.RunTrigger, description="What started a run.")
RunStatus = strawberry.enum(enums.RunStatus)
MessageRole = strawberry.enum(enums.MessageRole)
Verdict = strawberry.enum(enums.Verdict, description="Did the session accomplish its work?")
ReviewerKind = strawberry.enum(enums.ReviewerKind)
Role = strawberry.enum(enums.Role)
CircuitState = strawberry.enum(enums.CircuitState)

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
