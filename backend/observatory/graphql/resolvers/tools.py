"""Tool analytics queries: thin wrappers over observatory.improve.tools."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from observatory.auth.scopes import Scope
from observatory.db.tool_calls import ToolCallRow
from observatory.graphql.errors import BadUserInput
from observatory.graphql.pagination import Key, keyset_page
from observatory.graphql.permissions import scoped
from observatory.graphql.resolvers.metrics import check_metric_range
from observatory.graphql.types.metrics import MetricBucket
from observatory.graphql.types.tools import (
    FailedToolCall,
    FailedToolCallConnection,
    ToolErrorGroup,
    ToolFilterInput,
    ToolGroupBy,
    ToolSeries,
    ToolSeriesPoint,
    ToolUsage,
    decode_group,
)
from observatory.improve import tools

From = Annotated[datetime, strawberry.argument(name="from", description="Inclusive start.")]
To = Annotated[datetime, strawberry.argument(description="Exclusive end.")]
MAX_TOOLS = 200
MAX_GROUPS = 50
MAX_ERROR_GROUPS = 200


def _bounded(value: int, maximum: int, field: str) -> int:
    if value < 1 or value > maximum:
        raise BadUserInput(f"`{field}` must be between 1 and {maximum}", field=field)
    return value


def _filter(f: ToolFilterInput | None) -> tools.ToolFilter:
    return f.to_domain() if f else tools.ToolFilter()


def _tool_name(tool: str | None) -> str | None:
    if tool is not None and not 0 < len(tool) <= 200:
        raise BadUserInput("`tool` must be 1 to 200 characters", field="tool")
    return tool


@strawberry.type
class ToolsQuery:
    @scoped(Scope.METRICS_READ, description="Per tool: calls, sessions, error rate, durations.")
    async def tool_summary(
        self,
        info: Info,
        from_: From,
        to: To,
        filter: ToolFilterInput | None = None,
        split_by: Annotated[
            ToolGroupBy | None,
            strawberry.argument(description="Also split each tool by MODEL or AGENT."),
        ] = None,
        first: int = 50,
    ) -> list[ToolUsage]:
        check_metric_range(info, from_, to)
        limit = _bounded(first, MAX_TOOLS, "first")
        async with info.context.db() as db:
            rows = await tools.summary(
                db, from_, to, _filter(filter), limit, split_by.value if split_by else None
            )
        return [ToolUsage.build(r) for r in rows]

    @scoped(Scope.METRICS_READ, description="Tool calls per time bucket, split by a group.")
    async def tool_series(
        self,
        info: Info,
        group_by: ToolGroupBy,
        bucket: MetricBucket,
        from_: From,
        to: To,
        filter: ToolFilterInput | None = None,
        groups: Annotated[
            int, strawberry.argument(description="How many of the most-called groups.")
        ] = 10,
    ) -> ToolSeries:
        check_metric_range(info, from_, to, bucket.value)
        limit = _bounded(groups, MAX_GROUPS, "groups")
        async with info.context.db() as db:
            points = await tools.series(
                db, group_by.value, bucket.value, from_, to, _filter(filter), limit
            )
        totals: dict[str, int] = {}
        for p in points:
            totals[p.group] = totals.get(p.group, 0) + p.stats.calls
        return ToolSeries(
            group_by=group_by,
            from_=from_,
            to=to,
            groups=sorted(totals, key=lambda g: (-totals[g], g)),
            points=[ToolSeriesPoint.build(p) for p in points],
        )

    @scoped(Scope.METRICS_READ, description="Failed calls grouped by error fingerprint.")
    async def tool_errors(
        self,
        info: Info,
        from_: From,
        to: To,
        tool: Annotated[str | None, strawberry.argument(description="Null: every tool.")] = None,
        filter: ToolFilterInput | None = None,
        first: int = 20,
    ) -> list[ToolErrorGroup]:
        check_metric_range(info, from_, to)
        limit = _bounded(first, MAX_ERROR_GROUPS, "first")
        async with info.context.db() as db:
            found = await tools.error_groups(
                db, _tool_name(tool), from_, to, _filter(filter), limit
            )
        return [ToolErrorGroup.build(g) for g in found]

    @scoped(Scope.METRICS_READ, description="The failed calls of one error group, newest first.")
    async def tool_error_calls(
        self,
        info: Info,
        group: strawberry.ID,
        from_: From,
        to: To,
        filter: ToolFilterInput | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> FailedToolCallConnection:
        check_metric_range(info, from_, to)
        tool, fingerprint = decode_group(str(group))
        f = _filter(filter)
        t = ToolCallRow
        stmt = select(t).where(
            t.is_error,
            t.tool_name == tool,
            t.error_fingerprint == fingerprint,
            t.called_at >= from_,
            t.called_at < to,
        )
        for values, column in (
            (f.agent_ids, t.agent_id),
            (f.models, t.model),
            (f.kinds, t.kind),
        ):
            if values:
                stmt = stmt.where(column.in_(values))
        page = await keyset_page(
            info,
            stmt,
            [Key(t.called_at, "datetime"), Key(t.id, "int")],
            first=first,
            after=after,
            descending=True,
        )
        return FailedToolCallConnection.of(page, FailedToolCall.from_row)
