from __future__ import annotations

import strawberry
from strawberry.types import Info

from observatory.auth import keys
from observatory.auth.scopes import Scope
from observatory.db.models import ApiKey as ApiKeyRow
from observatory.db.models import SyncSource as SyncSourceRow
from observatory.graphql.errors import BadUserInput, Conflict, NotFound
from observatory.graphql.pagination import parse_id
from observatory.graphql.permissions import scoped_mutation
from observatory.graphql.resolvers import reviews
from observatory.graphql.resolvers.alerts import AlertsMutation
from observatory.graphql.resolvers.improve import ImproveMutation
from observatory.graphql.resolvers.proposals import ProposalMutation
from observatory.graphql.resolvers.review_queue import ReviewQueueMutation
from observatory.graphql.resolvers.sessions import set_archived
from observatory.graphql.resolvers.webhooks import WebhooksMutation
from observatory.graphql.types.auth import ApiKey, CreatedApiKey
from observatory.graphql.types.core import Review, Session
from observatory.graphql.types.scalars import Role
from observatory.graphql.types.sync import SyncSourceStatus


@strawberry.type
# Field order (and so schema.graphql) follows the bases: review queue, improve, alerts,
# proposals, webhooks, then these.
class Mutation(
    ReviewQueueMutation, ImproveMutation, AlertsMutation, ProposalMutation, WebhooksMutation
):
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
        return Session.from_row(await set_archived(info, id, archived=True))

    @scoped_mutation(Scope.SESSIONS_WRITE, description="Bring an archived session back.")
    async def unarchive_session(self, info: Info, id: strawberry.ID) -> Session:
        return Session.from_row(await set_archived(info, id, archived=False))

    @scoped_mutation(
        Scope.SYNC_WRITE,
        description="Sync a source now, even while its circuit is open. Returns the source's "
        "status as the pass starts; `syncStatus` reports the outcome.",
    )
    async def sync_source(self, info: Info, id: strawberry.ID) -> SyncSourceStatus:
        source_id = parse_id(id)
        async with info.context.db() as db:
            row = await db.get(SyncSourceRow, source_id)
        if row is None:
            raise NotFound(f"no sync source with id {id}", field="id")
        if row.kind == "demo":
            raise BadUserInput("the demo source has no peer to sync from", field="id")
        if not row.enabled:
            raise Conflict(f"sync source {row.name} is disabled", field="id")
        info.context.services.start_sync(source_id)
        return SyncSourceStatus.from_row(row, info.context.settings.stale_after_s)

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
        # This process forgets the key now; the others when the NOTIFY arrives.
        info.context.services.keys.invalidate([key_id])
        return ApiKey.from_row(row)
