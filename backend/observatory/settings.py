"""All configuration, from environment variables (prefix OBSERVATORY_), with embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from platformdirs import user_data_dir

from observatory.assets import dashboard_dir


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"OBSERVATORY_{name}")
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)) or default)


def _float(name: str, default: float) -> float:
    return float(_env(name, str(default)) or default)


def _bool(name: str, default: bool) -> bool:
    raw = _env(name)
    return default if raw is None else raw.lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    # None => embedded PostgreSQL under data_dir (see db/embedded.py).
    database_url: str | None
    data_dir: Path
    host: str
    port: int
    workers: int
    log_level: str
    frontend_dir: Path | None
    allowed_origins: tuple[str, ...]
    # GraphQL limits
    max_query_depth: int
    max_aliases: int
    max_tokens: int
    max_page_size: int
    max_metric_range_days: int
    # Hardening (issue 10): request size, argument sizes, node budget, DB time and fairness
    max_body_bytes: int
    max_string_length: int
    max_list_length: int
    max_query_nodes: int
    statement_timeout_ms: int
    key_db_concurrency: int
    open_introspection: bool
    ws_init_timeout_s: float
    # Sync
    sync_enabled: bool
    sync_interval_s: float
    sync_backoff_base_s: float
    sync_backoff_max_s: float
    # Push: sync a session as soon as its source reports a change (file watch, gateway events)
    sync_push: bool
    sync_debounce_s: float
    circuit_failure_threshold: int
    circuit_cooldown_s: float
    stale_after_s: float
    # Live events
    subscriber_queue_size: int
    # AI reviewer (OpenAI-compatible chat completions)
    ai_base_url: str | None
    ai_model: str
    ai_api_key: str | None
    ai_price_input_per_mtok: Decimal
    ai_price_output_per_mtok: Decimal
    ai_prompt_token_budget: int
    ai_max_concurrency: int
    ai_requests_per_minute: int
    ai_heartbeat_sample_rate: float
    # Zero-config OpenClaw source on this host (the gateway token stays in the environment,
    # read by the adapter under OBSERVATORY_OPENCLAW_TOKEN so it is never stored).
    openclaw_state_dir: str | None = None
    openclaw_gateway_url: str | None = None
    # Operations: alerts, webhook outbox, /metrics, logs
    alerts_enabled: bool = True
    alerts_interval_s: float = 30.0
    outbox_poll_s: float = 1.0
    outbox_timeout_s: float = 10.0
    outbox_max_attempts: int = 12
    outbox_disable_after: int = 36
    # Feed log retention: cursors older than this get CURSOR_EXPIRED (re-query, then follow).
    feed_retention_days: float = 7.0
    # None => /metrics answers 404; else it wants `Authorization: Bearer <key>`.
    metrics_key: str | None = None
    log_format: str = "text"  # text | json
    extra: dict[str, str] = field(default_factory=dict)
    # One execution per group of identical subscriptions (graphql/fanout.py); off = per socket.
    shared_subscriptions: bool = True
    # Streaming replicas for read-only GraphQL queries (db/replicas.py); polled every N s.
    database_replica_urls: tuple[str, ...] = ()
    replica_poll_s: float = 0.5
    # Persisted operations (graphql/persisted.py): a {sha256: document} manifest loaded at start
    # (None: `persisted-operations.json` in the dashboard directory, if there), and the roles
    # whose keys may send only its operations, not arbitrary documents.
    persisted_operations: Path | None = None
    persisted_only_roles: frozenset[str] = frozenset()

    @property
    def embedded(self) -> bool:
        return self.database_url is None


def load_settings() -> Settings:
    data_dir = Path(_env("DATA_DIR") or user_data_dir("session-observatory"))
    frontend = _env("FRONTEND_DIR")
    return Settings(
        database_url=_env("DATABASE_URL"),
        data_dir=data_dir,
        host=_env("HOST", "127.0.0.1") or "127.0.0.1",
        port=_int("PORT", 8000),
        workers=_int("WORKERS", 1),
        log_level=_env("LOG_LEVEL", "info") or "info",
        frontend_dir=Path(frontend) if frontend else dashboard_dir(),
        allowed_origins=tuple(
            o.strip() for o in (_env("ALLOWED_ORIGINS", "") or "").split(",") if o.strip()
        ),
        max_query_depth=_int("MAX_QUERY_DEPTH", 10),
        max_aliases=_int("MAX_ALIASES", 15),
        max_tokens=_int("MAX_TOKENS", 2000),
        max_page_size=_int("MAX_PAGE_SIZE", 200),
        max_metric_range_days=_int("MAX_METRIC_RANGE_DAYS", 400),
        max_body_bytes=_int("MAX_BODY_BYTES", 1 << 20),
        max_string_length=_int("MAX_STRING_LENGTH", 20_000),
        max_list_length=_int("MAX_LIST_LENGTH", 1000),
        # GitHub allows 500k nodes per call; the dashboard's largest operation asks 4.2k at
        # most (tests/graphql/test_guard.py). The stalling query of issue 10 asked 120M.
        max_query_nodes=_int("MAX_QUERY_NODES", 50_000),
        statement_timeout_ms=_int("STATEMENT_TIMEOUT_MS", 15_000),
        key_db_concurrency=_int("KEY_DB_CONCURRENCY", 6),
        open_introspection=_bool("OPEN_INTROSPECTION", False),
        persisted_operations=Path(p) if (p := _env("PERSISTED_OPERATIONS")) else None,
        persisted_only_roles=frozenset(
            r.strip().lower()
            for r in (_env("PERSISTED_ONLY_ROLES", "") or "").split(",")
            if r.strip()
        ),
        ws_init_timeout_s=_float("WS_INIT_TIMEOUT_S", 5.0),
        sync_enabled=_bool("SYNC_ENABLED", True),
        sync_interval_s=_float("SYNC_INTERVAL_S", 30.0),
        sync_backoff_base_s=_float("SYNC_BACKOFF_BASE_S", 2.0),
        sync_backoff_max_s=_float("SYNC_BACKOFF_MAX_S", 300.0),
        sync_push=_bool("SYNC_PUSH", True),
        # 100 ms: one turn writes its rows and events within a few ms; 1 s is the freshness goal
        sync_debounce_s=_float("SYNC_DEBOUNCE_S", 0.1),
        circuit_failure_threshold=_int("CIRCUIT_FAILURE_THRESHOLD", 5),
        circuit_cooldown_s=_float("CIRCUIT_COOLDOWN_S", 60.0),
        stale_after_s=_float("STALE_AFTER_S", 300.0),
        subscriber_queue_size=_int("SUBSCRIBER_QUEUE_SIZE", 100),
        ai_base_url=_env("AI_BASE_URL"),
        ai_model=_env("AI_MODEL", "gpt-4o-mini") or "gpt-4o-mini",
        ai_api_key=_env("AI_API_KEY"),
        ai_price_input_per_mtok=Decimal(_env("AI_PRICE_INPUT_PER_MTOK", "0") or "0"),
        ai_price_output_per_mtok=Decimal(_env("AI_PRICE_OUTPUT_PER_MTOK", "0") or "0"),
        ai_prompt_token_budget=_int("AI_PROMPT_TOKEN_BUDGET", 12000),
        ai_max_concurrency=_int("AI_MAX_CONCURRENCY", 2),
        ai_requests_per_minute=_int("AI_REQUESTS_PER_MINUTE", 60),
        ai_heartbeat_sample_rate=_float("AI_HEARTBEAT_SAMPLE_RATE", 0.1),
        openclaw_state_dir=_env("OPENCLAW_STATE_DIR"),
        openclaw_gateway_url=_env("OPENCLAW_GATEWAY_URL"),
        shared_subscriptions=_bool("SHARED_SUBSCRIPTIONS", True),
        database_replica_urls=tuple(
            u.strip() for u in (_env("DATABASE_REPLICA_URLS", "") or "").split(",") if u.strip()
        ),
        replica_poll_s=_float("REPLICA_POLL_S", 0.5),
        alerts_enabled=_bool("ALERTS_ENABLED", True),
        alerts_interval_s=_float("ALERTS_INTERVAL_S", 30.0),
        outbox_poll_s=_float("OUTBOX_POLL_S", 1.0),
        outbox_timeout_s=_float("OUTBOX_TIMEOUT_S", 10.0),
        outbox_max_attempts=_int("OUTBOX_MAX_ATTEMPTS", 12),
        outbox_disable_after=_int("OUTBOX_DISABLE_AFTER", 36),
        feed_retention_days=_float("FEED_RETENTION_DAYS", 7.0),
        metrics_key=_env("METRICS_KEY"),
        log_format=(_env("LOG_FORMAT", "text") or "text").lower(),
    )
