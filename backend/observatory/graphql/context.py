"""The typed per-request context: services, the caller, and fresh dataloaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from observatory.auth.keys import Caller
from observatory.db.replicas import Route
from observatory.graphql.limiter import KeyLimiter, SessionOpener
from observatory.graphql.loaders import Loaders
from observatory.services import Services
from observatory.settings import Settings


@dataclass
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
