"""Preload a sessions page's relations in its list resolver, so the page completes synchronously.

Per row, an async relation resolver costs a coroutine, Strawberry's async wrapper and a task in
graphql-core's gather: on the 50-row sessions page (agent + metrics + latest review + its
author) that was ~200 coroutines and about half the GraphQL time (bench/README.md). Here each
selected relation is loaded for the whole page with ``load_many`` on the request's dataloaders,
so the SQL is the same batched statements as before (tests/graphql/test_statement_count.py),
and the rows get the results as plain values that their resolvers return as they are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from observatory.auth.scopes import Scope
from observatory.graphql.types.core import Agent, Review, Session


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
        author_ids = [r._created_by_key_id for r in reviews.values() if r is not None]
        if author_ids and "createdBy" in {f.name for f in _fields(_children(node, "latestReview"))}:
            authors = await loaders.key_name.load_many(author_ids)
            for review, author in zip(
                (r for r in reviews.values() if r is not None), authors, strict=True
            ):
                review._preloaded = {"created_by": author}
    for i, session in enumerate(sessions):
        preloaded: dict[str, Any] = {}
        if "agent" in loaded:
            preloaded["agent"] = Agent.from_row(loaded["agent"][i])
        if "metrics" in loaded:
            preloaded["metrics"] = loaded["metrics"][i]
        if "latest_review" in loaded and session._latest_review_id is not None:
            preloaded["latest_review"] = reviews[session._latest_review_id]
        session._preloaded = preloaded
