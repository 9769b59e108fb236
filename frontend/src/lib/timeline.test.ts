import { describe, expect, it } from 'vitest';
import { barPosition, sessionSpan } from './timeline';

describe('run waterfall', () => {
  const span = sessionSpan('2026-12-03T10:00:00Z', ['2026-12-03T10:10:00Z', null, '2026-12-03T10:05:00Z'], 0);

  it('spans the session start to its latest known end', () => {
    expect(span.to - span.from).toBe(600_000);
  });
  it('places a run by its start and duration', () => {
    expect(barPosition('2026-12-03T10:05:00Z', 60_000, span)).toEqual({ left: 50, width: 10 });
  });
  it('lets a running run (no duration) reach the end and never overflows', () => {
    expect(barPosition('2026-12-03T10:08:00Z', null, span)).toEqual({ left: 80, width: 20 });
    expect(barPosition('2026-12-03T10:09:00Z', '600000', span)).toEqual({ left: 90, width: 10 });
  });
  it('survives a session with no end yet', () => {
    const s = sessionSpan('2026-12-03T10:00:00Z', [], Date.parse('2026-12-03T10:00:00Z'));
    expect(s.to - s.from).toBe(1000);
  });
});
