"""Per-request dataloaders (aiodataloader): one batched statement per relation and request.

Each batch opens its own short DB session from the factory, so concurrent resolvers never share a
connection. Build ``Loaders`` inside the request (aiodataloader grabs the running loop).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Row, func, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.db.models import Agent, ApiKey, Message, Review, Run, Session
from observatory.graphql.limiter import SessionOpener
from observatory.graphql.rows import plain

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

BatchFn = Callable[[AsyncSession, list[Any]], Awaitable[dict[Any, Any]]]


class _Loader(DataLoader):
    def __init__(self, factory: SessionOpener, fn: BatchFn, default: Any) -> None:
        super().__init__()
        self._factory = factory
        self._fn = fn
        self._default = default

    async def batch_load_fn(self, keys: Sequence[Any]) -> list[Any]:
        async with self._factory() as db:
            found = await self._fn(db, list(keys))
        return [
            found.get(k, self._default() if callable(self._default) else self._default)
            for k in keys
        ]


async def _agents(db: AsyncSession, ids: list[str]) -> dict[str, Agent]:
    rows = (await db.execute(select(Agent).where(Agent.id.in_(ids)))).scalars()
    return {a.id: a for a in rows}


async def _sessions(db: AsyncSession, ids: list[int]) -> dict[int, Session]:
    rows = (await db.execute(select(Session).where(Session.id.in_(ids)))).scalars()
    return {s.id: s for s in rows}


async def _sessions_by_key(
    db: AsyncSession, keys: list[tuple[int, str]]
) -> dict[tuple[int, str], Session]:
    source_ids = {k[0] for k in keys}
    names = {k[1] for k in keys}
    rows = (
        await db.execute(
            select(Session).where(Session.source_id.in_(source_ids), Session.key.in_(names))
        )
    ).scalars()
    return {(s.source_id, s.key): s for s in rows}


async def _main_sessions(db: AsyncSession, agent_ids: list[str]) -> dict[str, Session]:
    stmt = (
        select(Session)
        .ext(distinct_on(Session.agent_id))
        .where(Session.agent_id.in_(agent_ids), Session.kind == "main")
        .order_by(Session.agent_id, Session.id)
    )
    return {s.agent_id: s for s in (await db.execute(stmt)).scalars()}


async def _runs(db: AsyncSession, ids: list[int]) -> dict[int, Run]:
    rows = (await db.execute(select(Run).where(Run.id.in_(ids)))).scalars()
    return {r.id: r for r in rows}


_METRICS_SQL = text(
    """
    SELECT session_id,
           count(*) AS run_count,
           sum(input_tokens) AS input_tokens,
           sum(output_tokens) AS output_tokens,
           sum(cache_read_tokens) AS cache_read_tokens,
           sum(cache_write_tokens) AS cache_write_tokens,
           sum(cost) AS cost,
           sum(duration_ms) AS wall_time_ms,
           count(*) FILTER (WHERE status = 'failed') AS failed_runs,
           bool_and(input_tokens IS NOT NULL AND output_tokens IS NOT NULL) AS usage_complete,
           min(started_at) AS first_run_at,
           max(coalesce(finished_at, started_at)) AS last_run_at
    FROM runs WHERE session_id = ANY(:ids) GROUP BY session_id
    """
)


async def _session_metrics(db: AsyncSession, ids: list[int]) -> dict[int, Row[Any]]:
    rows = (await db.execute(_METRICS_SQL, {"ids": ids})).all()
    return {r.session_id: r for r in rows}


async def _reviews(db: AsyncSession, ids: list[int]) -> dict[int, Review]:
    rows = (await db.execute(select(Review).where(Review.id.in_(ids)))).scalars()
    return {r.id: r for r in rows}


async def _latest_run_review(db: AsyncSession, ids: list[int]) -> dict[int, Review]:
    """A session's latest review is kept on the session by a trigger; a run's is derived here
    by the same rule: the latest human review wins, else the latest AI one."""
    stmt = (
        select(Review)
        .ext(distinct_on(Review.run_id))
        .where(Review.run_id.in_(ids))
        .order_by(
            Review.run_id,
            (Review.reviewer_kind == "human").desc(),
            Review.created_at.desc(),
            Review.id.desc(),
        )
    )
    return {r.run_id: r for r in (await db.execute(stmt)).scalars() if r.run_id is not None}


def _reviews_grouped_by(column: Any) -> BatchFn:
    """All reviews of the given sessions or runs (``column``), newest first."""

    async def batch(db: AsyncSession, ids: list[int]) -> dict[int, list[Review]]:
        stmt = (
            select(Review)
            .where(column.in_(ids))
            .order_by(Review.created_at.desc(), Review.id.desc())
        )
        out: dict[int, list[Review]] = defaultdict(list)
        for r in (await db.execute(stmt)).scalars():
            out[getattr(r, column.key)].append(r)
        return out

    return batch


async def _child_counts(
    db: AsyncSession, keys: list[tuple[int, str]]
) -> dict[tuple[int, str], int]:
    stmt = (
        select(Session.source_id, Session.parent_key, func.count())
        .where(
            Session.parent_key.in_({k[1] for k in keys}),
            Session.source_id.in_({k[0] for k in keys}),
        )
        .group_by(Session.source_id, Session.parent_key)
    )
    return {(s, str(p)): n for s, p, n in (await db.execute(stmt)).all()}


async def _children(
    db: AsyncSession, keys: list[tuple[int, str]]
) -> dict[tuple[int, str], list[Session]]:
    stmt = (
        select(Session)
        .where(
            Session.parent_key.in_({k[1] for k in keys}),
            Session.source_id.in_({k[0] for k in keys}),
        )
        .order_by(Session.started_at.desc(), Session.id.desc())
    )
    out: dict[tuple[int, str], list[Session]] = defaultdict(list)
    for s in (await db.execute(stmt)).scalars():
        if s.parent_key is not None:
            out[(s.source_id, s.parent_key)].append(s)
    return out


async def _key_names(db: AsyncSession, ids: list[int]) -> dict[int, str]:
    rows = await db.execute(select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(ids)))
    return {i: n for i, n in rows.all()}


async def _source_names(db: AsyncSession, ids: list[int]) -> dict[int, str]:
    rows = await db.execute(
        text("SELECT id, name FROM sync_sources WHERE id = ANY(:ids)"), {"ids": ids}
    )
    return {i: n for i, n in rows.all()}


async def _agent_metrics(db: AsyncSession, keys: list[tuple[str, Any, Any]]) -> dict[Any, Any]:
    """Keys are (agent_id, start, end); one grouped query per distinct range."""
    from observatory import metrics

    out: dict[Any, Any] = {}
    for start, end in {(k[1], k[2]) for k in keys}:
        agents = [k[0] for k in keys if (k[1], k[2]) == (start, end)]
        found = await metrics.summary(
            db, start, end, metrics.MetricFilter(agent_ids=agents), by_agent=True
        )
        for agent in agents:
            out[(agent, start, end)] = found.get(agent) or metrics.Summary()
    return out


def _first_pages(table: str, parent: str, order: str) -> BatchFn:
    """First pages of a nested connection for many parents in one statement (keys are
    ``(parent_id, limit)``): ``sessions(first: 100) { … runs(first: 5) }`` is one query for the
    100 run pages instead of 100 queries on 100 pooled sessions (issue 10). Each LATERAL probe
    walks the parent's index, so a parent with 10k rows costs as much as one with ``limit``."""
    model = {"runs": Run, "messages": Message}[table]

    async def batch(db: AsyncSession, keys: list[tuple[int, int]]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        by_limit: dict[int, list[int]] = defaultdict(list)
        for parent_id, limit in keys:
            by_limit[limit].append(parent_id)
        for limit, parents in by_limit.items():
            stmt = (
                text(
                    f"SELECT x.* FROM unnest(CAST(:ids AS bigint[])) AS p(id) CROSS JOIN LATERAL "
                    f"(SELECT * FROM {table} t WHERE t.{parent} = p.id ORDER BY {order} "
                    f"LIMIT :n) AS x"
                )
                .bindparams(ids=parents, n=limit)
                .columns(*plain(model))  # typed plain rows (enums, JSON), no ORM instances
            )
            rows = (await db.execute(stmt)).all()
            grouped: dict[int, list[Any]] = defaultdict(list)
            for row in rows:
                grouped[getattr(row, parent)].append(row)
            for parent_id in parents:
                out[(parent_id, limit)] = grouped.get(parent_id, [])
        return out

    return batch


_BATCHES: dict[str, tuple[BatchFn, Any]] = {
    "first_runs_by_session": (_first_pages("runs", "session_id", "started_at, id"), list),
    "first_messages_by_session": (_first_pages("messages", "session_id", "id"), list),
    "first_messages_by_run": (_first_pages("messages", "run_id", "id"), list),
    "agent": (_agents, None),
    "session": (_sessions, None),
    "session_by_key": (_sessions_by_key, None),
    "main_session": (_main_sessions, None),
    "run": (_runs, None),
    "session_metrics": (_session_metrics, None),
    "review": (_reviews, None),
    "latest_run_review": (_latest_run_review, None),
    "reviews_by_session": (_reviews_grouped_by(Review.session_id), list),
    "reviews_by_run": (_reviews_grouped_by(Review.run_id), list),
    "child_count": (_child_counts, 0),
    "children": (_children, list),
    "key_name": (_key_names, None),
    "source_name": (_source_names, None),
    "agent_metrics": (_agent_metrics, None),
}


class Loaders:
    """One loader per relation, created on first use within the request."""

    agent: _Loader
    session: _Loader
    session_by_key: _Loader
    main_session: _Loader
    run: _Loader
    session_metrics: _Loader
    review: _Loader
    latest_run_review: _Loader
    reviews_by_session: _Loader
    reviews_by_run: _Loader
    child_count: _Loader
    children: _Loader
    key_name: _Loader
    source_name: _Loader
    agent_metrics: _Loader
    first_runs_by_session: _Loader
    first_messages_by_session: _Loader
    first_messages_by_run: _Loader

    def __init__(self, factory: SessionOpener) -> None:
        self._factory = factory

    def clear(self) -> None:
        """Drop every cached row once the answer is built: the loaders sit in reference cycles
        (futures, the request context) that only a full collection frees, and the rows they
        cache would wait for it too."""
        for name in list(vars(self)):
            if name in _BATCHES:
                getattr(self, name).clear_all()
                delattr(self, name)

    def __getattr__(self, name: str) -> _Loader:
        if name not in _BATCHES:
            raise AttributeError(name)
        fn, default = _BATCHES[name]
        loader = _Loader(self._factory, fn, default)
        setattr(self, name, loader)
        return loader
