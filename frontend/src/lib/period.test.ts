import { describe, expect, it } from 'vitest';
import { bucketFor, bucketRange, bucketStart, resolvePeriod } from './period';

const now = new Date('2026-11-27T10:17:00Z');

describe('resolvePeriod', () => {
  it('defaults to 7 days by day', () => {
    const p = resolvePeriod(new URLSearchParams(''), now);
    expect(p.key).toBe('7d');
    expect(p.bucket).toBe('DAY');
    expect(p.to.toISOString()).toBe('2026-11-28T00:00:00.000Z');
    expect(p.from.toISOString()).toBe('2026-11-21T00:00:00.000Z');
  });
  it('24h uses hourly buckets aligned to the hour', () => {
    const p = resolvePeriod(new URLSearchParams('period=24h'), now);
    expect(p.bucket).toBe('HOUR');
    expect(p.to.toISOString()).toBe('2026-11-27T11:00:00.000Z');
    expect(p.from.toISOString()).toBe('2026-11-26T11:00:00.000Z');
  });
  it('custom includes the whole `to` day', () => {
    const p = resolvePeriod(new URLSearchParams('period=custom&from=2026-11-01&to=2026-11-02'), now);
    expect(p.key).toBe('custom');
    expect(p.from.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(p.to.toISOString()).toBe('2026-11-03T00:00:00.000Z');
    expect(p.bucket).toBe('HOUR');
  });
  it('falls back on an invalid custom range', () => {
    expect(resolvePeriod(new URLSearchParams('period=custom&from=2026-11-05&to=2026-11-01'), now).key).toBe('7d');
    expect(resolvePeriod(new URLSearchParams('period=custom&from=junk'), now).key).toBe('7d');
    expect(resolvePeriod(new URLSearchParams('period=5y'), now).key).toBe('7d');
  });
});

describe('buckets', () => {
  it('chooses a legible bucket for the span', () => {
    expect(bucketFor(86_400_000)).toBe('HOUR');
    expect(bucketFor(30 * 86_400_000)).toBe('DAY');
    expect(bucketFor(365 * 86_400_000)).toBe('WEEK');
  });
  it('weeks start on Monday', () => {
    // 2026-11-27 is a Friday; its week starts Monday 2026-11-23
    const t = bucketStart(Date.parse('2026-11-27T10:00:00Z'), 'WEEK');
    expect(new Date(t).toISOString()).toBe('2026-11-23T00:00:00.000Z');
  });
  it('enumerates every bucket in [from, to)', () => {
    const r = bucketRange(new Date('2026-11-01T00:00:00Z'), new Date('2026-11-04T00:00:00Z'), 'DAY');
    expect(r.map((t) => new Date(t).toISOString().slice(0, 10))).toEqual([
      '2026-11-01',
      '2026-11-02',
      '2026-11-03',
    ]);
  });
});
