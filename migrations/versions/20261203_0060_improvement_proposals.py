"""improvement proposals: AI-written edits to an agent's own files, approved, applied, reverted;
on-demand review jobs claimed first; the AI endpoint's rate limit shared in PostgreSQL;
review jobs NOTIFY their ids on every change (kind ``review_job``), for the live job feed

Models: observatory/improve/models.py, observatory/review/models.py (ai_rate_limits),
observatory/db/models.py (review_jobs.on_demand).

Revision ID: 0060
Revises: 0040
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0060"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "improvement_proposals",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("agent_id", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("writable", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("file_name", sa.String(length=100), nullable=False),
        sa.Column("base_text", sa.Text(), nullable=True),
        sa.Column("diff", sa.Text(), server_default="", nullable=False),
        sa.Column("title", sa.Text(), server_default="", nullable=False),
        sa.Column("rationale", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "evidence",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "target_metrics",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("sessions_affected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cost_at_stake", sa.Numeric(precision=18, scale=8), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="proposed", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by_api_key_id", sa.Integer(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_by_api_key_id", sa.Integer(), nullable=True),
        sa.Column("before_text", sa.Text(), nullable=True),
        sa.Column("after_text", sa.Text(), nullable=True),
        sa.Column("reverted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reverted_by_api_key_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('proposed', 'invalid', 'approved', 'applied', 'reverted', 'dismissed')",
            name=op.f("ck_improvement_proposals_status"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_improvement_proposals_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["applied_by_api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_improvement_proposals_applied_by_api_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_improvement_proposals_approved_by_api_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reverted_by_api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_improvement_proposals_reverted_by_api_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sync_sources.id"],
            name=op.f("fk_improvement_proposals_source_id_sync_sources"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement_proposals")),
    )
    op.create_index(
        "ix_improvement_proposals_agent_created",
        "improvement_proposals",
        ["agent_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_index(
        "ix_improvement_proposals_status", "improvement_proposals", ["status"], unique=False
    )

    op.create_table(
        "ai_rate_limits",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column(
            "next_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_ai_rate_limits")),
    )
    op.add_column(
        "review_jobs",
        sa.Column("on_demand", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    # Jobs asked for by a person so far: those with a requesting key and a single target. Bulk
    # backfills also carry a key; they are few and finished long ago, so this errs harmlessly.
    op.execute(
        "UPDATE review_jobs SET on_demand = true "
        "WHERE requested_by_api_key_id IS NOT NULL AND status = 'queued'"
    )
    op.create_index(
        "ix_review_jobs_claim_order",
        "review_jobs",
        [sa.literal_column("on_demand DESC"), "created_at", "id"],
        unique=False,
        postgresql_where=sa.text("status = 'queued'"),
    )

    op.execute(
        """
        CREATE FUNCTION observatory_review_jobs_changed() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                  PERFORM observatory_notify_ids('review_job',
                    (SELECT array_agg(id::bigint) FROM new_rows));
                  RETURN NULL;
                END $$
        """
    )
    for name, op_name in (("review_jobs_inserted", "INSERT"), ("review_jobs_updated", "UPDATE")):
        op.execute(
            f"CREATE TRIGGER {name} AFTER {op_name} ON review_jobs "
            "REFERENCING NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION observatory_review_jobs_changed()"
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS review_jobs_inserted ON review_jobs")
    op.execute("DROP TRIGGER IF EXISTS review_jobs_updated ON review_jobs")
    op.execute("DROP FUNCTION IF EXISTS observatory_review_jobs_changed()")
    op.drop_index(
        "ix_review_jobs_claim_order",
        table_name="review_jobs",
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.drop_column("review_jobs", "on_demand")
    op.drop_table("ai_rate_limits")
    op.drop_index("ix_improvement_proposals_status", table_name="improvement_proposals")
    op.drop_index("ix_improvement_proposals_agent_created", table_name="improvement_proposals")
    op.drop_table("improvement_proposals")
