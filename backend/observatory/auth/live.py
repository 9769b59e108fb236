"""Live authorisation for long-lived connections (WebSockets).

A socket is authenticated once, at ``connection_init``, and may then live for hours. Every change
to ``api_keys`` is NOTIFYed (trigger, migration 0035); this watcher drops the key from the
resolver's cache and re-reads it for the sockets that use it. A key that was revoked, deleted or
given another role ends those sockets: their subscriptions end with UNAUTHENTICATED and the
socket closes (4403). A sweep every ``sweep_s`` re-checks every socket's key, in case the
listener missed a NOTIFY while it reconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any, Protocol

from observatory.auth.keys import Caller, KeyResolver

log = logging.getLogger(__name__)


class LiveSocket(Protocol):
    caller: Caller | None

    async def end(self, reason: str) -> None: ...


class LiveAuth:
    def __init__(self, keys: KeyResolver, events: Any, *, sweep_s: float = 30.0) -> None:
        self._keys = keys
        self._events = events
        self._sweep_s = sweep_s
        # Sockets forget themselves when they are garbage: no unregister call to miss.
        self._sockets: dict[int, weakref.WeakSet[Any]] = {}
        self._ending: set[asyncio.Task[None]] = set()

    def register(self, socket: LiveSocket) -> None:
        if socket.caller is not None:
            self._sockets.setdefault(socket.caller.key_id, weakref.WeakSet()).add(socket)

    @property
    def socket_count(self) -> int:
        return sum(len(s) for s in self._sockets.values())

    async def run(self) -> None:
        while True:
            try:
                await self._watch()
            except asyncio.CancelledError:
                raise
            except Exception:  # never let revocation silently stop working
                log.exception("live authorisation watcher failed; restarting")
                self._keys.invalidate(list(self._sockets))
                await asyncio.sleep(1.0)

    async def _watch(self) -> None:
        from observatory.events import SubscriberDropped

        while True:
            with self._events.subscribe("api_key") as sub:
                while True:
                    try:
                        event = await asyncio.wait_for(sub.next(), self._sweep_s)
                    except TimeoutError:
                        await self.recheck(list(self._sockets))
                        continue
                    except SubscriberDropped:  # a burst of key changes: start over
                        self._keys.invalidate(list(self._sockets))
                        await self.recheck(list(self._sockets))
                        break
                    self._keys.invalidate(event.ids)
                    await self.recheck([i for i in event.ids if i in self._sockets])

    async def recheck(self, key_ids: list[int]) -> None:
        for key_id in key_ids:
            sockets = self._sockets.get(key_id)
            if not sockets:
                self._sockets.pop(key_id, None)
                continue
            try:
                now = await self._keys.current(key_id)
            except Exception:  # the database is away: keep sockets, the sweep retries
                log.warning("cannot re-check API key %s", key_id, exc_info=True)
                continue
            for socket in list(sockets):
                before = socket.caller
                if before is None or (now is not None and now.role == before.role):
                    if now is not None:
                        socket.caller = now  # a renamed key keeps its socket
                    continue
                sockets.discard(socket)
                reason = "API key revoked" if now is None else "API key role changed"
                socket.caller = None  # every later operation on it is UNAUTHENTICATED
                task = asyncio.create_task(socket.end(reason), name="end-socket")
                self._ending.add(task)
                task.add_done_callback(self._ending.discard)

    async def stop(self) -> None:
        for task in list(self._ending):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
