"""Per-request facts (request id, operation, key id) for logs and response headers.

The middleware puts one mutable ``RequestInfo`` in a context variable; code further down fills
it in place (the GraphQL extension adds the operation name and the caller's key id), so the
values reach the access log even where a callee ran in a copied context.
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass


@dataclass
class RequestInfo:
    request_id: str
    operation: str | None = None
    key_id: int | None = None


current: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar(
    "observatory_request", default=None
)


class RequestContextFilter(logging.Filter):
    """Stamps every record with the current request's id, operation and key id (never a
    secret: the key id is the database id of the API key)."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = current.get()
        record.request_id = info.request_id if info else None
        record.operation = info.operation if info else None
        record.key_id = info.key_id if info else None
        return True
