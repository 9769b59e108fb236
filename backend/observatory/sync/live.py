"""Push-driven sync: what a source reports as changed is synced at once.

Every enabled source whose adapter can push (:class:`WatchableSource`: store file watch, gateway
session events) gets a watcher and one worker. The watcher turns changes into pending work
(session keys, or a rescan); the worker waits ``debounce_s`` after the first change so a burst
becomes one pass, then runs :func:`sync_source` with ``pushed=True`` for just those sessions.
One worker per source means never two pushed passes of a source at once in a process; the
source's advisory lock keeps pushed and periodic passes of all processes apart. The periodic
full pass (:func:`run_forever`) keeps running next to this as the safety net for dropped events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from observatory.db.models import SyncSource
from observatory.sync.circuit import Policy, backoff_s
from observatory.sync.runner import (
    Clock,
    SourceFactory,
    SourceReport,
    default_factory,
    note_problem,
    sync_source,
    utcnow,
)
from observatory.sync.source import Change, WatchableSource

log = logging.getLogger(__name__)
_SOURCES = cast(Table, SyncSource.__table__)


@dataclass
class _Pending:
    keys: set[str] = field(default_factory=set)
    rescan: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, change: Change) -> None:
        if change.keys is None:
            self.rescan = True
        else:
            self.keys |= change.keys
        if self.rescan or self.keys:
            self.wake.set()

    def take(self) -> frozenset[str] | None:
        keys = None if self.rescan else frozenset(self.keys)
        self.keys.clear()
        self.rescan = False
        self.wake.clear()
        return keys

    def put_back(self, keys: frozenset[str] | None) -> None:
        self.add(Change(keys))


class LiveSync:
    """Watch every enabled source that can push and sync what it reports, until stopped."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        policy: Policy,
        factory: SourceFactory = default_factory,
        clock: Clock = utcnow,
        debounce_s: float = 0.1,
        on_pass: Callable[[SourceReport], None] | None = None,
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.factory = factory
        self.clock = clock
        self.debounce_s = debounce_s
        self.on_pass = on_pass
        self._watchers: dict[int, tuple[str, asyncio.Task[None]]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Keep one watcher per enabled source (sources are re-read every interval)."""
        errors = 0
        try:
            while not stop.is_set():
                try:
                    await self._reconcile()
                    errors, wait = 0, self.policy.interval_s
                except Exception:  # the database is unreachable: keep trying, gently
                    errors += 1
                    wait = backoff_s(errors, self.policy)
                    log.exception("live sync could not read the sources; retrying in %.1fs", wait)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
        finally:
            for _, task in self._watchers.values():
                task.cancel()
            for _, task in self._watchers.values():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self._watchers.clear()

    async def _reconcile(self) -> None:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(_SOURCES.c.id, _SOURCES.c.kind, _SOURCES.c.config).where(
                        _SOURCES.c.enabled, _SOURCES.c.kind != "demo"
                    )
                )
            ).all()
        wanted = {r.id: (json.dumps([r.kind, r.config], sort_keys=True), r) for r in rows}
        for source_id, (signature, task) in list(self._watchers.items()):
            if wanted.get(source_id, ("",))[0] != signature or task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                del self._watchers[source_id]
        for source_id, (signature, row) in wanted.items():
            if source_id not in self._watchers:
                task = asyncio.create_task(
                    self._watch(source_id, row.kind, row.config or {}), name=f"live-{source_id}"
                )
                self._watchers[source_id] = (signature, task)

    async def _watch(self, source_id: int, kind: str, config: dict[str, Any]) -> None:
        try:
            source = self.factory(kind, config)
        except Exception as exc:  # misconfigured: the periodic pass reports it
            log.info("source %s cannot push: %s", source_id, exc)
            return
        try:
            if not isinstance(source, WatchableSource):
                return
            pending = _Pending()
            worker = asyncio.create_task(self._work(source_id, pending))
            try:
                async for change in source.changes():
                    if change.problem:
                        await self._note(source_id, change.problem)
                    pending.add(change)
            finally:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await worker
        finally:
            await source.aclose()

    async def _note(self, source_id: int, problem: str) -> None:
        try:
            await note_problem(self.engine, source_id, problem, at=self.clock())
        except Exception:
            log.exception("could not record a sync problem of source %s: %s", source_id, problem)

    async def _work(self, source_id: int, pending: _Pending) -> None:
        errors = 0
        while True:
            await pending.wake.wait()
            await asyncio.sleep(self.debounce_s)  # a burst of changes becomes one pass
            keys = pending.take()
            try:
                report = await sync_source(
                    self.engine,
                    source_id,
                    policy=self.policy,
                    factory=self.factory,
                    clock=self.clock,
                    keys=keys,
                    pushed=True,
                    lock_wait_s=max(self.policy.interval_s, 1.0),
                )
            except asyncio.CancelledError:
                raise
            except Exception:  # the database itself failed: keep the work and retry
                errors += 1
                pending.put_back(keys)
                log.exception("pushed sync of source %s failed", source_id)
                await asyncio.sleep(backoff_s(errors, self.policy))
                continue
            errors = 0
            if report.outcome in ("busy", "not_due"):
                # busy: still locked after the wait; not_due: the circuit is open. The work is
                # kept and tried again on the next change (the periodic pass covers it anyway).
                pending.keys |= keys or set()
                pending.rescan = pending.rescan or keys is None
            if self.on_pass is not None:
                self.on_pass(report)
