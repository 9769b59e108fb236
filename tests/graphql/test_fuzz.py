"""Property-based fuzz of every root query and mutation field's arguments.

Hypothesis builds each field's arguments from their GraphQL types, mixing ordinary values with
the abusive ones of issue 10 (NUL, lone surrogates, 30k-character strings, out-of-range numbers,
cursors holding 1e400, naive and extreme date-times, 5,000-item lists, unknown enum-like
strings). Whatever comes in, the answer is a coded error or data, never a masked internal error
or a 5xx. Runs against its own small database (mutations change data) on a live server, with
a bounded number of examples per field (the whole module takes ~20-40 s here).
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from observatory.app import create_app
from observatory.auth.keys import create_key
from observatory.db.engine import asyncpg_dsn, make_engine, make_session_factory
from observatory.db.enums import Role
from observatory.demo import DemoConfig, load_demo
from observatory.graphql.schema import build_schema
from observatory.settings import load_settings
from tests.conftest import migrated_database
from tests.graphql.conftest import ANCHOR
from tests.livesrv import serve_in_thread

SCHEMA = build_schema()._schema
EXAMPLES_PER_FIELD = 12
# Mutations that would lock the fuzzer out of its own server.
SKIP = {"revokeApiKey"}


def _b64(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


NASTY_STRINGS = st.sampled_from(
    [
        "",
        "a\x00b",
        "\ud800",
        "x" * 30_000,
        "%_\\",
        "'; DROP TABLE sessions; --",
        _b64(["1e400", 1]),
        _b64([1e300, 10**30]),
        _b64(["2026-01-01T00:00:00", 1]),
        _b64(["9999-12-31T23:59:59-23:59", 1]),
        _b64([None, None]),
        _b64({"a": 1}),
        "queued",
        "exploded",
    ]
)
STRINGS = st.one_of(st.text(max_size=40), NASTY_STRINGS)
INTS = st.one_of(st.integers(-(2**31), 2**31 - 1), st.sampled_from([0, -1, 1, 200, 201, 2**31 - 1]))
BIG_INTS = st.one_of(st.integers(), st.sampled_from([2**63, -(2**63) - 1, 10**40]))
IDS = st.one_of(
    st.integers(-5, 400).map(str), STRINGS, st.sampled_from(["9" * 40, "1e400", "-1", "0"])
)
DATETIMES = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "2026-11-20T12:00:00Z",
            "2026-11-20T12:00:00",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+14:00",
            "not a date",
            "2026-02-30T00:00:00Z",
        ]
    ),
)
SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "Int": INTS,
    "Float": st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.just(1e308)),
    "String": STRINGS,
    "ID": IDS,
    "Boolean": st.booleans(),
    "DateTime": DATETIMES,
    "Date": st.one_of(st.dates().map(str), STRINGS),
    "Decimal": st.one_of(st.decimals(allow_nan=False, allow_infinity=False).map(str), STRINGS),
    "BigInt": BIG_INTS,
    "JSON": st.recursive(
        st.one_of(st.none(), st.booleans(), INTS, STRINGS),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(STRINGS, inner, max_size=3)
        ),
        max_leaves=6,
    ),
}


def strategy(t: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    if isinstance(t, GraphQLNonNull):
        return _non_null(t.of_type, depth)
    return st.one_of(st.none(), _non_null(t, depth))


def _non_null(t: Any, depth: int) -> st.SearchStrategy[Any]:
    if isinstance(t, GraphQLList):
        inner = strategy(t.of_type, depth + 1)
        return st.one_of(
            st.lists(inner, max_size=3),
            st.builds(lambda v: [v] * 5000, inner),  # over every list limit
        )
    if isinstance(t, GraphQLEnumType):
        return st.sampled_from(list(t.values))
    if isinstance(t, GraphQLInputObjectType):
        if depth > 3:
            return st.just({})
        fields = {name: strategy(f.type, depth + 1) for name, f in t.fields.items()}
        required = {n: s for n, s in fields.items() if isinstance(t.fields[n].type, GraphQLNonNull)}
        optional = {n: s for n, s in fields.items() if n not in required}
        return st.fixed_dictionaries(required, optional=optional)
    if isinstance(t, GraphQLScalarType):
        return SCALARS.get(t.name, STRINGS)
    raise TypeError(t)


def _operations() -> list[tuple[str, str, str, dict[str, st.SearchStrategy[Any]]]]:
    out = []
    for kind, root in (("query", SCHEMA.query_type), ("mutation", SCHEMA.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            if name in SKIP:
                continue
            params = ", ".join(f"${a}: {arg.type}" for a, arg in field.args.items())
            args = ", ".join(f"{a}: ${a}" for a in field.args)
            named = _named(field.type)
            selection = (
                "" if isinstance(named, GraphQLScalarType | GraphQLEnumType) else " { __typename }"
            )
            text = f"{kind} Fuzz{f'({params})' if params else ''} {{ {name}{f'({args})' if args else ''}{selection} }}"
            out.append((kind, name, text, {a: strategy(arg.type) for a, arg in field.args.items()}))
    return out


def _named(t: Any) -> Any:
    while hasattr(t, "of_type"):
        t = t.of_type
    return t


OPERATIONS = _operations()


@pytest.fixture(scope="module")
async def fuzz_db() -> AsyncIterator[tuple[str, str]]:
    async with migrated_database("obs_fuzz") as url:
        await load_demo(
            asyncpg_dsn(url),
            DemoConfig(sessions=12, runs_per_session=2, seed=5, anchor=ANCHOR, days=3),
        )
        engine = make_engine(url, pool_size=1)
        async with make_session_factory(engine)() as db, db.begin():
            secret = (await create_key(db, "fuzz", Role.ADMIN)).secret
        await engine.dispose()
        yield url, secret


@pytest.fixture(scope="module")
def fuzz_client(fuzz_db: tuple[str, str]) -> Iterator[httpx.Client]:
    url, secret = fuzz_db
    app = create_app(
        dataclasses.replace(load_settings(), database_url=url, frontend_dir=None),
        run_background=False,
    )
    with (
        serve_in_thread(app) as base,
        httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {secret}"}, timeout=30
        ) as client,
    ):
        yield client


def test_every_root_field_is_covered() -> None:
    names = {name for _, name, _, _ in OPERATIONS}
    assert {"sessions", "runs", "reviewJobs", "createReview", "syncSource"} <= names
    assert len(names) == len(SCHEMA.query_type.fields) + len(SCHEMA.mutation_type.fields) - len(
        SKIP
    )  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kind", "name", "text", "args"), OPERATIONS, ids=[o[1] for o in OPERATIONS]
)
def test_no_internal_error_for_any_argument(
    fuzz_client: httpx.Client, kind: str, name: str, text: str, args: dict[str, Any]
) -> None:
    @settings(
        max_examples=EXAMPLES_PER_FIELD,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(st.fixed_dictionaries(args))
    def check(variables: dict[str, Any]) -> None:
        body = json.dumps({"query": text, "variables": variables}).encode()  # \\ud800 escaped
        response = fuzz_client.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code < 500, response.text[:500]
        for error in response.json().get("errors") or []:
            code = (error.get("extensions") or {}).get("code")
            assert code and code != "INTERNAL", (
                name,
                variables if len(body) < 2000 else "…",
                error,
            )
            assert not error["message"].startswith("Internal error"), error

    check()
