"""Errors users can cause, each with a stable ``extensions.code``; everything else is masked."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


class ObservatoryError(GraphQLError):
    code = "INTERNAL"

    def __init__(self, message: str, *, field: str | None = None, **extra: Any) -> None:
        extensions: dict[str, Any] = {"code": self.code, **extra}
        if field is not None:
            extensions["field"] = field
        super().__init__(message, extensions=extensions)


class BadUserInput(ObservatoryError):
    code = "BAD_USER_INPUT"


class NotFound(ObservatoryError):
    code = "NOT_FOUND"


class Unauthenticated(ObservatoryError):
    code = "UNAUTHENTICATED"


class Forbidden(ObservatoryError):
    code = "FORBIDDEN"


class Conflict(ObservatoryError):
    code = "CONFLICT"


def is_expected(error: GraphQLError) -> bool:
    """Parse, validation and variable-coercion errors and our own errors are shown as they are;
    anything else (a bug, a database error) is masked and logged."""
    original = error.original_error
    return original is None or isinstance(original, GraphQLError)


class QueryTooCostly(ObservatoryError):
    """Refused before execution: the query could return more nodes (or nest deeper) than the
    configured budget allows (``OBSERVATORY_MAX_QUERY_NODES``)."""

    code = "QUERY_TOO_COSTLY"


class TooManyRequests(ObservatoryError):
    """This API key already holds its share of database connections."""

    code = "TOO_MANY_REQUESTS"


class ServiceUnavailable(ObservatoryError):
    code = "SERVICE_UNAVAILABLE"


class Timeout(ObservatoryError):
    code = "TIMEOUT"


def database_failure(exc: BaseException | None) -> str | None:
    """SERVICE_UNAVAILABLE when the database cannot be reached, TIMEOUT when a statement hit the
    statement timeout, else None. Walks the cause chain (SQLAlchemy wraps asyncpg wraps OSError)."""
    import asyncpg

    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, asyncpg.QueryCanceledError):
            return "TIMEOUT"
        if isinstance(
            exc,
            OSError
            | asyncpg.PostgresConnectionError
            | asyncpg.CannotConnectNowError
            | asyncpg.ConnectionDoesNotExistError
            | asyncpg.TooManyConnectionsError,
        ):
            return "SERVICE_UNAVAILABLE"
        if getattr(exc, "connection_invalidated", False):
            return "SERVICE_UNAVAILABLE"
        exc = exc.__cause__ or getattr(exc, "orig", None) or exc.__context__
        seen += 1
    return None
