"""Preload a sessions page's relations in its list resolver, so the page completes synchronously.

Per row, an async relation resolver costs a coroutine, Strawberry's async wrapper and a task in
graphql-core's gather: on the 50-row sessions page (agent + metrics + latest review + its
author) that was ~200 coroutines per page and the largest part of the GraphQL time
(bench/README.md). Here each selected relation is loaded for the whole page with ``load_many``
on the request's dataloaders, so the SQL is the same batched statements as before
(tests/graphql/test_statement_count.py), and each row keeps the results in ``_preloaded``.
``serve_preloaded`` puts a plain function in front of those fields' resolvers that returns a
preloaded value as it is (no Strawberry wrapper, no coroutine) and otherwise calls the field's
own resolver, permission extension included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema
from observatory.auth.scopes import Scope
from observatory.graphql.types.core import Agent, Review, Session

# The fields a list page may preload, by GraphQL type (also the keys of ``_preloaded``).
# ``latestReview`` is preloaded only for callers with its scope (reviews:read), so a preloaded
# value has passed the field's permission; without it the field's own check answers FORBIDDEN.
PRELOADABLE = {"Session": ("agent", "metrics", "latestReview"), "Review": ("createdBy",)}


def serve_preloaded(schema: GraphQLSchema) -> None:
    """Answer ``PRELOADABLE`` fields from ``_preloaded`` when a page filled it."""
    for type_name, names in PRELOADABLE.items():
        gql_type = schema.type_map[type_name]
        assert isinstance(gql_type, GraphQLObjectType)
        for name in names:
            field = gql_type.fields[name]
            assert field.resolve is not None
            field.resolve = _preloaded_first(name, field.resolve)


def _preloaded_first(name: str, resolve: Callable[..., Any]) -> Callable[..., Any]:
    def resolver(source: Any, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        preloaded = source._preloaded
        if preloaded is not None and name in preloaded:
            return preloaded[name]
        return resolve(source, info, **kwargs)

    # Strawberry marks its resolvers; field extensions and tracing read the mark.
    resolver._is_default = getattr(resolve, "_is_default", False)  # type: ignore[attr-defined]
    return resolver


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, fragments flattened."""
    for s in selections:
        if isinstance(s, SelectedField):
            yield s
        elif isinstance(s, FragmentSpread | InlineFragment):
            yield from _fields(s.selections)


def _children(selections: Iterable[Selection], name: str) -> list[Selection]:
    """The merged sub-selections of every field ``name`` (aliases included)."""
    return [c for f in _fields(selections) if f.name == name for c in f.selections]


def node_selections(info: Info) -> list[Selection]:
    """What the current connection field selects on ``edges { node { … } }``."""
    connection = [c for f in info.selected_fields for c in f.selections]
    return _children(_children(connection, "edges"), "node")


async def preload_sessions(info: Info, sessions: Sequence[Session]) -> None:
    """Load the page's selected ``agent``, ``metrics`` and ``latestReview { createdBy }``."""
    if not sessions:
        return
    node = node_selections(info)
    names = {f.name for f in _fields(node)}
    loaders = info.context.loaders
    caller = info.context.caller
    jobs: dict[str, Any] = {}
    if "agent" in names:
        jobs["agent"] = loaders.agent.load_many([s.agent_id for s in sessions])
    if "metrics" in names:
        jobs["metrics"] = loaders.session_metrics.load_many([int(s.id) for s in sessions])
    # Without the scope the field's own permission check reports FORBIDDEN per row, as before.
    review_ids = [s._latest_review_id for s in sessions if s._latest_review_id is not None]
    if "latestReview" in names and caller is not None and Scope.REVIEWS_READ in caller.scopes:
        jobs["latest_review"] = loaders.review.load_many(review_ids)
    if not jobs:
        return
    # Concurrently, as the per-row loaders ran: each batch on its own short DB session.
    loaded = dict(zip(jobs, await asyncio.gather(*jobs.values()), strict=True))
    reviews: dict[int, Review | None] = {}
    if "latest_review" in loaded:
        reviews = {
            i: Review.from_row(r) if r else None
            for i, r in zip(review_ids, loaded["latest_review"], strict=True)
        }
        written = [r for r in reviews.values() if r is not None]
        if "createdBy" in {f.name for f in _fields(_children(node, "latestReview"))}:
            # System/AI reviews have no author key: null, as the field's resolver answers.
            key_ids = [r._created_by_key_id for r in written if r._created_by_key_id is not None]
            authors = dict(zip(key_ids, await loaders.key_name.load_many(key_ids), strict=True))
            for review in written:
                key_id = review._created_by_key_id
                review._preloaded = {"createdBy": None if key_id is None else authors[key_id]}
    for i, session in enumerate(sessions):
        preloaded: dict[str, Any] = {}
        if "agent" in loaded:
            preloaded["agent"] = Agent.from_row(loaded["agent"][i])
        if "metrics" in loaded:
            preloaded["metrics"] = session.metrics_of(loaded["metrics"][i])
        if "latest_review" in loaded:
            preloaded["latestReview"] = (
                None if session._latest_review_id is None else reviews[session._latest_review_id]
            )
        session._preloaded = preloaded
