import { describe, expect, it } from 'vitest';
import { addArrival, liveMatches, mergeRows } from './live';

describe('liveMatches', () => {
  const row = { id: '1', startedAt: '2026-11-27T10:00:00Z', latestReview: null };
  it('checks the time window', () => {
    expect(liveMatches(row, {})).toBe(true);
    expect(liveMatches(row, { startedAfter: '2026-11-27T09:00:00Z' })).toBe(true);
    expect(liveMatches(row, { startedAfter: '2026-11-27T11:00:00Z' })).toBe(false);
    expect(liveMatches(row, { startedBefore: '2026-11-27T10:00:00Z' })).toBe(false);
  });
  it('checks reviews', () => {
    expect(liveMatches(row, { hasReview: true })).toBe(false);
    expect(liveMatches(row, { hasReview: false })).toBe(true);
    const reviewed = { ...row, latestReview: { verdict: 'PARTIAL' } };
    expect(liveMatches(reviewed, { verdicts: ['PARTIAL'] })).toBe(true);
    expect(liveMatches(reviewed, { verdicts: ['FAILED'] })).toBe(false);
    expect(liveMatches(row, { verdicts: ['FAILED'] })).toBe(false);
  });
});

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
