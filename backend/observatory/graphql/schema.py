"""Schema assembly: validation rules built once (so ValidationCache works), error masking."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from graphql import GraphQLError
from observatory.db.replicas import WRITE_LSN_HEADER, format_lsn
from observatory.graphql.cost import NodeEstimator
from observatory.graphql.descriptions import apply_descriptions
from observatory.graphql.errors import database_failure, is_expected
from observatory.graphql.executor import PlainFieldExecutor, mark_plain_fields
from observatory.graphql.guard import Guard
from observatory.graphql.mutations import Mutation
from observatory.graphql.pagination import DEFAULT_PAGE
from observatory.graphql.preload import serve_preloaded
from observatory.graphql.queries import Query
from observatory.graphql.subscriptions import Subscription
from observatory.graphql.types.scalars import BIGINT_SCALAR, DATETIME_SCALAR, BigInt
from observatory.monitoring.extension import OperationMetrics
from observatory.settings import Settings, load_settings

log = logging.getLogger("observatory.graphql")

# Error messages (ours and graphql-core's, which quote invalid values) are cut to this length in
# answers and logs: a 10 MB argument once wrote 40 MB of log in 0.44 s.
MAX_MESSAGE = 300


class ObservatorySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors (bad input, auth) are the caller's business: no traceback in our logs.
        for error in errors:
            if is_expected(error):
                continue
            original = error.original_error
            operation = execution_context.operation_name if execution_context else "?"
            text = str(original) if original is not None else error.message
            if len(text) <= MAX_MESSAGE:
                log.error("unexpected error in %s: %s", operation, text, exc_info=original)
            else:  # the traceback would end with the whole text: log its frames instead
                log.error(
                    "unexpected error in %s: %s: %s\n%s",
                    operation,
                    type(original).__name__,
                    _cut(text),
                    _frames(original),
                )


class MaskUnexpectedErrors(MaskErrors):
    """MaskErrors without its per-result runtime-Protocol isinstance check (measurable per
    subscription event: ~4% of fan-out time)."""

    def _process_result(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [self._one(e) for e in errors]  # type: ignore[attr-defined]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return _with(error, self.error_message, "INTERNAL")

    def _one(self, error: GraphQLError) -> GraphQLError:
        if not is_expected(error):
            code = database_failure(error.original_error)
            if code == "SERVICE_UNAVAILABLE":
                return _with(error, "The database is unavailable; try again shortly.", code)
            if code == "TIMEOUT":
                return _with(error, "The query ran longer than the statement timeout.", code)
            return self.anonymise_error(error)
        return coded(error)


def coded(error: GraphQLError) -> GraphQLError:
    """Every error the caller caused carries a stable ``extensions.code``: ours already do;
    graphql-core's syntax, validation and variable-coercion errors get one here."""
    extensions = error.extensions or {}
    variable = error.message.startswith("Variable '$")
    if "code" in extensions and len(error.message) <= MAX_MESSAGE:
        if not variable or "field" in extensions:
            return error
    original = error.original_error
    ext: dict[str, Any] = dict(extensions)
    if "code" not in ext:
        if isinstance(original, GraphQLError) and original.extensions:
            ext.update(original.extensions)
        message = error.message
        if message.startswith("Syntax Error"):
            ext.setdefault("code", "GRAPHQL_PARSE_FAILED")
        elif variable:
            ext.setdefault("code", "BAD_USER_INPUT")
        else:
            ext.setdefault("code", "GRAPHQL_VALIDATION_FAILED")
    if variable:
        ext.setdefault("field", error.message[len("Variable '$") :].split("'", 1)[0])
    return _with(error, _cut(error.message), None, ext)


def _with(
    error: GraphQLError, message: str, code: str | None, ext: dict[str, Any] | None = None
) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=ext if ext is not None else {"code": code},
    )


def _cut(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else f"{text[:MAX_MESSAGE]}… ({len(text)} characters)"


def _frames(exc: BaseException | None) -> str:
    import traceback

    if exc is None:
        return ""
    return "".join(traceback.format_tb(exc.__traceback__))


class ReadRouting(SchemaExtension):
    """With read replicas: a query may read from a caught-up replica (db/replicas.py); after a
    mutation the caller's write position is noted so its next reads see it."""

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        ctx = ec.context
        pool = getattr(ctx.services, "reads", None)
        key_id = ctx.caller.key_id if ctx.caller else None
        if pool is not None and ctx.route is not None and ec.operation_type is OperationType.QUERY:
            ctx.route.pick = lambda: pool.source(key_id, ctx.min_lsn)
        yield
        if pool is not None and ec.operation_type is OperationType.MUTATION:
            lsn = await pool.note_write(key_id)
            headers = getattr(ctx.response, "headers", None)
            if headers is not None:
                headers[WRITE_LSN_HEADER] = format_lsn(lsn)


def build_schema(settings: Settings | None = None) -> ObservatorySchema:
    s = settings or load_settings()
    rules: list[Any] = [
        depth_validator(s.max_query_depth, None),
        max_aliases_validator(s.max_aliases),
    ]
    routing: list[Any] = [ReadRouting] if s.database_replica_urls else []
    estimator: list[NodeEstimator] = []  # set once the schema exists (it sizes introspection)
    schema = ObservatorySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        execution_context_class=PlainFieldExecutor,
        config=StrawberryConfig(scalar_map={BigInt: BIGINT_SCALAR, datetime: DATETIME_SCALAR}),
        extensions=[
            *routing,
            lambda: MaxTokensLimiter(max_token_count=s.max_tokens),
            lambda: AddValidationRules(rules),
            OperationMetrics,
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
            lambda: Guard(s, estimator[0]),
            lambda: MaskUnexpectedErrors(
                should_mask_error=lambda e: not is_expected(e),
                error_message="Internal error (logged on the server).",
            ),
        ],
    )
    apply_descriptions(schema._schema)
    estimator.append(NodeEstimator(schema._schema, min(DEFAULT_PAGE, s.max_page_size)))
    serve_preloaded(schema._schema)
    mark_plain_fields(schema._schema)
    return schema


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
