"""Feed webhooks: register an endpoint for session/run events (scope `webhooks:write`), with a
filter and a signing secret generated here and shown once; replay its events from a cursor.
Delivery is the alerts outbox's (observatory.outbox): one mechanism for every webhook."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from observatory.auth.scopes import Scope
from observatory.db.enums import RunStatus, RunTrigger, SessionKind, SessionStatus
from observatory.feeds import webhooks
from observatory.feeds.cursor import Position
from observatory.graphql.errors import BadUserInput, Conflict, NotFound
from observatory.graphql.pagination import parse_id
from observatory.graphql.permissions import scoped, scoped_mutation
from observatory.graphql.resolvers.alerts import _text
from observatory.graphql.types.alerts import WebhookEndpoint, WebhookTopic
from observatory.outbox.models import WebhookEndpoint as EndpointRow

_MAX_VALUES = 100


@strawberry.input(description="Which events an endpoint receives; all given must hold.")
class FeedWebhookFilter:
    agent_ids: list[str] | None = None
    kinds: list[SessionKind] | None = strawberry.field(
        default=None, description="Session kind (of the run's session for run events)."
    )
    session_statuses: list[SessionStatus] | None = None
    triggers: list[RunTrigger] | None = strawberry.field(
        default=None, description="Run events only (HEARTBEAT: every heartbeat poll)."
    )
    run_statuses: list[RunStatus] | None = None


@strawberry.input
class FeedWebhookInput:
    name: str
    url: str
    topics: list[WebhookTopic] = strawberry.field(
        default_factory=lambda: [WebhookTopic.SESSIONS, WebhookTopic.RUNS],
        description="SESSIONS and/or RUNS.",
    )
    filter: FeedWebhookFilter | None = None


@strawberry.type(description="A new feed webhook and its signing secret, shown this once.")
class FeedWebhookCreated:
    endpoint: WebhookEndpoint
    signing_secret: str = strawberry.field(
        description="HMAC-SHA256 key: X-Observatory-Signature is sha256=HMAC(secret, "
        "'<X-Observatory-Timestamp>.<body>'). Not retrievable later."
    )


def _filter_json(f: FeedWebhookFilter | None) -> dict[str, list[str]] | None:
    if f is None:
        return None
    out: dict[str, list[str]] = {}
    for field, values in (
        ("agentIds", f.agent_ids),
        ("kinds", f.kinds),
        ("sessionStatuses", f.session_statuses),
        ("triggers", f.triggers),
        ("runStatuses", f.run_statuses),
    ):
        if values is None:
            continue
        if len(values) > _MAX_VALUES:
            raise BadUserInput(f"at most {_MAX_VALUES} values", field=f"input.filter.{field}")
        # Stored as the payload spells them (enum names): matching is a plain comparison.
        out[field] = sorted(
            {
                v.upper() if field != "agentIds" else _text(v, "input.filter.agentIds")
                for v in values
            }
        )
    return out or None


@strawberry.type
class WebhooksMutation:
    @scoped_mutation(
        Scope.WEBHOOKS_WRITE,
        description="Register an endpoint for session and run events (from now on; "
        "replayFeedWebhook sends earlier ones). Bodies are signed with a secret returned once.",
    )
    async def create_feed_webhook(self, info: Info, input: FeedWebhookInput) -> FeedWebhookCreated:
        url = _text(input.url, "input.url", 2000)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BadUserInput("url must be an http(s) URL", field="input.url")
        topics = {t.value for t in input.topics}
        if not topics or not topics <= set(webhooks.FEED_TOPICS):
            raise BadUserInput("topics: SESSIONS and/or RUNS", field="input.topics")
        name = _text(input.name, "input.name")
        secret = secrets.token_urlsafe(32)
        async with info.context.db() as db, db.begin():
            if await db.scalar(select(EndpointRow.id).where(EndpointRow.name == name)):
                raise Conflict(f"an endpoint named {name!r} exists", field="input.name")
            row = EndpointRow(
                name=name,
                url=url,
                topics=sorted(topics),
                signing_secret=secret,
                filter=_filter_json(input.filter),
            )
            db.add(row)
            await db.flush()
            await db.refresh(row)
        return FeedWebhookCreated(endpoint=WebhookEndpoint.from_row(row), signing_secret=secret)

    @scoped_mutation(
        Scope.WEBHOOKS_WRITE,
        description="Send an endpoint's events after a cursor again (same idempotency keys, "
        "so a receiver that kept them drops the repeats). Returns how many were queued.",
    )
    async def replay_feed_webhook(
        self,
        info: Info,
        id: strawberry.ID,
        after: str,
        limit: int = 1000,
    ) -> int:
        if not 1 <= limit <= 10_000:
            raise BadUserInput("limit must be 1 to 10000", field="limit")
        start = Position.decode(after)
        async with info.context.db() as db, db.begin():
            row = await db.get(EndpointRow, parse_id(id))
            if row is None or not set(row.topics) & set(webhooks.FEED_TOPICS):
                raise NotFound(f"no feed webhook with id {id}", field="id")
            return await webhooks.replay(db, row, start, limit)


@strawberry.type
class WebhooksQuery:
    @scoped(Scope.WEBHOOKS_WRITE, description="Endpoints receiving session/run events.")
    async def feed_webhooks(self, info: Info) -> list[WebhookEndpoint]:
        async with info.context.db() as db:
            rows = await db.scalars(
                select(EndpointRow)
                .where(webhooks.feed_endpoint())
                .order_by(EndpointRow.id)
                .limit(500)
            )
            return [WebhookEndpoint.from_row(r) for r in rows]
