from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from observatory.db.enums import CircuitState
from observatory.db.models import SyncSource
from observatory.sync.source import public_message


@strawberry.type(description="Staleness of one sync source: never silently old.")
class SyncSourceStatus:
    id: strawberry.ID
    name: str
    kind: str
    enabled: bool
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    circuit_state: CircuitState
    next_attempt_at: datetime | None
    stale: bool = strawberry.field(description="No success within the staleness threshold.")
    stale_seconds: float | None = strawberry.field(description="Seconds since the last success.")

    @classmethod
    def from_row(cls, r: SyncSource, stale_after_s: float) -> SyncSourceStatus:
        age = (datetime.now(UTC) - r.last_success_at).total_seconds() if r.last_success_at else None
        # Demo data has no live peer to go stale against.
        stale = r.kind != "demo" and (age is None or age > stale_after_s)
        return cls(
            id=strawberry.ID(str(r.id)),
            name=r.name,
            kind=r.kind,
            enabled=r.enabled,
            last_attempt_at=r.last_attempt_at,
            last_success_at=r.last_success_at,
            last_error=public_message(r.last_error),
            last_error_at=r.last_error_at,
            consecutive_failures=r.consecutive_failures,
            circuit_state=r.circuit_state,
            next_attempt_at=r.next_attempt_at,
            stale=stale,
            stale_seconds=age,
        )
