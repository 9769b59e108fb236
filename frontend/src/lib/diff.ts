// A unified diff as side-by-side rows: the file before on the left, after on the right. Pure,
// so the page only renders; context lines sit on both sides, a run of removals is paired with
// the run of additions that follows it.

export type Cell = { no: number; text: string; kind: 'context' | 'del' | 'add' } | null;
export type SideRow = { kind: 'hunk'; text: string } | { kind: 'line'; left: Cell; right: Cell };

const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/;

export function sideBySide(diff: string): SideRow[] {
  const rows: SideRow[] = [];
  let oldNo = 0;
  let newNo = 0;
  let dels: Cell[] = [];
  let adds: Cell[] = [];
  const flush = () => {
    for (let i = 0; i < Math.max(dels.length, adds.length); i++) {
      rows.push({ kind: 'line', left: dels[i] ?? null, right: adds[i] ?? null });
    }
    dels = [];
    adds = [];
  };
  let inHunk = false;
  for (const line of diff.split('\n')) {
    const h = HUNK.exec(line);
    if (h) {
      flush();
      oldNo = Number(h[1]);
      newNo = Number(h[2]);
      inHunk = true;
      rows.push({ kind: 'hunk', text: line });
      continue;
    }
    if (!inHunk || line.startsWith('\\')) continue;
    const body = line.slice(1);
    if (line.startsWith('-')) dels.push({ no: oldNo++, text: body, kind: 'del' });
    else if (line.startsWith('+')) adds.push({ no: newNo++, text: body, kind: 'add' });
    else if (line.startsWith(' ') || line === '') {
      flush();
      rows.push({
        kind: 'line',
        left: { no: oldNo++, text: body, kind: 'context' },
        right: { no: newNo++, text: body, kind: 'context' },
      });
    }
  }
  flush();
  // A trailing empty line after the last hunk is the diff's final newline, not a context line.
  const last = rows[rows.length - 1];
  if (last?.kind === 'line' && last.left?.kind === 'context' && last.left.text === '' && diff.endsWith('\n')) rows.pop();
  return rows;
}
