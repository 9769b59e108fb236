// Turning GraphQL / network failures into messages a person can act on.
// The API reports user-causable errors as `errors[].extensions.code` (and `extensions.field`
// for validation), so the UI never parses message strings.

export type ApiCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'INTERNAL'
  | 'NETWORK';

export interface ApiProblem {
  code: ApiCode;
  message: string;
  /** For BAD_USER_INPUT: the input field at fault, e.g. `rating` or `input.rating`. */
  field: string | null;
}

/** The subset of urql's CombinedError we read (kept structural so it is easy to test). */
export interface ErrorLike {
  networkError?: Error | undefined;
  graphQLErrors?: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> | undefined }>;
  response?: unknown;
}

const KNOWN: ReadonlySet<string> = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'INTERNAL',
]);

function statusOf(response: unknown): number | null {
  if (response && typeof response === 'object' && 'status' in response) {
    const s = (response as { status: unknown }).status;
    return typeof s === 'number' ? s : null;
  }
  return null;
}

export function problemsOf(error: ErrorLike | null | undefined): ApiProblem[] {
  if (!error) return [];
  const out: ApiProblem[] = [];
  for (const e of error.graphQLErrors ?? []) {
    const ext = e.extensions ?? {};
    const raw = typeof ext.code === 'string' ? ext.code : 'INTERNAL';
    const code = (KNOWN.has(raw) ? raw : 'INTERNAL') as ApiCode;
    const field = typeof ext.field === 'string' ? ext.field : null;
    out.push({ code, message: e.message, field });
  }
  if (out.length === 0 && error.networkError) {
    const status = statusOf(error.response);
    if (status === 401) out.push({ code: 'UNAUTHENTICATED', message: 'Unauthorized', field: null });
    else if (status === 403) out.push({ code: 'FORBIDDEN', message: 'Forbidden', field: null });
    else out.push({ code: 'NETWORK', message: error.networkError.message, field: null });
  }
  return out;
}

export function hasCode(error: ErrorLike | null | undefined, code: ApiCode): boolean {
  return problemsOf(error).some((p) => p.code === code);
}

/** One sentence for a banner. */
export function describeProblem(p: ApiProblem): string {
  switch (p.code) {
    case 'UNAUTHENTICATED':
      return 'This API key was not accepted: it is unknown, mistyped or revoked. Sign in with a valid key.';
    case 'FORBIDDEN':
      return `Your API key's role does not allow this. ${p.message}`.trim();
    case 'NOT_FOUND':
      return p.message || 'Not found.';
    case 'CONFLICT':
      return p.message || 'Someone else changed this in the meantime; reload and try again.';
    case 'BAD_USER_INPUT':
      return p.message;
    case 'NETWORK':
      return `Cannot reach the API (${p.message}). Check that the server is running.`;
    default:
      return 'The server hit an unexpected error. Try again; if it persists, check the server logs.';
  }
}

export function describeError(error: ErrorLike | null | undefined): string | null {
  const first = problemsOf(error)[0];
  return first ? describeProblem(first) : null;
}

/**
 * Validation errors keyed by the form field they belong to. `extensions.field` may be a path
 * (`input.rating`): the last segment is the form field. Errors without a field go under `_`.
 */
export function fieldErrors(error: ErrorLike | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of problemsOf(error)) {
    if (p.code !== 'BAD_USER_INPUT') continue;
    const key = p.field ? (p.field.split('.').pop() ?? p.field) : '_';
    out[key] = out[key] ? `${out[key]} ${p.message}` : p.message;
  }
  return out;
}
