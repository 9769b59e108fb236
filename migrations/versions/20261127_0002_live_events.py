"""live events: triggers NOTIFY the ids of changed sessions, reviews and sync sources

Every committed change reaches LISTENers on every API worker, whoever wrote it (sync process,
API mutation, CLI), without writers having to remember to publish. Statement-level triggers with
transition tables send ids in chunks (a NOTIFY payload must stay under 8000 bytes), so a bulk
load sends a few notifications, not one per row. ``changed_at`` lets a listener catch up.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A literal copy of observatory.events.CHANNEL as of this revision.
CHANNEL = "observatory_events"

UPGRADE = [
    f"""
    CREATE FUNCTION observatory_notify_ids(kind text, ids bigint[]) RETURNS void
            LANGUAGE plpgsql AS $$
            DECLARE
              chunk bigint[];
              i int := 1;
            BEGIN
              IF ids IS NULL THEN RETURN; END IF;
              WHILE i <= coalesce(array_length(ids, 1), 0) LOOP
                chunk := ids[i:i + 399];
                PERFORM pg_notify('{CHANNEL}', json_build_object('kind', kind, 'ids', chunk)::text);
                i := i + 400;
              END LOOP;
            END $$
    """,
    """
    CREATE FUNCTION observatory_touch_session() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              NEW.changed_at := clock_timestamp();
              RETURN NEW;
            END $$
    """,
    """
    CREATE TRIGGER sessions_touch BEFORE UPDATE ON sessions
              FOR EACH ROW EXECUTE FUNCTION observatory_touch_session()
    """,
    """
    CREATE FUNCTION observatory_sessions_inserted() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM observatory_notify_ids('session_created',
                (SELECT array_agg(id ORDER BY id) FROM new_rows));
              RETURN NULL;
            END $$
    """,
    """
    CREATE FUNCTION observatory_sessions_updated() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM observatory_notify_ids('session_updated',
                (SELECT array_agg(DISTINCT n.id) FROM new_rows n JOIN old_rows o ON o.id = n.id
                 WHERE (n.status, n.title, n.run_count, n.total_cost, n.archived_at, n.pruned_at,
                        n.updated_at, n.ended_at, n.provider_session_id)
                   IS DISTINCT FROM
                       (o.status, o.title, o.run_count, o.total_cost, o.archived_at, o.pruned_at,
                        o.updated_at, o.ended_at, o.provider_session_id)));
              RETURN NULL;
            END $$
    """,
    """
    CREATE TRIGGER sessions_inserted AFTER INSERT ON sessions
              REFERENCING NEW TABLE AS new_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_sessions_inserted()
    """,
    """
    CREATE TRIGGER sessions_updated AFTER UPDATE ON sessions
              REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_sessions_updated()
    """,
    """
    CREATE FUNCTION observatory_reviews_changed() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'DELETE' THEN
                UPDATE sessions SET changed_at = clock_timestamp()
                  WHERE id IN (SELECT session_id FROM old_rows);
                PERFORM observatory_notify_ids('session_updated',
                  (SELECT array_agg(DISTINCT session_id) FROM old_rows));
              ELSE
                UPDATE sessions SET changed_at = clock_timestamp()
                  WHERE id IN (SELECT session_id FROM new_rows);
                PERFORM observatory_notify_ids('session_updated',
                  (SELECT array_agg(DISTINCT session_id) FROM new_rows));
              END IF;
              RETURN NULL;
            END $$
    """,
    """
    CREATE TRIGGER reviews_inserted AFTER INSERT ON reviews
              REFERENCING NEW TABLE AS new_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_reviews_changed()
    """,
    """
    CREATE TRIGGER reviews_updated AFTER UPDATE ON reviews
              REFERENCING NEW TABLE AS new_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_reviews_changed()
    """,
    """
    CREATE TRIGGER reviews_deleted AFTER DELETE ON reviews
              REFERENCING OLD TABLE AS old_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_reviews_changed()
    """,
    """
    CREATE FUNCTION observatory_sync_sources_changed() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM observatory_notify_ids('sync_status',
                (SELECT array_agg(id::bigint) FROM new_rows));
              RETURN NULL;
            END $$
    """,
    """
    CREATE TRIGGER sync_sources_inserted AFTER INSERT ON sync_sources
              REFERENCING NEW TABLE AS new_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_sync_sources_changed()
    """,
    """
    CREATE TRIGGER sync_sources_updated AFTER UPDATE ON sync_sources
              REFERENCING NEW TABLE AS new_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_sync_sources_changed()
    """,
]

DOWNGRADE = [
    "DROP TRIGGER IF EXISTS sync_sources_updated ON sync_sources",
    "DROP TRIGGER IF EXISTS sync_sources_inserted ON sync_sources",
    "DROP FUNCTION IF EXISTS observatory_sync_sources_changed()",
    "DROP TRIGGER IF EXISTS reviews_deleted ON reviews",
    "DROP TRIGGER IF EXISTS reviews_updated ON reviews",
    "DROP TRIGGER IF EXISTS reviews_inserted ON reviews",
    "DROP FUNCTION IF EXISTS observatory_reviews_changed()",
    "DROP TRIGGER IF EXISTS sessions_updated ON sessions",
    "DROP TRIGGER IF EXISTS sessions_inserted ON sessions",
    "DROP FUNCTION IF EXISTS observatory_sessions_updated()",
    "DROP FUNCTION IF EXISTS observatory_sessions_inserted()",
    "DROP TRIGGER IF EXISTS sessions_touch ON sessions",
    "DROP FUNCTION IF EXISTS observatory_touch_session()",
    "DROP FUNCTION IF EXISTS observatory_notify_ids(text, bigint[])",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
