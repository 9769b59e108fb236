"""Persisted operations: documents known by their SHA-256 hash, from a manifest loaded at start.

A request names a document by hash instead of sending it, either as GraphQL-over-HTTP's
``documentId`` ("sha256:<hex>" or bare hex) or Apollo's ``extensions.persistedQuery.sha256Hash``
(what urql's persisted exchange sends); GET works for queries, so URLs stay short. An unknown
hash is ``PERSISTED_QUERY_NOT_FOUND``. Keys of the roles in ``persisted_only_roles`` may send
only manifest operations (``PERSISTED_QUERY_REQUIRED`` otherwise); other keys may also send any
document in full."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from observatory.graphql.errors import ObservatoryError
from observatory.settings import Settings

log = logging.getLogger(__name__)

MANIFEST_NAME = "persisted-operations.json"


# Whether this HTTP request's document came from the manifest: set while parsing the request,
# read when the operation executes (the caller is known by then), in the same task.
FROM_MANIFEST: ContextVar[bool] = ContextVar("from_manifest", default=False)


class PersistedQueryRequired(ObservatoryError):
    code = "PERSISTED_QUERY_REQUIRED"


def require_persisted(caller: Any, settings: Settings) -> None:
    """Keys of a role in ``persisted_only_roles`` may run only manifest operations over HTTP."""
    role = getattr(getattr(caller, "role", None), "value", None)
    if role in settings.persisted_only_roles and not FROM_MANIFEST.get():
        raise PersistedQueryRequired(
            f"keys of role {role} may send only persisted operations (by hash), not documents"
        )


class PersistedError(Exception):
    """A request-level refusal (the operation never runs): a GraphQL error with this code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def document_hash(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class PersistedOperations:
    def __init__(self, documents: Mapping[str, str]) -> None:
        # A manifest whose hash does not match its document would run something other than
        # what the client named: refused at load, not at request time.
        for key, doc in documents.items():
            if document_hash(doc) != key.removeprefix("sha256:"):
                raise ValueError(
                    f"persisted operation {key[:16]}…: hash does not match its document"
                )
        self.documents = {k.removeprefix("sha256:"): v for k, v in documents.items()}

    @classmethod
    def from_settings(cls, settings: Settings) -> PersistedOperations:
        path = settings.persisted_operations
        if path is None and settings.frontend_dir is not None:
            candidate = Path(settings.frontend_dir) / MANIFEST_NAME
            path = candidate if candidate.is_file() else None
        if path is None:
            return cls({})
        documents = json.loads(Path(path).read_text())
        log.info("loaded %d persisted operations from %s", len(documents), path)
        return cls(documents)

    def resolve(self, data: dict[str, Any]) -> tuple[str | None, bool]:
        """The request's document and whether it came from the manifest; a request naming a
        hash must not also send a different document."""
        wanted = _requested_hash(data)
        if wanted is None:
            query = data.get("query")
            return (query if isinstance(query, str) else None), False
        document = self.documents.get(wanted)
        if document is None:
            raise PersistedError(
                "PERSISTED_QUERY_NOT_FOUND", f"no persisted operation has hash {wanted[:64]}"
            )
        query = data.get("query")
        if query not in (None, "", document):
            raise PersistedError(
                "BAD_REQUEST", "the query does not match the persisted operation's hash"
            )
        return document, True


def _requested_hash(data: dict[str, Any]) -> str | None:
    doc_id = data.get("documentId")
    if isinstance(doc_id, str) and doc_id:
        return doc_id.removeprefix("sha256:").lower()
    extensions = data.get("extensions")
    if isinstance(extensions, str):  # GET: extensions arrive JSON-encoded
        try:
            extensions = json.loads(extensions)
        except ValueError:
            return None
    if isinstance(extensions, dict):
        pq = extensions.get("persistedQuery")
        if isinstance(pq, dict) and isinstance(pq.get("sha256Hash"), str):
            return str(pq["sha256Hash"]).lower()
    return None
