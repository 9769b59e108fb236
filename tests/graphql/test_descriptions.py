"""Every type, field, argument and enum value integrators see carries a description."""

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
)
from observatory.graphql import descriptions
from observatory.graphql.schema import build_schema as build_observatory_schema

BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def undescribed(schema: GraphQLSchema) -> list[str]:
    """Schema coordinates of every element without a description."""
    missing: list[str] = []
    for name, t in schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        if not t.description:
            missing.append(name)
        if isinstance(t, (GraphQLObjectType, GraphQLInterfaceType)):
            for fname, field in t.fields.items():
                if not field.description:
                    missing.append(f"{name}.{fname}")
                missing += [
                    f"{name}.{fname}({a}:)" for a, arg in field.args.items() if not arg.description
                ]
        elif isinstance(t, GraphQLInputObjectType):
            missing += [f"{name}.{f}" for f, field in t.fields.items() if not field.description]
        elif isinstance(t, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in t.values.items() if not value.description]
        else:
            assert isinstance(t, GraphQLScalarType), f"unexpected kind of type {name}"
    return missing


def test_every_element_is_described() -> None:
    schema = build_observatory_schema()._schema
    missing = undescribed(schema)
    assert not missing, (
        f"{len(missing)} schema elements lack a description (say the unit, what null means, the "
        "scope): describe them in code or in observatory/graphql/descriptions.py:\n"
        + "\n".join(missing)
    )


def test_the_walk_finds_what_is_missing() -> None:
    # The check can fail: an SDL with one undescribed element of each kind.
    sdl = '''
    """Q""" type Query { """f""" f(a: Int): E, g: Int }
    """E""" enum E { """X""" X Y }
    input I { i: Int }
    '''
    assert sorted(undescribed(build_schema(sdl))) == ["E.Y", "I", "I.i", "Query.f(a:)", "Query.g"]


def test_registry_names_only_existing_undescribed_elements() -> None:
    schema = build_observatory_schema()._schema
    assert not descriptions.unknown_coordinates(schema), "entries for elements that do not exist"
    # Built afresh, code descriptions are in place: an entry must not repeat one (one home each).
    from datetime import datetime

    import strawberry
    from strawberry.schema.config import StrawberryConfig

    from observatory.graphql.mutations import Mutation
    from observatory.graphql.queries import Query
    from observatory.graphql.subscriptions import Subscription
    from observatory.graphql.types.scalars import BIGINT_SCALAR, DATETIME_SCALAR, BigInt

    bare = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map={BigInt: BIGINT_SCALAR, datetime: DATETIME_SCALAR}),
    )
    shadowed = descriptions.apply_descriptions(bare._schema)
    assert not shadowed, f"described in code already, remove from descriptions.py: {shadowed}"


def test_schema_file_carries_units_and_scopes() -> None:
    sdl = build_observatory_schema().as_str()
    assert "Requires scope `sessions:read`" in sdl
    assert "excluding cache reads and writes" in sdl
    assert "USD" in sdl
