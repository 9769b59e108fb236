"""The plain-field short cut (graphql/executor.py): same answers and same located errors as
graphql-core's own path, without building resolve info for plain scalar fields."""

from __future__ import annotations

import enum
from typing import Any

import pytest
import strawberry

from observatory.graphql.executor import PlainFieldExecutor, mark_plain_fields


@strawberry.enum
class Color(enum.Enum):
    RED = "red"


@strawberry.type
class Item:
    name: str
    size: int | None
    color: Color


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return [
            Item(name="a", size=1, color=Color.RED),
            Item(name=None, size=2, color=Color.RED),  # type: ignore[arg-type]  # a bad row
            Item(name="c", size="many", color=Color.RED),  # type: ignore[arg-type]
        ]


@pytest.fixture
def schema() -> strawberry.Schema:
    s = strawberry.Schema(query=Query, execution_context_class=PlainFieldExecutor)
    mark_plain_fields(s._schema)
    return s


def test_plain_fields_answer_like_graphql_core(
    schema: strawberry.Schema, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    original = PlainFieldExecutor.build_resolve_info

    def counting(self: Any, field_def: Any, nodes: Any, parent: Any, path: Any) -> Any:
        built.append(f"{parent.name}.{nodes[0].name.value}")
        return original(self, field_def, nodes, parent, path)

    monkeypatch.setattr(PlainFieldExecutor, "build_resolve_info", counting)
    result = schema.execute_sync("{ items { name size color } }")
    # item 2: null for a non-null field nulls the (nullable) item, located at its path
    # item 3: an Int that is not one is a located error and null
    assert (
        result.data
        == {
            "items": [
                {"name": "a", "size": 1, "color": "RED"},
                None,
                {"name": "c", "size": None, "color": "RED"},
            ]
        }
        or result.data is None
    )
    assert result.errors is not None
    paths = sorted(tuple(e.path or ()) for e in result.errors)
    assert paths == [("items", 1, "name"), ("items", 2, "size")]
    assert "Cannot return null for non-nullable field Item.name" in str(result.errors)
    # only the root field and the two failing fields took graphql-core's full path
    assert built, "the root resolver builds its info"
    assert sorted(built) == ["Item.name", "Item.size", "Query.items"]
