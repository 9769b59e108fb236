import { describe, expect, it } from 'vitest';
import { describeError, fieldErrors, hasCode, problemsOf } from './errors';

describe('problemsOf', () => {
  it('reads extensions.code and field', () => {
    const p = problemsOf({
      graphQLErrors: [{ message: 'rating must be 1..5', extensions: { code: 'BAD_USER_INPUT', field: 'input.rating' } }],
    });
    expect(p).toEqual([{ code: 'BAD_USER_INPUT', message: 'rating must be 1..5', field: 'input.rating' }]);
  });
  it('maps unknown codes to INTERNAL', () => {
    expect(problemsOf({ graphQLErrors: [{ message: 'boom' }] })[0]?.code).toBe('INTERNAL');
  });
  it('maps HTTP 401/403 network errors', () => {
    expect(problemsOf({ networkError: new Error('x'), response: { status: 401 } })[0]?.code).toBe('UNAUTHENTICATED');
    expect(problemsOf({ networkError: new Error('x'), response: { status: 403 } })[0]?.code).toBe('FORBIDDEN');
    expect(problemsOf({ networkError: new Error('Failed to fetch') })[0]?.code).toBe('NETWORK');
  });
  it('hasCode', () => {
    expect(hasCode({ graphQLErrors: [{ message: 'no', extensions: { code: 'FORBIDDEN' } }] }, 'FORBIDDEN')).toBe(true);
    expect(hasCode(undefined, 'FORBIDDEN')).toBe(false);
  });
});

describe('messages', () => {
  it('explains UNAUTHENTICATED and FORBIDDEN clearly', () => {
    expect(describeError({ graphQLErrors: [{ message: 'x', extensions: { code: 'UNAUTHENTICATED' } }] })).toMatch(
      /not accepted/,
    );
    expect(
      describeError({ graphQLErrors: [{ message: 'Missing scope reviews:write', extensions: { code: 'FORBIDDEN' } }] }),
    ).toMatch(/does not allow this\. Missing scope reviews:write/);
    expect(describeError(null)).toBeNull();
  });
  it('groups validation errors by their form field', () => {
    expect(
      fieldErrors({
        graphQLErrors: [
          { message: 'Rating must be between 1 and 5.', extensions: { code: 'BAD_USER_INPUT', field: 'input.rating' } },
          { message: 'Summary is too long.', extensions: { code: 'BAD_USER_INPUT', field: 'summary' } },
          { message: 'Bad cursor.', extensions: { code: 'BAD_USER_INPUT' } },
          { message: 'nope', extensions: { code: 'FORBIDDEN' } },
        ],
      }),
    ).toEqual({ rating: 'Rating must be between 1 and 5.', summary: 'Summary is too long.', _: 'Bad cursor.' });
  });
});
