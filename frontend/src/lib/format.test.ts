import { describe, expect, it } from 'vitest';
import {
  formatDateTime,
  formatDuration,
  formatInteger,
  formatPercent,
  formatRate,
  formatRelative,
  formatTokens,
  formatUSD,
} from './format';

describe('formatTokens', () => {
  it('keeps small counts exact', () => {
    expect(formatTokens(0)).toBe('0');
    expect(formatTokens(950)).toBe('950');
  });
  it('uses k / M / B with sensible precision', () => {
    expect(formatTokens(1000)).toBe('1k');
    expect(formatTokens(1234)).toBe('1.23k');
    expect(formatTokens(12_345)).toBe('12.3k');
    expect(formatTokens(123_456)).toBe('123k');
    expect(formatTokens(500_000)).toBe('500k');
    expect(formatTokens(100_000)).toBe('100k');
    expect(formatTokens(10_000)).toBe('10k');
    expect(formatTokens(200_000_000)).toBe('200M');
    expect(formatTokens(4_560_000)).toBe('4.56M');
    expect(formatTokens(1_200_000_000)).toBe('1.2B');
  });
  it('promotes values that round up to the next unit', () => {
    expect(formatTokens(999_999)).toBe('1M');
  });
  it('renders unknown as a dash, not zero', () => {
    expect(formatTokens(null)).toBe('—');
    expect(formatTokens(undefined)).toBe('—');
  });
  it('accepts numeric strings (BigInt-ish scalars)', () => {
    expect(formatTokens('2500')).toBe('2.5k');
  });
});

describe('formatUSD', () => {
  it('formats dollars and cents', () => {
    expect(formatUSD(12.345)).toBe('$12.35');
    expect(formatUSD('1234.5')).toBe('$1,234.50');
    expect(formatUSD(0.37)).toBe('$0.37');
  });
  it('keeps two significant digits below a cent', () => {
    expect(formatUSD(0.0042)).toBe('$0.0042');
    expect(formatUSD('0.000123')).toBe('$0.00012');
  });
  it('zero and unknown differ', () => {
    expect(formatUSD(0)).toBe('$0');
    expect(formatUSD(null)).toBe('—');
  });
  it('compacts large values for axes', () => {
    expect(formatUSD(12_345, { compact: true })).toBe('$12.3K');
    expect(formatUSD(950, { compact: true })).toBe('$950.00');
  });
});

describe('formatDuration', () => {
  it('covers ms to days', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(1500)).toBe('1.5 s');
    expect(formatDuration(10_000)).toBe('10 s');
    expect(formatDuration(20_000)).toBe('20 s');
    expect(formatDuration(100)).toBe('100 ms');
    expect(formatDuration(12_340)).toBe('12.3 s');
    expect(formatDuration(245_000)).toBe('4m 05s');
    expect(formatDuration(2 * 3600_000 + 13 * 60_000)).toBe('2h 13m');
    expect(formatDuration(3 * 86_400_000 + 4 * 3600_000)).toBe('3d 4h');
    expect(formatDuration(null)).toBe('—');
  });
});

describe('formatPercent / formatInteger', () => {
  it('rounds ratios', () => {
    expect(formatPercent(0.873)).toBe('87%');
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(0.0042)).toBe('0.4%');
    expect(formatPercent(null)).toBe('—');
  });
  it('groups thousands', () => {
    expect(formatInteger(1234567)).toBe('1,234,567');
  });
});

describe('formatRelative', () => {
  const now = Date.parse('2026-11-27T12:00:00Z');
  it('describes past and future', () => {
    expect(formatRelative('2026-11-27T11:59:40Z', now)).toBe('just now');
    expect(formatRelative('2026-11-27T11:55:00Z', now)).toBe('5 min ago');
    expect(formatRelative('2026-11-27T09:00:00Z', now)).toBe('3 h ago');
    expect(formatRelative('2026-11-25T12:00:00Z', now)).toBe('2 d ago');
    expect(formatRelative('2026-11-27T12:05:00Z', now)).toBe('in 5 min');
    expect(formatRelative(null, now)).toBe('—');
  });
});

describe('formatDateTime', () => {
  it('names the zone, in UTC or in the browser zone', () => {
    const iso = '2026-12-03T17:05:00Z';
    expect(formatDateTime(iso, { zone: 'utc' })).toMatch(/UTC/);
    expect(formatDateTime(iso, { zone: 'utc' })).toMatch(/05/);
    expect(formatDateTime(iso, { zone: 'utc', short: true })).not.toMatch(/2026/);
    expect(formatDateTime(iso, { zone: 'local' })).toMatch(/UTC|GMT|[A-Z]{2,4}/);
    expect(formatDateTime(null)).toBe('—');
  });
});

describe('formatRate', () => {
  it('always gives the sample size, and no rate without a sample', () => {
    expect(formatRate(0.5714, 23)).toBe('57% · 23 reviews');
    expect(formatRate(1, 1)).toBe('100% · 1 review');
    expect(formatRate(null, 0)).toBe('— · 0 reviews');
    expect(formatRate(0, 0)).toBe('— · 0 reviews');
    expect(formatRate(0.5, 4, 'pairs')).toBe('50% · 4 pairs');
  });
});
