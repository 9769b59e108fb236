import { describe, expect, it } from 'vitest';
import { argumentsPreview, hasThinking, prettyArguments, toolResultName, transcriptFreshness } from './transcript';

describe('transcript helpers', () => {
  it('finds the tool a result answers', () => {
    expect(
      toolResultName({ blocks: [{ type: 'tool_result', tool_call_id: 'c1', name: 'exec', is_error: false, text: 'ok' }] }),
    ).toBe('exec');
    expect(toolResultName({ blocks: [{ type: 'text', text: 'hi' }] })).toBeNull();
    expect(toolResultName(null)).toBeNull();
    expect(toolResultName({ blocks: 'nope' })).toBeNull();
  });
  it('detects thinking blocks', () => {
    expect(hasThinking({ blocks: [{ type: 'thinking', text: 'hmm' }] })).toBe(true);
    expect(hasThinking({ blocks: [{ type: 'text', text: 'hi' }] })).toBe(false);
    expect(hasThinking({})).toBe(false);
  });
  it('previews and pretty-prints arguments', () => {
    expect(argumentsPreview({ path: '/srv/app', recursive: true })).toBe('path: /srv/app, recursive: true');
    expect(argumentsPreview({ cmd: 'x'.repeat(200) }, 20)).toHaveLength(20);
    expect(prettyArguments({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(prettyArguments('raw')).toBe('raw');
    expect(prettyArguments(null)).toBe('');
  });
  it('judges transcript freshness', () => {
    expect(transcriptFreshness(null, '2026-11-27T10:00:00Z')).toBe('never');
    expect(transcriptFreshness('2026-11-27T09:00:00Z', '2026-11-27T10:00:00Z')).toBe('behind');
    expect(transcriptFreshness('2026-11-27T10:00:00Z', '2026-11-27T10:00:00.500Z')).toBe('fresh');
  });
});
