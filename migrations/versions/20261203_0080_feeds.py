"""resumable feeds: a change log of session and run events with commit-safe positions

Every session insert/update that a subscriber would see, and every run that finishes, appends
one row to ``feed_events`` in the writer's own transaction (triggers: no writer can forget).
A row's position is ``(xid, id)``: the writing transaction's 64-bit id, then the sequence.
Readers only take rows whose ``xid`` is below the oldest transaction still running
(``pg_snapshot_xmin(pg_current_snapshot())``): every transaction below that horizon has ended, so
no row can appear later *behind* a position a reader has passed (a plain sequence cannot promise
that: values are drawn at write time and committed in another order). See observatory/feeds.
Webhook endpoints get a ``filter`` (session/run feed webhooks share the alerts outbox).

Revision ID: 0080
Revises: 0070
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0080"
down_revision: str | None = "0070"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A literal copy of observatory.events.CHANNEL as of this revision.
CHANNEL = "observatory_events"

# The columns whose change is a session event (the same list the session_updated NOTIFY uses,
# plus the latest review): touches of sync bookkeeping are not events.
_SESSION_COLUMNS = (
    "status, title, run_count, total_cost, archived_at, pruned_at, updated_at, ended_at, "
    "provider_session_id, latest_review_id, latest_verdict"
)

UPGRADE = [
    """
    CREATE FUNCTION observatory_feed_sessions_inserted() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              INSERT INTO feed_events (kind, entity_id)
                SELECT 'session_created', id FROM new_rows ORDER BY id;
              RETURN NULL;
            END $$
    """,
    f"""
    CREATE FUNCTION observatory_feed_sessions_updated() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              INSERT INTO feed_events (kind, entity_id)
                SELECT DISTINCT 'session_updated', n.id FROM new_rows n JOIN old_rows o
                  ON o.id = n.id
                 WHERE (n.{_SESSION_COLUMNS.replace(", ", ", n.")})
                   IS DISTINCT FROM (o.{_SESSION_COLUMNS.replace(", ", ", o.")})
                 ORDER BY 2;
              RETURN NULL;
            END $$
    """,
    """
    CREATE FUNCTION observatory_feed_runs_finished() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'INSERT' THEN
                INSERT INTO feed_events (kind, entity_id)
                  SELECT 'run_finished', id FROM new_rows WHERE finished_at IS NOT NULL ORDER BY id;
              ELSE
                INSERT INTO feed_events (kind, entity_id)
                  SELECT 'run_finished', n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                   WHERE o.finished_at IS NULL AND n.finished_at IS NOT NULL ORDER BY n.id;
              END IF;
              RETURN NULL;
            END $$
    """,
    # Any review change is a change of its session (as the session_updated NOTIFY has it).
    """
    CREATE FUNCTION observatory_feed_reviews_changed() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'DELETE' THEN
                INSERT INTO feed_events (kind, entity_id)
                  SELECT DISTINCT 'session_updated', session_id FROM old_rows ORDER BY 2;
              ELSE
                INSERT INTO feed_events (kind, entity_id)
                  SELECT DISTINCT 'session_updated', session_id FROM new_rows ORDER BY 2;
              END IF;
              RETURN NULL;
            END $$
    """,
    """
    CREATE TRIGGER reviews_feed_inserted AFTER INSERT ON reviews
              REFERENCING NEW TABLE AS new_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_feed_reviews_changed()
    """,
    """
    CREATE TRIGGER reviews_feed_updated AFTER UPDATE ON reviews
              REFERENCING NEW TABLE AS new_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_feed_reviews_changed()
    """,
    """
    CREATE TRIGGER reviews_feed_deleted AFTER DELETE ON reviews
              REFERENCING OLD TABLE AS old_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_feed_reviews_changed()
    """,
    # One NOTIFY per transaction (identical payloads collapse): listeners re-read the log.
    f"""
    CREATE FUNCTION observatory_feed_notify() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM pg_notify('{CHANNEL}', '{{"kind": "feed", "ids": []}}');
              RETURN NULL;
            END $$
    """,
    """
    CREATE TRIGGER sessions_feed_inserted AFTER INSERT ON sessions
              REFERENCING NEW TABLE AS new_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_feed_sessions_inserted()
    """,
    """
    CREATE TRIGGER sessions_feed_updated AFTER UPDATE ON sessions
              REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_feed_sessions_updated()
    """,
    """
    CREATE TRIGGER runs_feed_inserted AFTER INSERT ON runs
              REFERENCING NEW TABLE AS new_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_feed_runs_finished()
    """,
    """
    CREATE TRIGGER runs_feed_updated AFTER UPDATE ON runs
              REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_feed_runs_finished()
    """,
    """
    CREATE TRIGGER feed_events_notify AFTER INSERT ON feed_events
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_feed_notify()
    """,
]

DOWNGRADE = [
    "DROP TRIGGER IF EXISTS feed_events_notify ON feed_events",
    "DROP TRIGGER IF EXISTS reviews_feed_deleted ON reviews",
    "DROP TRIGGER IF EXISTS reviews_feed_updated ON reviews",
    "DROP TRIGGER IF EXISTS reviews_feed_inserted ON reviews",
    "DROP FUNCTION IF EXISTS observatory_feed_reviews_changed()",
    "DROP TRIGGER IF EXISTS runs_feed_updated ON runs",
    "DROP TRIGGER IF EXISTS runs_feed_inserted ON runs",
    "DROP TRIGGER IF EXISTS sessions_feed_updated ON sessions",
    "DROP TRIGGER IF EXISTS sessions_feed_inserted ON sessions",
    "DROP FUNCTION IF EXISTS observatory_feed_notify()",
    "DROP FUNCTION IF EXISTS observatory_feed_runs_finished()",
    "DROP FUNCTION IF EXISTS observatory_feed_sessions_updated()",
    "DROP FUNCTION IF EXISTS observatory_feed_sessions_inserted()",
]


def upgrade() -> None:
    op.create_table(
        "feed_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "xid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('session_created', 'session_updated', 'run_finished')",
            name="ck_feed_events_kind",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_feed_events"),
    )
    op.create_index("ix_feed_events_position", "feed_events", ["kind", "xid", "id"])
    op.create_index("ix_feed_events_all", "feed_events", ["xid", "id"])
    op.create_index("ix_feed_events_created", "feed_events", ["created_at"])
    # One row each: the pruned-through position (older cursors are expired) and the webhook
    # dispatcher's position.
    op.create_table(
        "feed_marks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_feed_marks"),
    )
    # Feed webhooks (topics "sessions", "runs") match events against the endpoint's filter.
    op.add_column(
        "webhook_endpoints",
        sa.Column("filter", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
    op.drop_column("webhook_endpoints", "filter")
    op.drop_table("feed_marks")
    op.drop_index("ix_feed_events_created", table_name="feed_events")
    op.drop_index("ix_feed_events_all", table_name="feed_events")
    op.drop_index("ix_feed_events_position", table_name="feed_events")
    op.drop_table("feed_events")
