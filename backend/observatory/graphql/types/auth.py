from __future__ import annotations

from datetime import datetime

import strawberry

from observatory.db.models import ApiKey as ApiKeyRow
from observatory.graphql.types.scalars import Role


@strawberry.type(description="The caller: the API key this request authenticated with.")
class Viewer:
    key_id: strawberry.ID
    name: str
    role: Role
    scopes: list[str]


@strawberry.type(description="An API key (the secret itself is never shown again).")
class ApiKey:
    id: strawberry.ID
    name: str
    prefix: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, r: ApiKeyRow) -> ApiKey:
        return cls(
            id=strawberry.ID(str(r.id)),
            name=r.name,
            prefix=r.prefix,
            role=r.role,
            created_at=r.created_at,
            last_used_at=r.last_used_at,
            revoked_at=r.revoked_at,
        )


@strawberry.type
class CreatedApiKey:
    key: ApiKey
    secret: str = strawberry.field(description="Shown once: store it now.")
