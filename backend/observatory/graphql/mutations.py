from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from sqlalchemy import update
from strawberry.types import Info

from observatory.auth import keys
from observatory.auth.scopes import Scope
from observatory.db.enums import SessionStatus
from observatory.db.models import ApiKey as ApiKeyRow
from observatory.db.models import Session as SessionRow
from observatory.graphql.errors import BadUserInput, Conflict, NotFound
from observatory.graphql.pagination import parse_id
from observatory.graphql.permissions import scoped_mutation
from observatory.graphql.resolvers import reviews
from observatory.graphql.resolvers.improve import ImproveMutation
from observatory.graphql.types.auth import ApiKey, CreatedApiKey
from observatory.graphql.types.core import Review, Session
from observatory.graphql.types.scalars import Role
from observatory.sessions_domain import status_from_provider


@strawberry.type
class Mutation(ImproveMutation):
    @scoped_mutation(Scope.REVIEWS_WRITE, description="Review a session (or one of its runs).")
    async def create_review(self, info: Info, input: reviews.CreateReviewInput) -> Review:
        return await reviews.create_review(info, input)

    @scoped_mutation(Scope.REVIEWS_WRITE, description="Edit your own review (admins: any).")
    async def update_review(
        self, info: Info, id: strawberry.ID, input: reviews.UpdateReviewInput
    ) -> Review:
        return await reviews.update_review(info, id, input)

    @scoped_mutation(Scope.REVIEWS_WRITE, description="Delete your own review (admins: any).")
    async def delete_review(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        return await reviews.delete_review(info, id)

    @scoped_mutation(Scope.SESSIONS_WRITE, description="Archive a finished session.")
    async def archive_session(self, info: Info, id: strawberry.ID) -> Session:
        session_id = parse_id(id)
        async with info.context.db() as db, db.begin():
            row = await db.get(SessionRow, session_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no session with id {id}", field="id")
            if row.status == SessionStatus.ARCHIVED:
                return Session.from_row(row)
            if row.status not in (SessionStatus.COMPLETED, SessionStatus.FAILED):
                raise Conflict(
                    f"only completed or failed sessions can be archived (this one is {row.status.value})",
                    field="id",
                )
            await db.execute(
                update(SessionRow)
                .where(SessionRow.id == session_id)
                .values(status=SessionStatus.ARCHIVED, archived_at=datetime.now(UTC))
            )
            await db.refresh(row)
        return Session.from_row(row)

    @scoped_mutation(Scope.SESSIONS_WRITE, description="Bring an archived session back.")
    async def unarchive_session(self, info: Info, id: strawberry.ID) -> Session:
        session_id = parse_id(id)
        async with info.context.db() as db, db.begin():
            row = await db.get(SessionRow, session_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no session with id {id}", field="id")
            if row.status == SessionStatus.ARCHIVED:
                await db.execute(
                    update(SessionRow)
                    .where(SessionRow.id == session_id)
                    .values(
                        status=status_from_provider(
                            row.provider_status, ended=row.ended_at is not None
                        ),
                        archived_at=None,
                    )
                )
                await db.refresh(row)
        return Session.from_row(row)

    @scoped_mutation(Scope.KEYS_ADMIN, description="Create an API key; its secret is shown once.")
    async def create_api_key(self, info: Info, name: str, role: Role) -> CreatedApiKey:
        name = name.strip()
        if not name or len(name) > 200:
            raise BadUserInput("name must be 1 to 200 characters", field="name")
        async with info.context.db() as db, db.begin():
            new = await keys.create_key(db, name, role)
            row = await db.get(ApiKeyRow, new.id)
        assert row is not None
        return CreatedApiKey(key=ApiKey.from_row(row), secret=new.secret)

    @scoped_mutation(Scope.KEYS_ADMIN, description="Revoke an API key (immediately).")
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> ApiKey:
        key_id = parse_id(id)
        async with info.context.db() as db, db.begin():
            await keys.revoke_key(db, key_id)
            row = await db.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"no API key with id {id}", field="id")
        return ApiKey.from_row(row)
