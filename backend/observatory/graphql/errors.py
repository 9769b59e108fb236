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
