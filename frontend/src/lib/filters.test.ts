import { describe, expect, it } from 'vitest';
import {
  heartbeatFilterOf,
  readHeartbeatState,
  readSessionState,
  resolveRange,
  sessionFilterOf,
  writeHeartbeatState,
  writeSessionState,
  queryString,
} from './filters';

const now = new Date('2026-11-27T10:00:30Z');

describe('session filters in the URL', () => {
  it('reads defaults from an empty query', () => {
    const s = readSessionState(new URLSearchParams(''));
    expect(s).toMatchObject({ agents: [], kinds: [], sort: 'STARTED_AT', dir: 'DESC', reviewed: null, after: null });
    expect(writeSessionState(s).toString()).toBe('');
  });
  it('round-trips every filter', () => {
    const q = 'agent=sofia,atlas&kind=task,cron&status=failed&q=deploy&range=custom&from=2026-11-01&to=2026-11-02&reviewed=no&verdict=partial&sort=cost&dir=asc';
    const s = readSessionState(new URLSearchParams(q));
    expect(s.kinds).toEqual(['TASK', 'CRON']);
    expect(s.statuses).toEqual(['FAILED']);
    expect(s.verdicts).toEqual(['PARTIAL']);
    expect(s.sort).toBe('COST');
    expect(queryString(writeSessionState(s))).toBe(q);
  });
  it('drops unknown enum values and de-duplicates', () => {
    const s = readSessionState(new URLSearchParams('kind=task,bogus,TASK&sort=nonsense&range=5y'));
    expect(s.kinds).toEqual(['TASK']);
    expect(s.sort).toBe('STARTED_AT');
    expect(s.range).toBe('');
  });
  it('builds the API filter with only the set conditions', () => {
    const params = new URLSearchParams('agent=sofia&kind=heartbeat&q=%20x%20&range=24h&reviewed=yes');
    const f = sessionFilterOf(readSessionState(params), params, now);
    expect(f).toEqual({
      agentIds: ['sofia'],
      kinds: ['HEARTBEAT'],
      search: 'x',
      startedAfter: '2026-11-26T10:01:00.000Z',
      hasReview: true,
    });
  });
});

describe('resolveRange', () => {
  it('makes custom day ranges inclusive', () => {
    const w = resolveRange(new URLSearchParams('range=custom&from=2026-11-01&to=2026-11-01'), now);
    expect(w).toEqual({ after: '2026-11-01T00:00:00.000Z', before: '2026-11-02T00:00:00.000Z' });
  });
  it('allows open-ended custom ranges and ignores junk', () => {
    expect(resolveRange(new URLSearchParams('range=custom&to=2026-11-03'), now).after).toBeNull();
    expect(resolveRange(new URLSearchParams('range=custom&from=yesterday'), now)).toEqual({ after: null, before: null });
  });
});

describe('heartbeat filters', () => {
  it('round-trips and builds the filter', () => {
    const q = 'agent=nova&status=failed&reviewed=no&quiet=no';
    const params = new URLSearchParams(q);
    const s = readHeartbeatState(params);
    expect(writeHeartbeatState(s).toString()).toBe(q);
    expect(heartbeatFilterOf(s, params, now)).toEqual({
      agentIds: ['nova'],
      statuses: ['FAILED'],
      reviewed: false,
      quiet: false,
    });
  });
});
