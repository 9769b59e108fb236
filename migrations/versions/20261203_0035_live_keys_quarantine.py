"""live key revocation and per-session sync quarantine

- ``api_keys``: a trigger NOTIFYs ``api_key`` with the ids of updated or deleted keys, so every
  API worker drops its cached key and closes the open WebSockets of a revoked key (or one whose
  role changed) within a second.
- ``sessions.sync_error`` / ``sync_error_at``: the error of a session whose transcript could not
  be read. The sync skips it and retries on the next pass, while the source's other sessions keep
  syncing; a successful read clears it.

Revision ID: 0035
Revises: 0030
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("sync_error", sa.Text(), nullable=True))
    op.add_column("sessions", sa.Column("sync_error_at", sa.DateTime(timezone=True), nullable=True))
    # Only changes that matter to authorisation: the last_used_at touches (one per key a
    # minute) would otherwise invalidate every cache for nothing.
    op.execute(
        """
        CREATE FUNCTION observatory_api_keys_updated() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                  PERFORM observatory_notify_ids('api_key',
                    (SELECT array_agg(o.id ORDER BY o.id) FROM old_rows o JOIN new_rows n
                      ON n.id = o.id
                     WHERE (o.revoked_at, o.role, o.hash, o.name)
                           IS DISTINCT FROM (n.revoked_at, n.role, n.hash, n.name)));
                  RETURN NULL;
                END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER api_keys_updated AFTER UPDATE ON api_keys
              REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_api_keys_updated()
        """
    )
    op.execute(
        """
        CREATE FUNCTION observatory_api_keys_changed() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                  PERFORM observatory_notify_ids('api_key',
                    (SELECT array_agg(id ORDER BY id) FROM old_rows));
                  RETURN NULL;
                END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys
              REFERENCING OLD TABLE AS old_rows
              FOR EACH STATEMENT EXECUTE FUNCTION observatory_api_keys_changed()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER api_keys_deleted ON api_keys")
    op.execute("DROP TRIGGER api_keys_updated ON api_keys")
    op.execute("DROP FUNCTION observatory_api_keys_changed()")
    op.execute("DROP FUNCTION observatory_api_keys_updated()")
    op.drop_column("sessions", "sync_error_at")
    op.drop_column("sessions", "sync_error")
