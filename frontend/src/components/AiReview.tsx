// "Request AI review" for a session or one run: queues a job (requestAiReview) and follows it
// until its verdict lands (job changes are pushed over a subscription, not polled). When the server has no AI endpoint it says so instead of offering
// a button that can only fail; keys without `reviews:write` see nothing.
import { useEffect, useMemo, useRef } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { RequestAiReviewMutation, ReviewJobUpdatedSubscription, ReviewJobsQuery, ReviewerSettingsQuery } from '../api/operations';
import type { ReviewJobFieldsFragment } from '../gql/graphql';
import { useAuth } from '../app/auth';
import { describeError } from '../lib/errors';
import { formatRelative } from '../lib/format';
import { useNow } from '../lib/hooks';

const ACTIVE = new Set(['queued', 'running']);

const STATUS_TEXT: Record<string, string> = {
  queued: 'AI review queued',
  running: 'AI review running…',
  done: 'AI review done',
  failed: 'AI review failed',
};

export function RequestAiReview({
  sessionId,
  runId = null,
  onDone,
  revision,
}: {
  sessionId: string;
  runId?: string | null;
  /** Called once when a followed job finishes (e.g. to reload the reviews). */
  onDone?: () => void;
  /** Changes when the target's reviews change (e.g. an AI verdict arrived live): re-read the job. */
  revision?: string | number;
}) {
  const { can } = useAuth();
  const allowed = can('reviews:write');
  const [settings] = useQuery({ query: ReviewerSettingsQuery, pause: !allowed });
  const configured = settings.data?.reviewerSettings.configured ?? false;
  const [jobs, refetchJobs] = useQuery({
    query: ReviewJobsQuery,
    variables: { sessionId, first: 10 },
    pause: !allowed || !configured,
    requestPolicy: 'network-only',
  });
  const [requested, request] = useMutation(RequestAiReviewMutation);
  const now = useNow(15_000);

  // Pushed job changes for this session, newest state per job id, over what the query read.
  const [live] = useSubscription(
    { query: ReviewJobUpdatedSubscription, variables: { sessionId }, pause: !allowed || !configured },
    (prev: Record<string, ReviewJobFieldsFragment> | undefined, data) => ({ ...prev, [data.reviewJobUpdated.id]: data.reviewJobUpdated }),
  );
  const job = useMemo(() => {
    const byId = new Map((jobs.data?.reviewJobs ?? []).map((j) => [j.id, j]));
    for (const j of Object.values(live.data ?? {})) byId.set(j.id, j);
    const mine = [...byId.values()].filter((j) => (j.runId ?? null) === (runId ?? null));
    return mine.sort((a, b) => Number(b.id) - Number(a.id))[0] ?? null;
  }, [jobs.data, live.data, runId]);
  const active = job !== null && ACTIVE.has(job.status);

  useEffect(() => {
    if (revision !== undefined && allowed && configured) refetchJobs({ requestPolicy: 'network-only' });
  }, [revision, allowed, configured, refetchJobs]);

  // Tell the parent once when a followed job finishes (its status arrives over the subscription).
  const wasActive = useRef(false);
  const done = useRef(onDone);
  done.current = onDone;
  useEffect(() => {
    if (!active) {
      if (wasActive.current) done.current?.();
      wasActive.current = false;
      return;
    }
    wasActive.current = true;
  }, [active]);

  if (!allowed || !settings.data) return null;
  if (!configured) {
    return (
      <div className="ai-bar muted" data-testid="ai-not-configured">
        AI review is not configured on this server (no AI endpoint is set), so it cannot be requested here.
      </div>
    );
  }

  return (
    <div className="ai-bar" data-testid="ai-review">
      <button
        type="button"
        className="btn btn-sm"
        disabled={requested.fetching || active}
        onClick={async () => {
          const r = await request({ sessionId, runId: runId ?? null });
          if (!r.error) refetchJobs({ requestPolicy: 'network-only' });
        }}
      >
        {requested.fetching ? 'Requesting…' : 'Request AI review'}
      </button>
      {job ? (
        <span className={`muted ai-job ai-job-${job.status}`} data-testid="ai-job" aria-live="polite">
          {STATUS_TEXT[job.status] ?? job.status} · {formatRelative(job.finishedAt ?? job.claimedAt ?? job.createdAt, now)}
          {job.status === 'failed' && job.reason ? ` — ${job.reason}` : ''}
        </span>
      ) : (
        <span className="muted">
          Reviewer model {settings.data.reviewerSettings.model ?? 'default'}
        </span>
      )}
      {requested.error ? (
        <span className="field-error" role="alert">
          {describeError(requested.error)}
        </span>
      ) : null}
    </div>
  );
}
