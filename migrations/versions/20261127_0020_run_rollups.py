"""roll-ups: hourly run aggregates and each session's latest review, kept exact by triggers

The 30-day metric series over ~2M runs took ~3 s as a raw aggregate on this machine (bench/);
the roll-up answers it from a few thousand rows. Triggers use transition tables, so a COPY of
thousands of runs costs one grouped upsert, and UPDATE/DELETE subtract what they replace.
Success rates and verdict filters need each session's latest review (a human review wins over
an AI one): computing it per query took ~140 ms over 40k reviews, so the review trigger keeps it
on the session (latest_review_id, latest_verdict).

Revision ID: 0020
Revises: 0010
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Literal copies of observatory.db.models.HIST_BUCKETS / ROLLUP_SUMS as of this revision.
HIST_BUCKETS = 32
HIST = [f"h{i}" for i in range(HIST_BUCKETS)]
SUMS = [
    "run_count", "failed_runs", "usage_runs", "input_tokens", "output_tokens",
    "cache_read_tokens", "cache_write_tokens", "cost_runs", "cost", "duration_runs", *HIST,
]  # fmt: skip


def _aggregates(sign: str) -> str:
    parts = [
        f"{sign} count(*)",
        f"{sign} count(*) FILTER (WHERE r.status = 'failed')",
        f"{sign} count(*) FILTER (WHERE r.input_tokens IS NOT NULL OR r.output_tokens IS NOT NULL)",
        f"{sign} coalesce(sum(r.input_tokens), 0)",
        f"{sign} coalesce(sum(r.output_tokens), 0)",
        f"{sign} coalesce(sum(r.cache_read_tokens), 0)",
        f"{sign} coalesce(sum(r.cache_write_tokens), 0)",
        f"{sign} count(r.cost)",
        f"{sign} coalesce(sum(r.cost), 0)",
        f"{sign} count(r.duration_ms)",
    ]
    parts += [f"{sign} count(*) FILTER (WHERE r.hb = {i})" for i in range(HIST_BUCKETS)]
    return ",\n".join(parts)


def _apply(table: str, sign: str, *, upsert: bool = True) -> str:
    updates = ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in SUMS)
    conflict = f"ON CONFLICT (bucket, agent_id, model, kind, trigger) DO UPDATE SET {updates}"
    return f"""
        INSERT INTO run_rollups AS t (bucket, agent_id, model, kind, trigger, {", ".join(SUMS)})
        SELECT date_trunc('hour', r.started_at, 'UTC'), r.agent_id, coalesce(r.model, ''),
               s.kind, r.trigger,
               {_aggregates(sign)}
        FROM (SELECT *, observatory_hist_bucket(duration_ms) AS hb FROM {table}) r
        JOIN sessions s ON s.id = r.session_id
        GROUP BY 1, 2, 3, 4, 5
        {conflict if upsert else ""};
    """


UPGRADE = [
    """
    CREATE FUNCTION observatory_hist_bucket(ms bigint) RETURNS int
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN ms IS NULL THEN NULL
                  WHEN ms < 50 THEN 0
                  ELSE least(31, 1 + floor(ln(ms / 50.0) / ln(1.5))::int) END
    $$
    """,
    f"""
    CREATE FUNCTION observatory_runs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      {_apply("new_rows", "")}
      RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION observatory_runs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      {_apply("old_rows", "-")}
      {_apply("new_rows", "")}
      DELETE FROM run_rollups WHERE run_count = 0;
      RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION observatory_runs_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      {_apply("old_rows", "-")}
      DELETE FROM run_rollups WHERE run_count = 0;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION observatory_runs_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      TRUNCATE run_rollups;
      RETURN NULL;
    END $$
    """,
    # A session's runs go before the session itself, while the session (and its kind) is
    # still visible to the runs' delete trigger.
    """
    CREATE FUNCTION observatory_session_deleting() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- A reviewed session cannot be deleted (reviews ON DELETE RESTRICT): leave it to that
      -- constraint to refuse, rather than touch the session's row from here first.
      IF NOT EXISTS (SELECT 1 FROM reviews WHERE session_id = OLD.id) THEN
        DELETE FROM runs WHERE session_id = OLD.id;
      END IF;
      RETURN OLD;
    END $$
    """,
    """
    CREATE TRIGGER runs_rollup_inserted AFTER INSERT ON runs REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION observatory_runs_inserted()
    """,
    """
    CREATE TRIGGER runs_rollup_updated AFTER UPDATE ON runs
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION observatory_runs_updated()
    """,
    """
    CREATE TRIGGER runs_rollup_deleted AFTER DELETE ON runs REFERENCING OLD TABLE AS old_rows
      FOR EACH STATEMENT EXECUTE FUNCTION observatory_runs_deleted()
    """,
    """
    CREATE TRIGGER runs_rollup_truncated AFTER TRUNCATE ON runs
      FOR EACH STATEMENT EXECUTE FUNCTION observatory_runs_truncated()
    """,
    """
    CREATE TRIGGER sessions_delete_runs_first BEFORE DELETE ON sessions
      FOR EACH ROW EXECUTE FUNCTION observatory_session_deleting()
    """,
    # Backfill from the runs already stored.
    _apply("runs", "")
    .replace("ON CONFLICT (bucket, agent_id, model, kind, trigger) DO UPDATE SET", "--")
    .split("--")[0],
]

_LATEST = """
    UPDATE sessions s SET latest_review_id = lr.id, latest_verdict = lr.verdict{touch}
    FROM (
      SELECT x.sid, r.id, r.verdict
      FROM (SELECT DISTINCT session_id AS sid FROM {source}) x
      LEFT JOIN LATERAL (
        SELECT id, verdict FROM reviews WHERE session_id = x.sid
        ORDER BY (reviewer_kind = 'human') DESC, created_at DESC, id DESC LIMIT 1
      ) r ON true
    ) lr
    WHERE s.id = lr.sid
