"""Node budget: how many objects a query can return, estimated before it runs.

Like GitHub's node limit: a field with ``first`` returns up to ``first`` objects for each of its
parent's objects, so the estimate multiplies ``first`` down nested connections (the default page
when ``first`` is left out). Introspection counts too: its lists are sized from this schema
(``types`` = every type, ``fields`` = the average fields per type, …), so the estimate is close
to the real size of the answer. The walk also measures depth with introspection included (the
depth rule of Strawberry skips ``__`` fields).

Example (issue 10): 15 aliases of ``sessions(first:200){…runs(first:200){…messages(first:200)}}``
estimate ~120M nodes and are refused; the dashboard's largest operation (ReviewQueue) estimates
1,050 (4,200 with every variable at the largest page).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

# `edges`/`nodes` of a connection: its `first` already counted them.
_CONNECTION_LISTS = frozenset({"edges", "nodes"})
# Lists without `first` (children, reviews, toolCalls, …) are short in practice: counted as
# this many, the way introspection lists count their schema's averages.
PLAIN_LIST = 10


@dataclass(frozen=True)
class Estimate:
    nodes: int
    depth: int


class _Sizes:
    """Average list lengths of this schema's introspection answer."""

    def __init__(self, schema: GraphQLSchema) -> None:
        types = list(schema.type_map.values())
        n = max(1, len(types))
        fields = [f for t in types for f in (getattr(t, "fields", None) or {}).values()]
        args = sum(len(getattr(f, "args", None) or {}) for f in fields)
        enum_values = sum(len(getattr(t, "values", None) or {}) for t in types)
        self.by_field = {
            "types": n,
            "fields": max(1, -(-len(fields) // n)),
            "inputFields": max(1, -(-len(fields) // n)),
            "args": max(1, -(-args // max(1, len(fields)))),
            "enumValues": max(1, -(-enum_values // n)),
            "interfaces": 1,
            "possibleTypes": 2,
            "directives": max(1, len(schema.directives)),
            "locations": 4,
        }


class NodeEstimator:
    """Built once per schema; ``estimate`` runs per request (a walk of the document)."""

    def __init__(self, schema: GraphQLSchema, default_page: int) -> None:
        self._schema = schema
        self._default_page = default_page
        self._sizes = _Sizes(schema).by_field

    def estimate(
        self,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any] | None,
    ) -> Estimate:
        root = self._schema.get_root_type(operation.operation)
        if root is None:
            return Estimate(0, 0)
        walk = _Walk(self, fragments, variables or {})
        nodes = walk.selection(root, operation.selection_set, 1, 1, frozenset())
        return Estimate(nodes, walk.depth)

    def multiplier(self, name: str, field: GraphQLField, first: Any, introspection: bool) -> int:
        if "first" in field.args:
            return first if isinstance(first, int) and first > 0 else self._default_page
        if not _is_list(field.type):
            return 1
        if introspection:
            return self._sizes.get(name, self._default_page)
        return 1 if name in _CONNECTION_LISTS else PLAIN_LIST


class _Walk:
    def __init__(
        self,
        estimator: NodeEstimator,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.est = estimator
        self.fragments = fragments
        self.variables = variables
        self.depth = 0

    def selection(
        self,
        parent: Any,
        selection_set: SelectionSetNode,
        count: int,
        depth: int,
        seen: frozenset[str],
    ) -> int:
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self.field(parent, node, count, depth, seen)
            elif isinstance(node, InlineFragmentNode):
                target = parent
                if node.type_condition is not None:
                    target = self.est._schema.get_type(node.type_condition.name.value) or parent
                total += self.selection(target, node.selection_set, count, depth, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:  # validation reports cycles
                    continue
                target = self.est._schema.get_type(fragment.type_condition.name.value) or parent
                total += self.selection(target, fragment.selection_set, count, depth, seen | {name})
        return total

    def field(
        self, parent: Any, node: FieldNode, count: int, depth: int, seen: frozenset[str]
    ) -> int:
        self.depth = max(self.depth, depth)
        if node.selection_set is None:
            return 0
        name = node.name.value
        field = _field_of(self.est._schema, parent, name)
        if field is None:
            return 0
        multiplier = self.est.multiplier(
            name, field, self._argument(node, "first"), name.startswith("__") or _is_meta(parent)
        )
        here = count * multiplier
        # Like GitHub, a connection or list counts its items; a single object (an edge's node,
        # a session's agent) rides along with its parent and adds nothing.
        own = (
            here
            if "first" in field.args or (_is_list(field.type) and name not in _CONNECTION_LISTS)
            else 0
        )
        inner = get_named_type(field.type)
        return own + self.selection(inner, node.selection_set, here, depth + 1, seen)

    def _argument(self, node: FieldNode, name: str) -> Any:
        for arg in node.arguments or ():
            if arg.name.value != name:
                continue
            value = arg.value
            if isinstance(value, IntValueNode):
                try:
                    return int(value.value)
                except ValueError:
                    return None
            if isinstance(value, VariableNode):
                return self.variables.get(value.name.value)
        return None


def _is_list(t: Any) -> bool:
    if isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLList)


def _is_meta(parent: Any) -> bool:
    return bool(getattr(parent, "name", "").startswith("__"))


def _field_of(schema: GraphQLSchema, parent: Any, name: str) -> GraphQLField | None:
    if name == "__schema":
        from graphql import SchemaMetaFieldDef

        return SchemaMetaFieldDef
    if name == "__type":
        from graphql import TypeMetaFieldDef

        return TypeMetaFieldDef
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return parent.fields.get(name)
    if isinstance(parent, GraphQLUnionType):
        return None  # only __typename is selectable on a union itself
    return None
