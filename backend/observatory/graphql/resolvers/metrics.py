from __future__ import annotations

from datetime import datetime

from strawberry.types import Info

from observatory import metrics
from observatory.graphql.errors import BadUserInput
from observatory.graphql.types.metrics import (
    DurationBucket,
    MetricBucket,
    MetricFilterInput,
    MetricGroupBy,
    MetricPoint,
    MetricSeries,
    MetricSummary,
    VerdictPoint,
)


def check_metric_range(
    info: Info, start: datetime, end: datetime, bucket: str | None = None
) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise BadUserInput(
            "`from` and `to` need a time zone (e.g. 2026-11-01T00:00:00Z)", field="from"
        )
    if start >= end:
        raise BadUserInput("`from` must be before `to`", field="from")
    days = info.context.settings.max_metric_range_days
    if (end - start).days > days:
        raise BadUserInput(f"the time range is limited to {days} days", field="to")
    if bucket is not None and metrics.bucket_count(start, end, bucket) > metrics.MAX_BUCKETS:
        raise BadUserInput(
            f"too many buckets (max {metrics.MAX_BUCKETS}): use a larger bucket", field="bucket"
        )


def _filter(f: MetricFilterInput | None) -> metrics.MetricFilter:
    return f.to_domain() if f else metrics.MetricFilter()


async def metric_summary(
    info: Info, start: datetime, end: datetime, filter: MetricFilterInput | None
) -> MetricSummary:
    check_metric_range(info, start, end)
    async with info.context.db() as db:
        found = await metrics.summary(db, start, end, _filter(filter))
    return MetricSummary.build(start, end, found.get(None) or metrics.Summary())


async def metric_series(
    info: Info,
    group_by: MetricGroupBy,
    bucket: MetricBucket,
    start: datetime,
    end: datetime,
    filter: MetricFilterInput | None,
) -> MetricSeries:
    check_metric_range(info, start, end, bucket.value)
    async with info.context.db() as db:
        points = await metrics.series(db, group_by.value, bucket.value, start, end, _filter(filter))
    return MetricSeries(
        group_by=group_by,
        bucket=bucket,
        from_=start,
        to=end,
        groups=sorted({p.group for p in points}),
        points=[
            MetricPoint(
                bucket_start=p.bucket_start,
                group=p.group,
                run_count=p.runs.run_count,
                failed_runs=p.runs.failed_runs,
                input_tokens=p.runs.input_tokens,
                output_tokens=p.runs.output_tokens,
                cache_read_tokens=p.runs.cache_read_tokens,
                cache_write_tokens=p.runs.cache_write_tokens,
                total_tokens=p.runs.total_tokens,
                cost=p.runs.cost,
                duration_p50_ms=p.runs.duration_p50_ms,
                duration_p95_ms=p.runs.duration_p95_ms,
                review_count=p.review_count,
                success_rate=p.success_rate,
            )
            for p in points
        ],
    )


async def verdict_series(
    info: Info,
    bucket: MetricBucket,
    start: datetime,
    end: datetime,
    filter: MetricFilterInput | None,
) -> list[VerdictPoint]:
    from observatory.db.enums import Verdict

    check_metric_range(info, start, end, bucket.value)
    async with info.context.db() as db:
        rows = await metrics.verdict_series(db, bucket.value, start, end, _filter(filter))
    return [VerdictPoint(bucket_start=b, verdict=Verdict(v), count=n) for b, v, n in rows]


async def duration_histogram(
    info: Info, start: datetime, end: datetime, filter: MetricFilterInput | None
) -> list[DurationBucket]:
    check_metric_range(info, start, end)
    async with info.context.db() as db:
        rows = await metrics.duration_histogram(db, start, end, _filter(filter))
    return [DurationBucket(lower_ms=lo, upper_ms=hi, count=n) for lo, hi, n in rows]