"""

REVIEWS_CHANGED = f"""
    CREATE OR REPLACE FUNCTION observatory_reviews_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        {_LATEST.format(source="old_rows", touch=", changed_at = clock_timestamp()")};
        PERFORM observatory_notify_ids('session_updated',
          (SELECT array_agg(DISTINCT session_id) FROM old_rows));
      ELSE
        {_LATEST.format(source="new_rows", touch=", changed_at = clock_timestamp()")};
        PERFORM observatory_notify_ids('session_updated',
          (SELECT array_agg(DISTINCT session_id) FROM new_rows));
      END IF;
      RETURN NULL;
    END $$
"""

REVIEWS_CHANGED_0002 = """
    CREATE OR REPLACE FUNCTION observatory_reviews_changed() RETURNS trigger
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
"""

UPGRADE += [REVIEWS_CHANGED, _LATEST.format(source="reviews", touch="")]

DOWNGRADE = [
    REVIEWS_CHANGED_0002,
    "DROP TRIGGER IF EXISTS sessions_delete_runs_first ON sessions",
    "DROP TRIGGER IF EXISTS runs_rollup_truncated ON runs",
    "DROP TRIGGER IF EXISTS runs_rollup_deleted ON runs",
    "DROP TRIGGER IF EXISTS runs_rollup_updated ON runs",
    "DROP TRIGGER IF EXISTS runs_rollup_inserted ON runs",
    "DROP FUNCTION IF EXISTS observatory_session_deleting()",
    "DROP FUNCTION IF EXISTS observatory_runs_truncated()",
    "DROP FUNCTION IF EXISTS observatory_runs_deleted()",
    "DROP FUNCTION IF EXISTS observatory_runs_updated()",
    "DROP FUNCTION IF EXISTS observatory_runs_inserted()",
    "DROP FUNCTION IF EXISTS observatory_hist_bucket(bigint)",
]


def upgrade() -> None:
    op.create_table(
        "run_rollups",
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        *[
            sa.Column(
                c,
                sa.Numeric(18, 8) if c == "cost" else sa.BigInteger(),
                server_default="0",
                nullable=False,
            )
            for c in SUMS
        ],
        sa.PrimaryKeyConstraint(
            "bucket", "agent_id", "model", "kind", "trigger", name=op.f("pk_run_rollups")
        ),
    )
    op.create_index("ix_run_rollups_bucket", "run_rollups", ["bucket"], unique=False)
    op.add_column("sessions", sa.Column("latest_review_id", sa.BigInteger(), nullable=True))
    op.add_column("sessions", sa.Column("latest_verdict", sa.String(length=16), nullable=True))
    op.create_index("ix_sessions_latest_verdict", "sessions", ["latest_verdict"], unique=False)
    for statement in UPGRADE:
        op.execute(statement)
    op.create_index(
        "ix_sessions_reviewed",
        "sessions",
        ["started_at"],
        unique=False,
        postgresql_include=["agent_id", "kind", "model", "latest_verdict", "latest_review_id"],
        postgresql_where=sa.text("latest_verdict IS NOT NULL"),
    )


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
    op.drop_index("ix_sessions_reviewed", table_name="sessions")
    op.drop_index("ix_sessions_latest_verdict", table_name="sessions")
    op.drop_column("sessions", "latest_verdict")
    op.drop_column("sessions", "latest_review_id")
    op.drop_index("ix_run_rollups_bucket", table_name="run_rollups")
    op.drop_table("run_rollups")
