"""Strawberry extension: operation latency and error codes to Prometheus, the operation name
and caller's key id to the request context (logs)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from observatory.monitoring import prom
from observatory.monitoring.context import current


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ec = self.execution_context
        op_type = ec.operation_type.value if ec.operation_type else "unknown"
        name = prom.operation_label(ec.operation_name)
        ctx = ec.context
        info = current.get()
        caller = getattr(ctx, "caller", None)
        if info is not None:
            info.operation = ec.operation_name
            info.key_id = caller.key_id if caller is not None else None
        if op_type != "subscription":  # a subscription's "latency" is its lifetime
            prom.graphql_seconds.labels(name, op_type).observe(time.perf_counter() - started)
        errors = ec.result.errors if ec.result is not None else None
        for error in errors or ():
            code = (error.extensions or {}).get("code") or (
                "INTERNAL" if error.message.startswith("Internal error") else "INVALID_QUERY"
            )
            prom.graphql_errors.labels(str(code)[:32]).inc()
        services = getattr(ctx, "services", None)
        if services is not None:
            pool = services.engine.pool
            prom.db_pool_checked_out.set(pool.checkedout())
            prom.db_pool_size.set(pool.size())
