import { describe, expect, it } from 'vitest';
import { sideBySide } from './diff';

const DIFF = `--- a/HEARTBEAT.md
+++ b/HEARTBEAT.md
@@ -1,4 +1,5 @@
 # Heartbeat
-- old rule
+- new rule
+- another rule
 - keep
`;

describe('sideBySide', () => {
  it('pairs removals with the additions after them and numbers both sides', () => {
    const rows = sideBySide(DIFF);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]).toEqual({ kind: 'hunk', text: '@@ -1,4 +1,5 @@' });
    expect(rows.slice(1)).toEqual([
      { kind: 'line', left: { no: 1, text: '# Heartbeat', kind: 'context' }, right: { no: 1, text: '# Heartbeat', kind: 'context' } },
      { kind: 'line', left: { no: 2, text: '- old rule', kind: 'del' }, right: { no: 2, text: '- new rule', kind: 'add' } },
      { kind: 'line', left: null, right: { no: 3, text: '- another rule', kind: 'add' } },
      { kind: 'line', left: { no: 3, text: '- keep', kind: 'context' }, right: { no: 4, text: '- keep', kind: 'context' } },
    ]);
  });

  it('ignores text that is not inside a hunk', () => {
    expect(sideBySide('make it better')).toEqual([]);
  });
});
