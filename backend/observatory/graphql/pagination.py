"""Keyset pagination: opaque cursors hold the sort key and the id of the last row."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, Select, tuple_
from strawberry.types import Info

from observatory.graphql.errors import BadUserInput
from observatory.graphql.rows import plain

DEFAULT_PAGE = 50


def encode_cursor(*values: Any) -> str:
    raw = json.dumps(
        [v if isinstance(v, int | float | str) or v is None else str(v) for v in values]
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int, field: str = "after") -> list[Any] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(
            base64.urlsafe_b64decode(padded.encode()).decode(),
            parse_float=_finite,
            parse_constant=_no_constant,
        )
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise BadUserInput("invalid cursor", field=field) from None
    if not isinstance(values, list) or len(values) != arity:
        raise BadUserInput("invalid cursor", field=field)
    return values


def _finite(text: str) -> float:
    value = float(text)  # 1e400 parses to inf: never a sort key we wrote
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _no_constant(text: str) -> Any:
    raise ValueError(text)  # NaN, Infinity


def page_size(first: int | None, maximum: int) -> int:
    if first is None:
        return min(DEFAULT_PAGE, maximum)
    if first < 1 or first > maximum:
        raise BadUserInput(f"`first` must be between 1 and {maximum}", field="first")
    return first


def parse_id(value: str | int | None, field: str = "id") -> int:
    try:
        parsed = int(str(value))
    except (TypeError, ValueError):
        raise BadUserInput(f"`{field}` must be a numeric id", field=field) from None
    if parsed < 1 or parsed > 2**63 - 1:
        raise BadUserInput(f"`{field}` is out of range", field=field)
    return parsed


def cursor_value(kind: str, raw: Any, field: str = "after") -> Any:
    """Turn a decoded cursor component back into the sort column's Python type."""
    try:
        if kind == "datetime":
            value = datetime.fromisoformat(str(raw))
            if value.tzinfo is None:
                raise ValueError("naive")
            return value.astimezone(UTC)  # OverflowError at the edges of the calendar
        if kind == "decimal":
            number = Decimal(str(raw))
            if not number.is_finite() or abs(number) >= Decimal(10) ** 20:
                raise ValueError("out of range")
            return number
        if kind == "int":
            if isinstance(raw, bool) or not isinstance(raw, int | str):
                raise ValueError("not an int")
            integer = int(raw)
            if not -(2**63) <= integer < 2**63:
                raise ValueError("out of range")
            return integer
    except (ValueError, TypeError, InvalidOperation, OverflowError):
        pass
    else:
        if isinstance(raw, str) and "\x00" in raw:
            raise BadUserInput("invalid cursor", field=field)
        return raw
    raise BadUserInput("invalid cursor", field=field)


def cursor_part(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@dataclass(frozen=True)
class Key:
    """One sort column of a keyset and the type its cursor component decodes to."""

    column: ColumnElement[Any]
    kind: str  # "datetime" | "decimal" | "int"


@dataclass(frozen=True)
class Page:
    """One page of rows (plain rows of the entity's columns), their cursors, and the filtered
    query without order or limit (what ``totalCount`` counts)."""

    rows: list[Any]
    cursors: list[str]
    has_next: bool
    base: Select[Any]


async def keyset_page(
    info: Info,
    base: Select[Any],
    keys: Sequence[Key],
    *,
    first: int | None,
    after: str | None,
    descending: bool,
) -> Page:
    """The one keyset pagination: rows strictly after the cursor in (keys...) order; the last
    key must be unique (the id) so that ties never skip or repeat a row."""
    limit = page_size(first, info.context.settings.max_page_size)
    columns = [k.column for k in keys]
    stmt = base
    cursor = decode_cursor(after, len(keys))
    if cursor is not None:
        values = tuple(cursor_value(k.kind, v) for k, v in zip(keys, cursor, strict=True))
        pair = tuple_(*columns)
        stmt = stmt.where(pair < values if descending else pair > values)
    stmt = stmt.order_by(*(c.desc() if descending else c.asc() for c in columns))
    # Plain rows of the entity's columns, not ORM instances: see observatory.graphql.rows.
    entity = base.column_descriptions[0]["entity"]
    stmt = stmt.with_only_columns(
        *plain(entity), *(c.label(f"_k{i}") for i, c in enumerate(columns))
    )
    async with info.context.db() as db:
        result = (await db.execute(stmt.limit(limit + 1))).all()
    page = result[:limit]
    n = len(columns)
    return Page(
        rows=list(page),
        cursors=[encode_cursor(*(cursor_part(v) for v in r[-n:])) for r in page],
        has_next=len(result) > limit,
        base=base,
    )


async def first_page(
    info: Info,
    loader: Any,
    parent_id: int,
    base: Select[Any],
    keys: Sequence[Key],
    first: int | None,
) -> Page:
    """A nested connection's first page through a batching loader keyed ``(parent, limit)``
    (observatory.graphql.loaders._first_pages), so the pages under a list of parents cost one
    statement, not one pooled session each. Rows come back in ``keys`` order."""
    limit = page_size(first, info.context.settings.max_page_size)
    result = await loader.load((parent_id, limit + 1))
    page = result[:limit]
    names = [getattr(k.column, "key", None) or k.column.name for k in keys]
    return Page(
        rows=page,
        cursors=[encode_cursor(*(cursor_part(getattr(r, n)) for n in names)) for r in page],
        has_next=len(result) > limit,
        base=base,
    )
