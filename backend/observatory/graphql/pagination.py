"""Keyset pagination: opaque cursors hold the sort key and the id of the last row."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from observatory.graphql.errors import BadUserInput

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
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput("invalid cursor", field=field) from None
    if not isinstance(values, list) or len(values) != arity:
        raise BadUserInput("invalid cursor", field=field)
    return values


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
