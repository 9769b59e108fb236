"""review loop: AI review policies, human queue claims/skips, improvement suggestions

Models: observatory/review/models.py (on the shared Base).

Revision ID: 0010
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "improvement_suggestions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=50), nullable=False),
        sa.Column("agent_id", sa.String(length=200), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "target_metrics",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "evidence",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("seen_count", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("applied_at", TZ, nullable=True),
        sa.Column("applied_by_api_key_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'applied', 'dismissed')",
            name=op.f("ck_improvement_suggestions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_improvement_suggestions_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["applied_by_api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_improvement_suggestions_applied_by_api_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement_suggestions")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_improvement_suggestions_dedupe_key")),
    )
    op.create_index(
        "ix_improvement_suggestions_status_created",
        "improvement_suggestions",
        ["status", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_table(
        "review_policies",
        sa.Column("agent_id", sa.String(length=200), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("review_tasks", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("heartbeat_sample_rate", sa.Float(), nullable=True),
        sa.Column("enabled_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_by_api_key_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "heartbeat_sample_rate IS NULL OR heartbeat_sample_rate BETWEEN 0 AND 1",
            name=op.f("ck_review_policies_sample_rate"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_review_policies_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_review_policies_updated_by_api_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_review_policies")),
    )
    for table, extra in (
        ("review_queue_claims", [sa.Column("claimed_at", TZ, server_default=sa.text("now()"), nullable=False), sa.Column("expires_at", TZ, nullable=False)]),
        ("review_queue_skips", [sa.Column("skipped_at", TZ, server_default=sa.text("now()"), nullable=False), sa.Column("until", TZ, nullable=False)]),
    ):  # fmt: skip
        op.create_table(
            table,
            sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
            sa.Column("session_id", sa.BigInteger(), nullable=False),
            sa.Column("run_id", sa.BigInteger(), nullable=True),
            sa.Column("api_key_id", sa.Integer(), nullable=True),
            *extra,
            sa.ForeignKeyConstraint(
                ["api_key_id"],
                ["api_keys.id"],
                name=op.f(f"fk_{table}_api_key_id_api_keys"),
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                ["run_id"], ["runs.id"], name=op.f(f"fk_{table}_run_id_runs"), ondelete="CASCADE"
            ),
            sa.ForeignKeyConstraint(
                ["session_id"],
                ["sessions.id"],
                name=op.f(f"fk_{table}_session_id_sessions"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        )
    op.create_index(
        "ix_review_queue_claims_expires", "review_queue_claims", ["expires_at"], unique=False
    )
    op.create_index(
        "uq_review_queue_claims_target",
        "review_queue_claims",
        ["session_id", sa.literal_column("coalesce(run_id, 0)")],
        unique=True,
    )
    op.create_index(
        "uq_review_queue_skips_target",
        "review_queue_skips",
        [
            sa.literal_column("coalesce(api_key_id, 0)"),
            "session_id",
            sa.literal_column("coalesce(run_id, 0)"),
        ],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_review_queue_skips_target", table_name="review_queue_skips")
    op.drop_table("review_queue_skips")
    op.drop_index("uq_review_queue_claims_target", table_name="review_queue_claims")
    op.drop_index("ix_review_queue_claims_expires", table_name="review_queue_claims")
    op.drop_table("review_queue_claims")
    op.drop_table("review_policies")
    op.drop_index("ix_improvement_suggestions_status_created", table_name="improvement_suggestions")
    op.drop_table("improvement_suggestions")
