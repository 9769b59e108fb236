"""Periodic sync over every enabled row of ``sync_sources``.

Each pass over a source holds ``pg_try_advisory_lock(SYNC_LOCK_CLASS, source_id)`` on one
connection, so any number of sync processes (API workers, ``observatory sync``) can run and a
source is never synced twice at once. Every session batch commits on its own, so a failure
mid-pass loses nothing already committed and the next pass resumes from the stored cursors.
The source's staleness (last attempt/success/error, failures, circuit state, next attempt) is
written to its row, where the API reads it; NOTIFY triggers on the tables tell subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg
from sqlalchemy import Table, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from observatory.db.enums import CircuitState, SessionStatus
from observatory.db.models import Session, SyncSource
from observatory.monitoring import prom
from observatory.settings import Settings
from observatory.sync.circuit import (
    BreakerState,
    Policy,
    after_failure,
    after_success,
    backoff_s,
    before_attempt,
    is_due,
)
from observatory.sync.ingest import ingest_batch, prune_missing, upsert_agents
from observatory.sync.source import (
    AgentFiles,
    SessionRecord,
    SessionSource,
    SessionUnreadable,
    SourceError,
    SyncBatch,
    WatchableSource,
)

log = logging.getLogger(__name__)

SYNC_LOCK_CLASS = 0x5359  # "SY": first key of the two-int advisory lock, the source id second
ENV_SOURCE_NAME = "openclaw-env"

SourceFactory = Callable[[str, Mapping[str, Any]], SessionSource]
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def default_factory(kind: str, config: Mapping[str, Any]) -> SessionSource:
    if kind.startswith("openclaw"):
        from observatory.sync.openclaw import from_config

        return from_config(kind, config)
    raise SourceError(f"no adapter for source kind {kind!r}")


def default_files(kind: str, config: Mapping[str, Any]) -> AgentFiles | None:
    """Access to the agents' own files that a source allows (None: the provider has none)."""
    if kind.startswith("openclaw"):
        from observatory.sync.openclaw.files import files_from_config

        return files_from_config(kind, config)
    return None


@dataclass(slots=True)
class Progress:
    source: str
    done: int
    total: int
    messages: int
    elapsed_s: float


ProgressFn = Callable[[Progress], None]


@dataclass(slots=True)
class SourceReport:
    source_id: int
    name: str
    outcome: str  # ok | failed | not_due | busy | interrupted
    sessions_listed: int = 0
    sessions_synced: int = 0
    sessions_created: int = 0
    sessions_quarantined: int = 0
    runs: int = 0
    messages: int = 0
    pruned: int = 0
    vanished: list[str] = field(default_factory=list)
    error: str | None = None
    circuit_state: CircuitState = CircuitState.CLOSED
    next_attempt_at: datetime | None = None
    duration_s: float = 0.0


@dataclass(slots=True)
class SyncReport:
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.outcome != "failed" for s in self.sources)

    @property
    def messages(self) -> int:
        return sum(s.messages for s in self.sources)

    def next_attempt_at(self) -> datetime | None:
        times = [s.next_attempt_at for s in self.sources if s.next_attempt_at]
        return min(times) if times else None


def engine_of(factory: async_sessionmaker[AsyncSession] | AsyncEngine) -> AsyncEngine:
    if isinstance(factory, AsyncEngine):
        return factory
    bind = factory.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the session factory must be bound to an AsyncEngine")
    return bind


def _state(row: Any) -> BreakerState:
    return BreakerState(
        circuit_state=CircuitState(row.circuit_state),
        consecutive_failures=int(row.consecutive_failures or 0),
        circuit_opened_at=row.circuit_opened_at,
        next_attempt_at=row.next_attempt_at,
    )


_SOURCES = cast(Table, SyncSource.__table__)


async def _load_source(conn: AsyncConnection, source_id: int) -> Any:
    row = (await conn.execute(select(_SOURCES).where(_SOURCES.c.id == source_id))).one()
    await conn.commit()
    return row


async def _write_state(
    conn: AsyncConnection, source_id: int, state: BreakerState, **extra: Any
) -> None:
    async with conn.begin():
        await conn.execute(
            _SOURCES.update()
            .where(_SOURCES.c.id == source_id)
            .values(
                circuit_state=state.circuit_state.value,
                consecutive_failures=state.consecutive_failures,
                circuit_opened_at=state.circuit_opened_at,
                next_attempt_at=state.next_attempt_at,
                **extra,
            )
        )


