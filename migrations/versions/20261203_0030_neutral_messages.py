"""messages: store content in the provider-neutral message model

Until now ``messages.content`` held OpenClaw's own shape (``toolCall`` blocks, ``thinking`` keys,
``toolCallId``/``toolName``/``isError`` on tool-result messages), and five readers outside sync
parsed it. Sync now writes ``observatory.sync.source.MessageContent``; this converts the rows
already cached, and back on downgrade. Blocks of other kinds (images, raw JSON) are kept as they
are; rows already in the neutral form pass through unchanged, so the upgrade is idempotent.

Revision ID: 0030
Revises: 0020
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0030"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A literal copy of the mapping in observatory/sync/openclaw/events.py as of this revision.
TO_NEUTRAL = r"""
CREATE FUNCTION pg_temp.neutral_content(c jsonb) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  b jsonb;
  kept jsonb := '[]';
  texts text[] := '{}';
  meta jsonb := '{}';
  out jsonb;
  is_result boolean := c ? 'toolCallId' OR c ? 'toolName';
BEGIN
  IF jsonb_typeof(c) IS DISTINCT FROM 'object'
     OR jsonb_typeof(c->'blocks') IS DISTINCT FROM 'array' THEN
    RETURN c;
  END IF;
  FOR b IN SELECT value FROM jsonb_array_elements(c->'blocks') LOOP
    IF b->>'type' = 'text' AND jsonb_typeof(b->'text') = 'string' THEN
      IF is_result THEN
        texts := texts || (b->>'text');
        CONTINUE;
      END IF;
      b := jsonb_build_object('type', 'text', 'text', b->'text');
    ELSIF b->>'type' = 'thinking' AND jsonb_typeof(b->'thinking') = 'string' THEN
      b := jsonb_build_object('type', 'thinking', 'text', b->'thinking');
    ELSIF b->>'type' = 'toolCall' THEN
      b := jsonb_build_object('type', 'tool_call', 'id', b->'id',
                              'name', coalesce(b->'name', '"?"'), 'arguments', b->'arguments');
    ELSIF b->>'type' = 'compaction' AND b ? 'tokensBefore' THEN
      b := jsonb_build_object('type', 'compaction', 'summary', b->'summary',
                              'tokens_before', b->'tokensBefore', 'tokens_after', b->'tokensAfter');
    END IF;
    kept := kept || jsonb_build_array(b);
  END LOOP;
  IF is_result THEN
    kept := jsonb_build_array(jsonb_build_object(
      'type', 'tool_result', 'tool_call_id', c->'toolCallId', 'name', c->'toolName',
      'is_error', coalesce((c->>'isError')::boolean, false),
      'text', array_to_string(texts, E'\n'))) || kept;
  END IF;
  out := jsonb_build_object('blocks', kept);
  IF jsonb_typeof(c->'stopReason') = 'string' THEN
    out := out || jsonb_build_object('stop_reason', c->'stopReason');
  END IF;
  IF jsonb_typeof(c->'errorMessage') = 'string' THEN
    out := out || jsonb_build_object('error_message', c->'errorMessage');
  END IF;
  IF c ? 'provenance' THEN meta := meta || jsonb_build_object('provenance', c->'provenance'); END IF;
  IF c ? 'customType' THEN meta := meta || jsonb_build_object('custom_type', c->'customType'); END IF;
  IF c ? 'details' THEN meta := meta || jsonb_build_object('details', c->'details'); END IF;
  IF c ? 'rebuiltFrom' THEN
    meta := meta || jsonb_build_object('rebuilt_from', c->'rebuiltFrom');
  END IF;
  IF c ? 'meta' THEN meta := meta || (c->'meta'); END IF;
  IF c ? 'stop_reason' THEN out := out || jsonb_build_object('stop_reason', c->'stop_reason'); END IF;
  IF c ? 'error_message' THEN
    out := out || jsonb_build_object('error_message', c->'error_message');
  END IF;
  IF meta <> '{}' THEN
    out := out || jsonb_build_object('meta', meta);
  END IF;
  RETURN out;
END $$;
"""

TO_OPENCLAW = r"""
CREATE FUNCTION pg_temp.openclaw_content(c jsonb) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  b jsonb;
  kept jsonb := '[]';
  result jsonb;
  out jsonb;
BEGIN
  IF jsonb_typeof(c) IS DISTINCT FROM 'object'
     OR jsonb_typeof(c->'blocks') IS DISTINCT FROM 'array' THEN
    RETURN c;
  END IF;
  FOR b IN SELECT value FROM jsonb_array_elements(c->'blocks') LOOP
    IF b->>'type' = 'thinking' AND jsonb_typeof(b->'text') = 'string' THEN
      b := jsonb_build_object('type', 'thinking', 'thinking', b->'text');
    ELSIF b->>'type' = 'tool_call' THEN
      b := jsonb_build_object('type', 'toolCall', 'id', b->'id', 'name', b->'name',
                              'arguments', b->'arguments');
    ELSIF b->>'type' = 'compaction' AND b ? 'tokens_before' THEN
      b := jsonb_build_object('type', 'compaction', 'summary', b->'summary',
                              'tokensBefore', b->'tokens_before', 'tokensAfter', b->'tokens_after');
    ELSIF b->>'type' = 'tool_result' AND result IS NULL THEN
      result := b;
      IF coalesce(b->>'text', '') = '' THEN CONTINUE; END IF;
      b := jsonb_build_object('type', 'text', 'text', b->'text');
    END IF;
    kept := kept || jsonb_build_array(b);
  END LOOP;
  out := jsonb_build_object('blocks', kept);
  IF result IS NOT NULL THEN
    out := out || jsonb_build_object('toolCallId', result->'tool_call_id',
                                     'toolName', result->'name', 'isError', result->'is_error');
  END IF;
  IF c ? 'stop_reason' THEN out := out || jsonb_build_object('stopReason', c->'stop_reason'); END IF;
  IF c ? 'error_message' THEN
    out := out || jsonb_build_object('errorMessage', c->'error_message');
  END IF;
  IF c->'meta' ? 'provenance' THEN
    out := out || jsonb_build_object('provenance', c->'meta'->'provenance');
  END IF;
  IF c->'meta' ? 'custom_type' THEN
    out := out || jsonb_build_object('customType', c->'meta'->'custom_type');
  END IF;
  IF c->'meta' ? 'details' THEN
    out := out || jsonb_build_object('details', c->'meta'->'details');
  END IF;
  IF c->'meta' ? 'rebuilt_from' THEN
    out := out || jsonb_build_object('rebuiltFrom', c->'meta'->'rebuilt_from');
  END IF;
  RETURN out;
END $$;
"""


def upgrade() -> None:
    op.execute(TO_NEUTRAL)
    op.execute("UPDATE messages SET content = pg_temp.neutral_content(content)")
    op.execute("DROP FUNCTION pg_temp.neutral_content(jsonb)")


def downgrade() -> None:
    op.execute(TO_OPENCLAW)
    op.execute("UPDATE messages SET content = pg_temp.openclaw_content(content)")
    op.execute("DROP FUNCTION pg_temp.openclaw_content(jsonb)")
