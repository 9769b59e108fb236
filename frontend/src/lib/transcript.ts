// Small pure helpers for rendering transcript messages. `content` is the server's neutral
// message model (backend sync/source.py): {blocks: [{type: text|thinking|tool_call|tool_result|
// compaction|…}], stop_reason?, error_message?, meta?}; no provider's own keys are read here.

interface Block {
  type?: unknown;
  name?: unknown;
  tool_call_id?: unknown;
  text?: unknown;
}

function blocks(content: unknown): Block[] {
  if (content && typeof content === 'object' && 'blocks' in content) {
    const b = (content as { blocks: unknown }).blocks;
    if (Array.isArray(b)) return b.filter((x): x is Block => !!x && typeof x === 'object');
  }
  return [];
}

/** The tool a tool_result message answers, when the provider recorded it. */
export function toolResultName(content: unknown): string | null {
  for (const b of blocks(content)) {
    if (b.type === 'tool_result' && typeof b.name === 'string' && b.name) return b.name;
  }
  return null;
}

/** Whether the message carries reasoning ("thinking") blocks, which `text` leaves out. */
export function hasThinking(content: unknown): boolean {
  return blocks(content).some((b) => b.type === 'thinking');
}

/** Pretty JSON for tool-call arguments; strings stay as they are. */
export function prettyArguments(args: unknown): string {
  if (args === null || args === undefined) return '';
  if (typeof args === 'string') return args;
  try {
    return JSON.stringify(args, null, 2);
  } catch {
    return String(args);
  }
}

/** A one-line preview of tool-call arguments for the collapsed summary. */
export function argumentsPreview(args: unknown, max = 80): string {
  let s: string;
  if (args && typeof args === 'object' && !Array.isArray(args)) {
    s = Object.entries(args as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(', ');
  } else {
    s = prettyArguments(args);
  }
  s = s.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export type Freshness = 'never' | 'behind' | 'fresh';

/** Is the cached transcript behind the session? (refreshed before the session last changed) */
export function transcriptFreshness(transcriptSyncedAt: string | null, updatedAt: string): Freshness {
  if (!transcriptSyncedAt) return 'never';
  return Date.parse(transcriptSyncedAt) + 1000 < Date.parse(updatedAt) ? 'behind' : 'fresh';
}
