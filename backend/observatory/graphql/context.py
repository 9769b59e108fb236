"""The typed per-request context: services, the caller, and fresh dataloaders."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from observatory.auth.keys import Caller
from observatory.db.replicas import Route
from observatory.events import Subscription
from observatory.graphql.errors import Unauthenticated
from observatory.graphql.limiter import KeyLimiter, SessionOpener
from observatory.graphql.loaders import Loaders
from observatory.services import Services
from observatory.settings import Settings


@dataclass(eq=False)  # identity hashing: live auth keeps contexts in a WeakSet
class Context:
    services: Services
    caller: Caller | None
    loaders: Loaders
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = field(default=None)
    # HTTP requests with replicas configured: the primary unless the operation is a query.
    route: Route | None = None
    min_lsn: int | None = None  # X-Observatory-Min-Lsn: a write this caller must see
    limiter: KeyLimiter | None = None
    # Hub subscriptions of this (WebSocket) context, ended at once if its key is revoked.
    live: set[Subscription] = field(default_factory=set)
    ws_handler: Any = None  # the socket's graphql-transport-ws handler (set by the view)

    @property
    def db(self) -> SessionOpener:
        """Database sessions (the read route, else the primary), at most
        ``key_db_concurrency`` at once for the caller's key."""
        base: SessionOpener = self.route or self.services.session_factory
        if self.limiter is None:
            return base
        return self.limiter.opener(self.caller.key_id if self.caller else None, base)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @contextlib.contextmanager
    def subscribe(self, *kinds: str) -> Iterator[Subscription]:
        with self.services.events.subscribe(*kinds) as sub:
            self.live.add(sub)
            try:
                yield sub
            finally:
                self.live.discard(sub)

    async def recheck_key(self) -> None:
        """Each operation on a WebSocket re-checks its key (cached; the cache is invalidated by
        NOTIFY), so a revoked key's next operation is UNAUTHENTICATED even before the socket
        closes. HTTP requests resolved their key a moment ago."""
        if self.connection_params is None or self.caller is None:
            return
        raw = (
            self.connection_params.get("authorization")
            or self.connection_params.get("Authorization")
            or self.connection_params.get("apiKey")
        )
        if self.services.live_auth is None or not isinstance(raw, str):
            return
        now = await self.services.keys.resolve(bearer(raw))
        if now is None or now.role != self.caller.role:
            self.caller = None

    async def end(self, reason: str) -> None:
        """Live authorisation (observatory.auth.live): end every subscription with
        UNAUTHENTICATED, give the errors a moment to go out, then close the socket (4403)."""
        error = Unauthenticated(f"{reason}: this socket is closed")
        handler = self.ws_handler
        if handler is not None:
            # Shared subscriptions (graphql/fanout.py) run in a group context, not this one:
            # end each of this socket's operations with an error message of its own.
            for op_id in list(getattr(handler, "operations", {})):
                with contextlib.suppress(Exception):
                    await handler.send_message(
                        {"id": op_id, "type": "error", "payload": [error.formatted]}
                    )
        for sub in list(self.live):
            sub.fail(error)
        await asyncio.sleep(0.2)
        with contextlib.suppress(Exception):
            await self.request.close(code=4403, reason=reason)

    def fresh_loaders(self) -> Loaders:
        """Subscriptions: a WebSocket context lives long, so each event gets new loaders."""
        return Loaders(self.db)


def bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return value.strip() if not token else None
