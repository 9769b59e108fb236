import { describe, expect, it } from 'vitest';
import { pageIndexOf, pageRangeLabel } from './paging';

describe('pageIndexOf', () => {
  it('is 0 without a cursor, whatever the stack', () => {
    expect(pageIndexOf(null, 0)).toBe(0);
    expect(pageIndexOf(null, 3)).toBe(0);
  });
  it('follows the stack depth with a cursor, at least 1', () => {
    expect(pageIndexOf('c1', 1)).toBe(1);
    expect(pageIndexOf('c3', 3)).toBe(3);
    expect(pageIndexOf('shared-url', 0)).toBe(1);
  });
});

describe('pageRangeLabel', () => {
  it('is a space while loading', () => {
    expect(pageRangeLabel(0, 50, 0, null, 'No sessions')).toBe(' ');
  });
  it('names an empty list', () => {
    expect(pageRangeLabel(0, 50, 0, 0, 'No heartbeats')).toBe('No heartbeats');
  });
  it('shows the range of the current page', () => {
    expect(pageRangeLabel(0, 50, 50, 1234, 'none')).toBe('1–50 of 1,234');
    expect(pageRangeLabel(2, 50, 17, 117, 'none')).toBe('101–117 of 117');
  });
});
