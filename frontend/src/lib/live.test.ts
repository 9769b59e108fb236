import { describe, expect, it } from 'vitest';
import { addArrival, mergeRows } from './live';

describe('mergeRows', () => {
  const a = { id: 'a', v: 1 };
  const b = { id: 'b', v: 1 };
  const c = { id: 'c', v: 1 };
  it('puts arrivals first, dedupes, applies updates and keeps the page size', () => {
    const rows = mergeRows([a, b, c], [{ id: 'n', v: 1 }, { id: 'b', v: 9 }], new Map([['c', { id: 'c', v: 2 }]]), 3);
    expect(rows).toEqual([{ id: 'n', v: 1 }, { id: 'b', v: 9 }, { id: 'a', v: 1 }]);
    expect(mergeRows([a, b, c], [], new Map([['c', { id: 'c', v: 2 }]]), 10)).toEqual([a, b, { id: 'c', v: 2 }]);
  });
  it('addArrival ignores repeats', () => {
    const list = addArrival(addArrival([], a), b);
    expect(list.map((r) => r.id)).toEqual(['b', 'a']);
    expect(addArrival(list, a)).toBe(list);
  });
});
