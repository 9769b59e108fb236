"""One permission class: every field declares the scope it needs with ``scoped(Scope.X)``."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from observatory.auth.scopes import Scope
from observatory.graphql.errors import Forbidden, Unauthenticated


class HasScope(BasePermission):
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        caller = info.context.caller
        if caller is None:
            raise Unauthenticated("a valid API key is required: send `Authorization: Bearer <key>`")
        if self.scope not in caller.scopes:
            raise Forbidden(
                f"this API key (role {caller.role.value}) lacks the scope `{self.scope.value}`",
                scope=self.scope.value,
            )
        return True


def scope_extension(scope: Scope) -> PermissionExtension:
    return PermissionExtension(permissions=[HasScope(scope)], use_directives=False)


def scoped(scope: Scope, *, description: str | None = None, **kwargs: Any) -> Any:
    """``strawberry.field`` that requires ``scope`` (noted in the field's description)."""
    text = f"{description} " if description else ""
    return strawberry.field(
        extensions=[scope_extension(scope)],
        description=f"{text}Requires scope `{scope.value}`.",
        **kwargs,
    )


def scoped_mutation(scope: Scope, *, description: str | None = None, **kwargs: Any) -> Any:
    text = f"{description} " if description else ""
    return strawberry.mutation(
        extensions=[scope_extension(scope)],
        description=f"{text}Requires scope `{scope.value}`.",
        **kwargs,
    )


def scoped_subscription(scope: Scope, *, description: str | None = None, **kwargs: Any) -> Any:
    text = f"{description} " if description else ""
    return strawberry.subscription(
        extensions=[scope_extension(scope)],
        description=f"{text}Requires scope `{scope.value}`.",
        **kwargs,
    )


def field_scope(field: Any) -> Scope | None:
    """The scope a Strawberry field declares (used by the schema walk test)."""
    for ext in getattr(field, "extensions", None) or ():
        if isinstance(ext, PermissionExtension):
            for perm in ext.permissions:
                if isinstance(perm, HasScope):
                    return perm.scope
    return None