def _needs_sync(record: SessionRecord, known: Any) -> bool:
    if known is None or known.pruned_at is not None or record.fingerprint is None:
        return True
    if record.status is SessionStatus.RUNNING:
        return True  # a live run can grow without its session entry changing
    return (known.sync_cursor or {}).get("fp") != record.fingerprint


async def _known_sessions(conn: AsyncConnection, source_id: int) -> dict[str, Any]:
    t = Session.__table__
    rows = await conn.execute(
        select(t.c.key, t.c.id, t.c.sync_cursor, t.c.pruned_at, t.c.sync_error).where(
            t.c.source_id == source_id
        )
    )
    known = {r.key: r for r in rows}
    await conn.commit()
    return known


async def _pass(
    conn: AsyncConnection,
    source_id: int,
    name: str,
    source: SessionSource,
    report: SourceReport,
    *,
    clock: Clock,
    progress: ProgressFn | None,
    stop: asyncio.Event | None,
    keys: frozenset[str] | None = None,
) -> None:
    started = time.monotonic()
    if keys is None:
        records = await source.list_sessions()
    else:
        # A pushed change: list (where the provider can) and fetch just those sessions.
        records = [r for r in await _list_some(source, keys) if r.key in keys]
        report.vanished = sorted(keys - {r.key for r in records})
    report.sessions_listed = len(records)
    known = await _known_sessions(conn, source_id)
    async with conn.begin():
        await upsert_agents(conn, records, source.provider)
    if keys is None:
        todo = [r for r in records if _needs_sync(r, known.get(r.key))]
    else:
        todo = records  # the provider said they changed: read them even if fingerprints match

    def fetch(record: SessionRecord) -> asyncio.Task[SyncBatch]:
        previous = known.get(record.key)
        cursor = previous.sync_cursor if previous is not None else None
        return asyncio.create_task(source.fetch(record, cursor))

    # Read the next session while the current one is written: the two wait on different peers.
    pending = fetch(todo[0]) if todo else None
    try:
        for index, record in enumerate(todo):
            assert pending is not None
            reading, pending = pending, fetch(todo[index + 1]) if index + 1 < len(todo) else None
            previous = known.get(record.key)
            try:
                batch = await reading
                async with conn.begin():
                    done = await ingest_batch(conn, source_id, batch, now=clock())
                    if previous is not None and previous.sync_error is not None:
                        await conn.execute(_CLEAR_ERROR, {"id": done.session_id})
            except (SessionUnreadable, DataError, asyncpg.DataError) as exc:
                # One unreadable session never stops the others; it is retried next pass
                # (its cursor did not move, so it is still due).
                if conn.in_transaction():
                    await conn.rollback()
                await _quarantine(conn, source_id, record, exc, clock())
                report.sessions_quarantined += 1
                continue
            report.sessions_synced += 1
            report.sessions_created += int(done.created)
            report.runs += done.runs
            report.messages += done.messages
            if progress is not None:
                progress(
                    Progress(
                        name, index + 1, len(todo), report.messages, time.monotonic() - started
                    )
                )
            if stop is not None and stop.is_set() and index + 1 < len(todo):
                report.outcome = "interrupted"
                return
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
    if keys is None and getattr(source, "listing_complete", True):
        async with conn.begin():
            pruned = await prune_missing(conn, source_id, (r.key for r in records), clock())
        report.pruned = len(pruned)


_CLEAR_ERROR = text("UPDATE sessions SET sync_error = NULL, sync_error_at = NULL WHERE id = :id")
_SET_ERROR = text(
    "UPDATE sessions SET sync_error = :error, sync_error_at = :at "
    "WHERE source_id = :source_id AND key = :key RETURNING id"
)


async def _quarantine(
    conn: AsyncConnection,
    source_id: int,
    record: SessionRecord,
    exc: Exception,
    now: datetime,
) -> None:
    message = f"{type(exc).__name__}: {exc}"[:2000]
    log.warning("session %s quarantined: %s", record.key, message)
    async with conn.begin():
        params = {"error": message, "at": now, "source_id": source_id, "key": record.key}
        if (await conn.execute(_SET_ERROR, params)).first() is None:
            # A new session: store what the listing said (no transcript, empty cursor, so the
            # next pass reads it from the start) and mark it.
            await ingest_batch(conn, source_id, SyncBatch(session=record), now=now)
            await conn.execute(_SET_ERROR, params)


async def _list_some(source: SessionSource, keys: frozenset[str]) -> list[SessionRecord]:
    if isinstance(source, WatchableSource):
        return await source.list_sessions(keys)
    return await source.list_sessions()


