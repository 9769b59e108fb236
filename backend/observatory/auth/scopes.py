"""Roles map to scopes; every GraphQL field declares the one scope it needs."""

from __future__ import annotations

from enum import StrEnum

from observatory.db.enums import Role


class Scope(StrEnum):
    SESSIONS_READ = "sessions:read"
    SESSIONS_WRITE = "sessions:write"
    REVIEWS_READ = "reviews:read"
    REVIEWS_WRITE = "reviews:write"
    METRICS_READ = "metrics:read"
    SYNC_READ = "sync:read"
    SYNC_WRITE = "sync:write"
    AGENTS_WRITE = "agents:write"  # apply AI proposals to an agent's own files
    KEYS_ADMIN = "keys:admin"
    ALERTS_READ = "alerts:read"
    ALERTS_WRITE = "alerts:write"
    WEBHOOKS_WRITE = "webhooks:write"


_VIEWER = frozenset(
    {
        Scope.SESSIONS_READ,
        Scope.REVIEWS_READ,
        Scope.METRICS_READ,
        Scope.SYNC_READ,
        Scope.ALERTS_READ,
    }
)
_REVIEWER = _VIEWER | {Scope.REVIEWS_WRITE}
_OPERATOR = _REVIEWER | {
    Scope.SYNC_WRITE,
    Scope.SESSIONS_WRITE,
    Scope.ALERTS_WRITE,
    Scope.AGENTS_WRITE,
    Scope.WEBHOOKS_WRITE,
}
_ADMIN = _OPERATOR | {Scope.KEYS_ADMIN}

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.VIEWER: _VIEWER,
    Role.REVIEWER: frozenset(_REVIEWER),
    Role.OPERATOR: frozenset(_OPERATOR),
    Role.ADMIN: frozenset(_ADMIN),
}


def scopes_for(role: Role) -> frozenset[Scope]:
    return ROLE_SCOPES[role]
