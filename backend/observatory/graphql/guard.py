"""The one gate every operation passes before it runs (HTTP and WebSocket alike).

- Arguments: every string (in the document or in variables) is at most
  ``max_string_length`` characters with no NUL and no lone surrogate (PostgreSQL refuses both,
  which surfaced as masked internal errors); every list has at most ``max_list_length`` items
  (40,000 ids once exceeded PostgreSQL's 32,767 bind parameters). Each refusal is
  BAD_USER_INPUT with ``extensions.field`` naming the argument.
- Introspection needs a key unless ``open_introspection`` is set.
- Node budget and depth, introspection included (observatory.graphql.cost): QUERY_TOO_COSTLY.

Checking the raw input once here replaces a check in every resolver; resolvers still validate
meaning (ranges, ids, enum-like strings).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    visit,
)
from observatory.graphql.cost import NodeEstimator
from observatory.graphql.errors import BadUserInput, QueryTooCostly, Unauthenticated
from observatory.graphql.persisted import require_persisted
from observatory.settings import Settings

# GraphiQL's own introspection query nests type references seven levels deep.
INTROSPECTION_DEPTH_ALLOWANCE = 5


def check_string(value: str, field: str, limit: int) -> None:
    if len(value) > limit:
        raise BadUserInput(f"`{field}` is longer than {limit} characters", field=field)
    if "\x00" in value:
        raise BadUserInput(f"`{field}` contains a NUL character", field=field)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadUserInput(
                f"`{field}` contains a lone surrogate (not valid Unicode)", field=field
            ) from None


def check_value(value: Any, field: str, settings: Settings) -> None:
    """Walk a JSON-like value (variables) without recursion (nesting depth is the caller's)."""
    stack: list[tuple[Any, str]] = [(value, field)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            check_string(item, path, settings.max_string_length)
        elif isinstance(item, list):
            if len(item) > settings.max_list_length:
                raise BadUserInput(
                    f"`{path}` has more than {settings.max_list_length} items", field=path
                )
            stack.extend((v, path) for v in item)
        elif isinstance(item, dict):
            for key, v in item.items():
                check_string(str(key), path, settings.max_string_length)
                stack.append((v, f"{path}.{key}"))


class _Literals(Visitor):
    """Checks literal arguments and maps each variable to the argument path it feeds."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.variable_fields: dict[str, str] = {}
        self.introspection = False

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.name.value in ("__schema", "__type"):
            self.introspection = True

    def enter_argument(self, node: ArgumentNode, *_: Any) -> Any:
        self._value(node.value, node.name.value)
        return Visitor.SKIP

    def _value(self, node: ValueNode, path: str) -> None:
        if isinstance(node, StringValueNode):
            check_string(node.value, path, self.settings.max_string_length)
        elif isinstance(node, ListValueNode):
            if len(node.values) > self.settings.max_list_length:
                raise BadUserInput(
                    f"`{path}` has more than {self.settings.max_list_length} items", field=path
                )
            for item in node.values:
                self._value(item, path)
        elif isinstance(node, ObjectValueNode):
            for f in node.fields:
                self._value(f.value, f"{path}.{f.name.value}")
        elif isinstance(node, VariableNode):
            self.variable_fields.setdefault(node.name.value, path)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return ops[0] if len(ops) == 1 else None
    return next((o for o in ops if o.name is not None and o.name.value == name), None)


class Guard(SchemaExtension):
    def __init__(self, settings: Settings, estimator: NodeEstimator) -> None:
        self.settings = settings
        self.estimator = estimator

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        loaders = getattr(context, "loaders", None)
        # HTTP only: a WebSocket context's loaders are replaced per event (subscriptions).
        if loaders is not None and getattr(context, "connection_params", None) is None:
            loaders.clear()

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        context = ec.context
        recheck = getattr(context, "recheck_key", None)
        if recheck is not None:
            await recheck()
        if getattr(context, "connection_params", None) is None:  # HTTP, not WebSocket
            require_persisted(getattr(context, "caller", None), self.settings)
        document = ec.graphql_document
        if document is not None:
            self.check(document, ec.operation_name, ec.variables, context)
        yield

    def check(
        self,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Any,
    ) -> None:
        literals = _Literals(self.settings)
        visit(document, literals)
        for name, value in (variables or {}).items():
            check_value(value, literals.variable_fields.get(name, name), self.settings)
        caller = getattr(context, "caller", None)
        if literals.introspection and caller is None and not self.settings.open_introspection:
            raise Unauthenticated(
                "introspection needs an API key: send `Authorization: Bearer <key>`"
            )
        operation = _operation(document, operation_name)
        if operation is None:
            return
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        estimate = self.estimator.estimate(operation, fragments, variables)
        budget = self.settings.max_query_nodes
        if estimate.nodes > budget:
            raise QueryTooCostly(
                f"this query could return up to {estimate.nodes} nodes; the budget is {budget} "
                "(OBSERVATORY_MAX_QUERY_NODES). Ask for smaller pages (`first`) or fewer nested "
                "connections.",
                nodes=estimate.nodes,
                budget=budget,
            )
        max_depth = self.settings.max_query_depth + INTROSPECTION_DEPTH_ALLOWANCE
        if estimate.depth > max_depth:
            raise QueryTooCostly(
                f"this query nests {estimate.depth} levels; at most {max_depth} are allowed "
                "(introspection included)",
                depth=estimate.depth,
                budget=max_depth,
            )