async def _lock(conn: AsyncConnection, source_id: int, wait_s: float | None) -> bool:
    """The source's advisory lock: try once, or (pushed changes) wait up to ``wait_s``."""
    if wait_s is None:
        locked = (
            await conn.execute(select(func.pg_try_advisory_lock(SYNC_LOCK_CLASS, source_id)))
        ).scalar()
        await conn.commit()
        return bool(locked)
    try:
        async with conn.begin():
            # lock_timeout bounds advisory lock waits too; SET LOCAL ends with the transaction,
            # the session-level lock it took does not.
            await conn.execute(text(f"SET LOCAL lock_timeout = '{int(wait_s * 1000)}ms'"))
            await conn.execute(select(func.pg_advisory_lock(SYNC_LOCK_CLASS, source_id)))
    except DBAPIError as exc:
        if "lock timeout" in str(exc).lower() or "LockNotAvailable" in type(exc.orig).__name__:
            return False
        raise
    return True


async def note_problem(engine: AsyncEngine, source_id: int, message: str, *, at: datetime) -> None:
    """Show a problem in the source's sync status without failing it or its circuit."""
    async with engine.begin() as conn:
        await conn.execute(
            _SOURCES.update()
            .where(_SOURCES.c.id == source_id)
            .values(last_error=message[:2000], last_error_at=at)
        )


async def sync_source(
    engine: AsyncEngine,
    source_id: int,
    *,
    policy: Policy,
    factory: SourceFactory = default_factory,
    clock: Clock = utcnow,
    progress: ProgressFn | None = None,
    force: bool = False,
    stop: asyncio.Event | None = None,
    keys: frozenset[str] | None = None,
    pushed: bool = False,
    lock_wait_s: float = 30.0,
) -> SourceReport:
    """One pass over one source, if it is due and no other worker holds it.

    ``pushed``: the provider reported changes (``keys``, or None for "rescan"). Such a pass
    waits for the source lock instead of skipping (a full pass holding it may have read the
    session before the change), ignores the interval but not an open circuit, and on success
    leaves the schedule alone: pushes must not postpone the periodic safety pass.
    """
    started = time.monotonic()
    async with engine.connect() as conn:
        row = await _load_source(conn, source_id)
        report = SourceReport(source_id, row.name, "ok")
        if not await _lock(conn, source_id, lock_wait_s if pushed else None):
            report.outcome = "busy"
            return report
        try:
            row = await _load_source(conn, source_id)  # another worker may have just finished
            state = _state(row)
            report.circuit_state = state.circuit_state
            report.next_attempt_at = state.next_attempt_at
            now = clock()
            open_circuit = state.circuit_state is not CircuitState.CLOSED
            skip_when_not_due = open_circuit if pushed else not force
            if skip_when_not_due and not is_due(state, now):
                report.outcome = "not_due"
                return report
            if pushed and not open_circuit:
                await _write_state(conn, source_id, state, last_attempt_at=now)
            else:
                state = before_attempt(state, now)
                await _write_state(conn, source_id, state, last_attempt_at=now)
            try:
                source = factory(row.kind, row.config or {})
                try:
                    await _pass(
                        conn,
                        source_id,
                        row.name,
                        source,
                        report,
                        clock=clock,
                        progress=progress,
                        stop=stop,
                        keys=keys,
                    )
                finally:
                    await source.aclose()
            except Exception as exc:
                if conn.in_transaction():
                    await conn.rollback()
                failed_at = clock()
                retry_after = getattr(exc, "retry_after", None)
                state = after_failure(state, failed_at, policy, retry_after_s=retry_after)
                message = f"{type(exc).__name__}: {exc}"[:2000]
                if isinstance(exc, SourceError):
                    log.warning("sync of %s failed: %s", row.name, message)
                else:
                    log.exception("sync of %s failed unexpectedly", row.name)
                await _write_state(
                    conn, source_id, state, last_error=message, last_error_at=failed_at
                )
                report.outcome = "failed"
                report.error = message
            else:
                finished = clock()
                if report.vanished:
                    # Gone between the push and the read: the next full pass prunes it.
                    message = f"session(s) vanished before they could be read: {report.vanished}"
                    log.warning("sync of %s: %s", row.name, message)
                    await _write_state(
                        conn, source_id, state, last_error=message[:2000], last_error_at=finished
                    )
                if pushed and not open_circuit and keys is not None:
                    pass  # a few sessions read: the source as a whole is not fresher for it
                else:
                    state = after_success(state, finished, policy)
                    await _write_state(
                        conn,
                        source_id,
                        state,
                        last_success_at=finished,
                        cursor={"sessions": report.sessions_listed, "pruned": report.pruned}
                        if keys is None
                        else row.cursor,
                    )
            report.circuit_state = state.circuit_state
            report.next_attempt_at = state.next_attempt_at
            return report
        finally:
            report.duration_s = time.monotonic() - started
            prom.sync_pass_seconds.labels(row.name, report.outcome).observe(report.duration_s)
            if report.sessions_synced:
                prom.sessions_synced.labels(row.name).inc(report.sessions_synced)
            with contextlib.suppress(Exception):
                await conn.execute(select(func.pg_advisory_unlock(SYNC_LOCK_CLASS, source_id)))
                await conn.commit()


