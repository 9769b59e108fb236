"""Domain enums shared by the database, the GraphQL schema and the sync adapters."""

from enum import StrEnum


class SessionKind(StrEnum):
    MAIN = "main"
    TASK = "task"
    HEARTBEAT = "heartbeat"
    CRON = "cron"
    CHANNEL = "channel"
    OTHER = "other"


class SessionStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    ARCHIVED = "archived"


class RunTrigger(StrEnum):
    MESSAGE = "message"
    HEARTBEAT = "heartbeat"
    CRON = "cron"
    SPAWN = "spawn"
    ANNOUNCE = "announce"
    OTHER = "other"


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class MessageRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    TOOL_RESULT = "tool_result"
    SYSTEM = "system"


class Verdict(StrEnum):
    ACCOMPLISHED = "accomplished"
    PARTIAL = "partial"
    FAILED = "failed"
    UNCLEAR = "unclear"


class ReviewerKind(StrEnum):
    HUMAN = "human"
    AI = "ai"


class Role(StrEnum):
    VIEWER = "viewer"
    REVIEWER = "reviewer"
    OPERATOR = "operator"
    ADMIN = "admin"


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class ReviewJobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
