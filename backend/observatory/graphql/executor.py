"""Execution of plain fields: an attribute read and a scalar coercion, nothing else.

A 50-row sessions page executes ~855 fields, ~700 of them plain scalar attributes (``id``,
``status``, ``startedAt``, …). graphql-core runs each through ``execute_field``: a
``GraphQLResolveInfo`` of 15 members, an argument check, the resolver, an awaitable check and
``complete_value``'s non-null/list/leaf dispatch — per field, for a value that is one
``getattr`` and one ``coerce_output_value`` away (bench/README.md, "Per-row cost").

``mark_plain_fields`` gives those fields a getter that reads the attribute in one call (instead
of Strawberry's three) and tags it with the leaf type; ``PlainFieldExecutor.execute_field``
answers a tagged field with the getter and the coercion only. Anything unusual (a null for a
non-null field, a coercion error, middleware, arguments) goes through graphql-core's own path,
so errors are located and reported exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql import (
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    is_leaf_type,
)

PLAIN = "_observatory_plain"  # attribute on a getter: (attrgetter, leaf type, non-null?)


def mark_plain_fields(schema: GraphQLSchema) -> None:
    """Fields with no resolver and no extension read their attribute in one call; scalar ones
    are also tagged for ``PlainFieldExecutor``."""
    for gql_type in schema.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType) or gql_type.name.startswith("__"):
            continue
        for field in gql_type.fields.values():
            definition = field.extensions.get("strawberry-definition")
            if (
                getattr(field.resolve, "__name__", None) == "_get_basic_result"
                and definition is not None
                and definition.default_resolver is getattr
            ):
                field.resolve = _getter(definition.python_name, field.type, bool(field.args))


def _getter(name: str, field_type: Any, has_args: bool) -> Callable[..., Any]:
    get = attrgetter(name)

    def resolve(source: Any, info: GraphQLResolveInfo) -> Any:
        return get(source)

    resolve._is_default = True  # type: ignore[attr-defined]  # as Strawberry marks it
    non_null = isinstance(field_type, GraphQLNonNull)
    leaf = field_type.of_type if non_null else field_type
    if is_leaf_type(leaf) and not has_args:
        setattr(resolve, PLAIN, (get, leaf, non_null))
    return resolve


class PlainFieldExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor with the plain-field short cut (see the module docstring)."""

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        field_def = parent_type.fields.get(node.name.value)  # None for __typename & co.
        plain = getattr(field_def.resolve, PLAIN, None) if field_def is not None else None
        middleware = self.middleware_manager  # Strawberry always passes one, usually empty
        if plain is None or node.arguments or (middleware is not None and middleware.middlewares):
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        get, leaf, non_null = plain
        leaf_type: GraphQLLeafType = leaf
        try:
            value = get(source)
            if value is None:
                if not non_null:
                    return None
            else:
                coerced = leaf_type.coerce_output_value(value)
                if coerced is not None and coerced is not Undefined:
                    return coerced
        except Exception:  # the full path below reports it, located
            pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