async def ensure_env_source(engine: AsyncEngine, settings: Settings) -> None:
    """A source from the OBSERVATORY_OPENCLAW_* settings, for zero-config single-host setups."""
    state_dir = settings.openclaw_state_dir
    url = settings.openclaw_gateway_url
    if not state_dir and not url:
        return
    config: dict[str, Any] = {}
    if state_dir:
        config["state_dir"] = state_dir
    if url:
        config["gateway_url"] = url
        config["token_env"] = "OBSERVATORY_OPENCLAW_TOKEN"  # the secret stays in the environment
    stmt = insert(_SOURCES).values(name=ENV_SOURCE_NAME, kind="openclaw", config=config)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_SOURCES.c.name],
        set_={"config": stmt.excluded.config},
        where=_SOURCES.c.config != stmt.excluded.config,
    )
    async with engine.begin() as conn:
        await conn.execute(stmt)


async def sync_once(
    session_factory: async_sessionmaker[AsyncSession] | AsyncEngine,
    settings: Settings,
    *,
    progress: ProgressFn | None = None,
    policy: Policy | None = None,
    factory: SourceFactory = default_factory,
    clock: Clock = utcnow,
    force: bool = False,
    names: list[str] | None = None,
    stop: asyncio.Event | None = None,
) -> SyncReport:
    """One pass over every enabled source that is due (all of them with ``force``); ``policy``
    overrides the one ``settings`` describe (tests use short backoffs)."""
    engine = engine_of(session_factory)
    if policy is None:
        policy = Policy.from_settings(settings)
    await ensure_env_source(engine, settings)
    async with engine.connect() as conn:
        # Demo sources (kind "demo", "demo-gateway") are static data with no peer to sync from.
        query = (
            select(_SOURCES.c.id)
            .where(_SOURCES.c.enabled, _SOURCES.c.kind.not_like("demo%"))
            .order_by(_SOURCES.c.id)
        )
        if names:
            query = query.where(_SOURCES.c.name.in_(names))
        ids = list((await conn.execute(query)).scalars())
    reports = await asyncio.gather(
        *(
            sync_source(
                engine,
                source_id,
                policy=policy,
                factory=factory,
                clock=clock,
                progress=progress,
                force=force,
                stop=stop,
            )
            for source_id in ids
        )
    )
    return SyncReport(list(reports))


async def run_forever(
    session_factory: async_sessionmaker[AsyncSession] | AsyncEngine,
    stop_event: asyncio.Event,
    settings: Settings,
    *,
    policy: Policy | None = None,
    factory: SourceFactory = default_factory,
) -> None:
    """Sync every source when it is due until ``stop_event`` is set."""
    if policy is None:
        policy = Policy.from_settings(settings)
    errors = 0
    while not stop_event.is_set():
        try:
            report = await sync_once(
                session_factory, settings, policy=policy, factory=factory, stop=stop_event
            )
            errors = 0
            upcoming = report.next_attempt_at()
            wait = policy.interval_s
            if upcoming is not None:
                wait = (upcoming - utcnow()).total_seconds()
            wait = min(max(wait, 0.5), policy.interval_s)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database itself is unreachable: keep trying, gently
            errors += 1
            wait = backoff_s(errors, policy)
            log.exception("sync loop failed; retrying in %.1fs", wait)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_event.wait(), wait)


async def stale_sources(conn: AsyncConnection, stale_after_s: float) -> list[str]:
    """Names of enabled sources without a success in ``stale_after_s`` (for ops checks)."""
    rows = await conn.execute(
        text(
            "SELECT name FROM sync_sources WHERE enabled AND (last_success_at IS NULL "
            "OR last_success_at < now() - make_interval(secs => :s)) ORDER BY name"
        ),
        {"s": stale_after_s},
    )
    return [r[0] for r in rows]
