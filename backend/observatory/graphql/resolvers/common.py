from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from observatory.graphql.errors import BadUserInput
from observatory.graphql.pagination import parse_id

MAX_SEARCH = 200


@strawberry.enum(description="Sort direction.")
class Direction(Enum):
    ASC = "asc"
    DESC = "desc"


def like_pattern(search: str, field: str = "search") -> str:
    if len(search) > MAX_SEARCH:
        raise BadUserInput(f"`{field}` is longer than {MAX_SEARCH} characters", field=field)
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def check_range(start: datetime | None, end: datetime | None, field: str) -> None:
    if start is not None and end is not None and start > end:
        raise BadUserInput(f"`{field}`: the start is after the end", field=field)


def opt_id(value: strawberry.ID | None, field: str) -> int | None:
    return None if value is None else parse_id(value, field)


def caller_key_id(info: Info) -> int:
    return int(info.context.caller.key_id)
