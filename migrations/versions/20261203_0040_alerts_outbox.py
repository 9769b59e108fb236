"""alerts and the webhook outbox: rules, silences, alert history, endpoints, deliveries

Every NOTIFY payload now also carries `at`, the writing transaction's start (epoch seconds), so
workers can measure NOTIFY-to-delivery delay; it is the transaction's time, not the statement's,
so identical payloads in one transaction still collapse into one notification.
Alerts NOTIFY `alert_fired` (through the same chunked NOTIFY function as sessions) so the
`alertFired` subscription works on every API worker. The outbox is generic (topics): alert
deliveries today, session/run webhooks later.

Revision ID: 0040
Revises: 0035
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0040"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _check(name: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=name)


NOTIFY_IDS = """
CREATE OR REPLACE FUNCTION observatory_notify_ids(kind text, ids bigint[]) RETURNS void
        LANGUAGE plpgsql AS $$
        DECLARE
          chunk bigint[];
          i int := 1;
        BEGIN
          IF ids IS NULL THEN RETURN; END IF;
          WHILE i <= coalesce(array_length(ids, 1), 0) LOOP
            chunk := ids[i:i + 399];
            PERFORM pg_notify('observatory_events', json_build_object('kind', kind, 'ids', chunk%s)::text);
            i := i + 400;
          END LOOP;
        END $$
"""
AT = ", 'at', round(extract(epoch FROM now())::numeric, 6)"

KINDS = (
    "heartbeat_missed",
    "task_stalled",
    "failure_rate",
    "daily_cost",
    "sync_stale",
    "disagreement",
)


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=16), server_default="json", nullable=False),
        sa.Column(
            "topics",
            postgresql.ARRAY(sa.String(length=50)),
            server_default="{alerts}",
            nullable=False,
        ),
        sa.Column("signing_secret", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        _check("ck_webhook_endpoints_endpoint_format", "format", ("json", "slack", "discord")),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_endpoints"),
        sa.UniqueConstraint("name", name="uq_webhook_endpoints_name"),
    )
    op.create_table(
        "outbox_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=50), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("last_status_code", sa.SmallInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        _check("ck_outbox_deliveries_delivery_status", "status", ("pending", "delivered", "dead")),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name="fk_outbox_deliveries_endpoint_id_webhook_endpoints",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_deliveries"),
        sa.UniqueConstraint(
            "endpoint_id",
            "idempotency_key",
            name="uq_outbox_deliveries_endpoint_id_idempotency_key",
        ),
    )
    op.create_index(
        "ix_outbox_deliveries_due",
        "outbox_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_outbox_deliveries_endpoint_pending",
        "outbox_deliveries",
        ["endpoint_id", "id"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("agent_id", sa.String(length=200), nullable=True),
        sa.Column("threshold", sa.Numeric(18, 6), nullable=False),
        sa.Column("window_s", sa.Integer(), server_default="3600", nullable=False),
        sa.Column("min_sample", sa.Integer(), server_default="1", nullable=False),
        sa.Column("resolve_ratio", sa.Float(), server_default="0.8", nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_by_api_key_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        _check("ck_alert_rules_alert_rule_kind", "kind", KINDS),
        sa.CheckConstraint("window_s BETWEEN 60 AND 2678400", name="ck_alert_rules_window"),
        sa.CheckConstraint("min_sample >= 1", name="ck_alert_rules_min_sample"),
        sa.CheckConstraint(
            "resolve_ratio > 0 AND resolve_ratio <= 1", name="ck_alert_rules_resolve_ratio"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_api_key_id"],
            ["api_keys.id"],
            name="fk_alert_rules_created_by_api_key_id_api_keys",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_rules"),
    )
    op.create_table(
        "alert_silences",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.String(length=200), nullable=True),
        sa.Column(
            "starts_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by_api_key_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("ends_at > starts_at", name="ck_alert_silences_range"),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name="fk_alert_silences_rule_id_alert_rules",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_api_key_id"],
            ["api_keys.id"],
            name="fk_alert_silences_created_by_api_key_id_api_keys",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_silences"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=220), nullable=False),
        sa.Column("agent_id", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("silenced", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "fired_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        _check("ck_alerts_alert_state", "state", ("firing", "resolved")),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name="fk_alerts_rule_id_alert_rules",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index("ix_alerts_fired_at", "alerts", ["fired_at"])
    op.create_index(
        "uq_alerts_firing_subject",
        "alerts",
        ["rule_id", "subject"],
        unique=True,
        postgresql_where=sa.text("state = 'firing'"),
    )
    op.execute(NOTIFY_IDS % AT)
    op.execute(
        """
        CREATE FUNCTION observatory_alerts_inserted() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                  PERFORM observatory_notify_ids('alert_fired',
                    (SELECT array_agg(id ORDER BY id) FROM new_rows));
                  RETURN NULL;
                END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER alerts_inserted AFTER INSERT ON alerts
                  REFERENCING NEW TABLE AS new_rows
                  FOR EACH STATEMENT EXECUTE FUNCTION observatory_alerts_inserted()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS alerts_inserted ON alerts")
    op.execute("DROP FUNCTION IF EXISTS observatory_alerts_inserted()")
    op.execute(NOTIFY_IDS % "")
    op.drop_index("uq_alerts_firing_subject", table_name="alerts")
    op.drop_index("ix_alerts_fired_at", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_silences")
    op.drop_table("alert_rules")
    op.drop_index("ix_outbox_deliveries_endpoint_pending", table_name="outbox_deliveries")
    op.drop_index("ix_outbox_deliveries_due", table_name="outbox_deliveries")
    op.drop_table("outbox_deliveries")
    op.drop_table("webhook_endpoints")
