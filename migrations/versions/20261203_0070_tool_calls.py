"""tool_calls: every tool call of the cached transcripts with its result, duration and error group

Derived from the neutral message blocks (``tool_call`` / ``tool_result``) by sync in the same
transaction as the messages (observatory/db/tool_calls.py); this creates the table, the error
fingerprint function both use, and backfills the rows from the messages already cached.

Revision ID: 0070
Revises: 0060
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0070"
down_revision: str | None = "0060"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Agent frameworks stamp one error type on every failed call and put the real message in the
# text, so errors are grouped by the text with its variable parts replaced, in this order:
# quoted values (up to 255 characters: the regex repetition limit), URLs, UUIDs, paths
# (absolute, ~/ or relative like tests/x.py), long mixed ids (call_8f3a..., toolu_01...), hex,
# numbers; then whitespace is collapsed and the result cut to 300 characters.
FINGERPRINT = r"""
CREATE FUNCTION observatory_tool_error_fingerprint(body text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT left(btrim(regexp_replace(
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    regexp_replace(regexp_replace(
      left(coalesce(body, ''), 2000),
      $q$'[^'\n]{0,255}'|"[^"\n]{0,255}"|`[^`\n]{0,255}`$q$, '<q>', 'g'),
      '[A-Za-z][A-Za-z0-9+.-]*://[^\s<>]+', '<url>', 'g'),
      '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}', '<id>', 'g'),
      '(~|[A-Za-z0-9_.-]+)?(/[^\s/:,;<>()]+)+/?', '<path>', 'g'),
      '\m(?=[A-Za-z_-]*[0-9])(?=[0-9_-]*[A-Za-z])[A-Za-z0-9_-]{8,}\M', '<id>', 'g'),
      '\m[0-9A-Fa-f]{8,}\M', '<id>', 'g'),
      '[0-9]+(\.[0-9]+)?', '<n>', 'g'),
    '\s+', ' ', 'g')), 300)
$$
"""


def upgrade() -> None:
    op.execute(FINGERPRINT)
    op.create_table(
        "tool_calls",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("agent_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("call_message_id", sa.BigInteger(), nullable=False),
        sa.Column("block_index", sa.SmallInteger(), nullable=False),
        sa.Column("tool_call_id", sa.String(200), nullable=True),
        sa.Column("tool_name", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result_message_id", sa.BigInteger(), nullable=True),
        sa.Column("result_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("is_error", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("error_fingerprint", sa.Text(), nullable=True),
        sa.Column("error_text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_tool_calls_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_tool_calls_run_id_runs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["call_message_id"], ["messages.id"],
            name=op.f("fk_tool_calls_call_message_id_messages"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["result_message_id"], ["messages.id"],
            name=op.f("fk_tool_calls_result_message_id_messages"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tool_calls")),
        sa.UniqueConstraint(
            "call_message_id", "block_index",
            name=op.f("uq_tool_calls_call_message_id_block_index"),
        ),
    )  # fmt: skip
    op.create_index(
        "ix_tool_calls_session_call", "tool_calls", ["session_id", "tool_call_id"], unique=False
    )
    op.create_index(
        "ix_tool_calls_called",
        "tool_calls",
        ["called_at"],
        unique=False,
        postgresql_include=[
            "tool_name", "agent_id", "model", "kind", "is_error", "result_at", "duration_ms",
            "session_id",
        ],
    )  # fmt: skip
    op.create_index(
        "ix_tool_calls_errors",
        "tool_calls",
        ["tool_name", "error_fingerprint", sa.text("called_at DESC"), sa.text("id DESC")],
        unique=False,
        postgresql_where=sa.text("is_error"),
    )
    op.create_index("ix_tool_calls_run_id", "tool_calls", ["run_id"], unique=False)
    # Alert rules can watch each tool's error rate (new rule kind).
    op.drop_constraint("ck_alert_rules_alert_rule_kind", "alert_rules", type_="check")
    op.create_check_constraint(
        "ck_alert_rules_alert_rule_kind", "alert_rules", f"kind IN ({_kinds(RULE_KINDS)})"
    )
    # Backfill: a literal copy of observatory/db/tool_calls.py's DERIVE_ALL at this revision.
    op.execute(BACKFILL)


def downgrade() -> None:
    op.execute("DELETE FROM alert_rules WHERE kind = 'tool_error_rate'")
    op.drop_constraint("ck_alert_rules_alert_rule_kind", "alert_rules", type_="check")
    op.create_check_constraint(
        "ck_alert_rules_alert_rule_kind", "alert_rules", f"kind IN ({_kinds(RULE_KINDS[:-1])})"
    )
    op.drop_table("tool_calls")
    op.execute("DROP FUNCTION observatory_tool_error_fingerprint(text)")


RULE_KINDS = (
    "heartbeat_missed", "task_stalled", "failure_rate", "daily_cost", "sync_stale",
    "disagreement", "tool_error_rate",
)  # fmt: skip


def _kinds(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


_BLOCKS = (
    "jsonb_array_elements(CASE WHEN jsonb_typeof(m.content->'blocks') = 'array' "
    "THEN m.content->'blocks' ELSE '[]'::jsonb END) WITH ORDINALITY AS b(value, ord)"
)
BACKFILL = f"""
INSERT INTO tool_calls (session_id, run_id, agent_id, kind, call_message_id, block_index,
    tool_call_id, tool_name, model, called_at, result_message_id, result_at, duration_ms,
    is_error, error_fingerprint, error_text)
SELECT c.*, r.mid, r.created_at,
    CASE WHEN r.mid IS NOT NULL
        THEN greatest(0, (extract(epoch FROM r.created_at - c.called_at) * 1000)::bigint) END,
    coalesce(r.is_error, false),
    CASE WHEN r.is_error THEN observatory_tool_error_fingerprint(r.body) END,
    CASE WHEN r.is_error THEN left(r.body, 2000) END
FROM (
    SELECT m.session_id, m.run_id, s.agent_id, s.kind, m.id AS call_message_id,
        (b.ord - 1)::smallint AS block_index, left(b.value->>'id', 200) AS tool_call_id,
        left(coalesce(b.value->>'name', '?'), 200) AS tool_name, m.model, m.created_at AS called_at
    FROM messages m JOIN sessions s ON s.id = m.session_id
    CROSS JOIN LATERAL {_BLOCKS}
    WHERE b.value->>'type' = 'tool_call'
) c
LEFT JOIN (
    SELECT DISTINCT ON (m.session_id, m.run_id, b.value->>'tool_call_id') m.id AS mid,
        m.session_id, m.run_id, m.created_at, b.value->>'tool_call_id' AS call_id,
        coalesce(b.value->'is_error' = 'true'::jsonb, false) AS is_error,
        coalesce(b.value->>'text', '') AS body
    FROM messages m CROSS JOIN LATERAL {_BLOCKS}
    WHERE b.value->>'type' = 'tool_result' AND b.value->>'tool_call_id' IS NOT NULL
    ORDER BY m.session_id, m.run_id, b.value->>'tool_call_id', m.provider_session_id, m.seq
) r ON r.session_id = c.session_id AND r.call_id = c.tool_call_id
    AND coalesce(r.run_id, 0) = coalesce(c.run_id, 0)
"""
