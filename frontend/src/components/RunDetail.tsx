// One run of a session, selected on its timeline: a header (trigger, status, start, duration,
// model, tokens, cost, error) above its part of the transcript, and its reviews with a form to
// review this run.
import { useQuery } from 'urql';
import { RunDetailQuery } from '../api/operations';
import { formatDateTime, formatDuration, formatInteger, formatTokens, formatUSD } from '../lib/format';
import { useNow } from '../lib/hooks';
import { RequestAiReview } from './AiReview';
import { label, StatusBadge, VerdictBadge } from './Badges';
import { Term } from './Numbers';
import { ReviewComposer, ReviewList } from './Reviews';
import { ErrorBanner } from './States';
import { Transcript } from './Transcript';

export function RunTranscript({
  runId,
  sessionId,
  focusMessageId = null,
  onClose,
}: {
  runId: string;
  sessionId: string;
  /** A message to scroll to and mark (a failed tool call linked from the Tools page). */
  focusMessageId?: string | null;
  onClose: () => void;
}) {
  const [result] = useQuery({ query: RunDetailQuery, variables: { id: runId } });
  const run = result.data?.run;
  return (
    <>
      <div className="card-pad stack run-header" style={{ gap: 8 }} data-testid="run-header">
        <div className="row wrap" style={{ justifyContent: 'space-between' }}>
          <div className="row wrap">
            <h2>{run ? `${label(run.trigger)} run` : 'Run'}</h2>
            {run ? <StatusBadge status={run.status} /> : null}
            {run?.latestReview ? <VerdictBadge verdict={run.latestReview.verdict} kind={run.latestReview.reviewerKind} /> : null}
          </div>
          <div className="row">
            <a className="btn btn-sm" href="#run-review" data-testid="review-this-run">
              Review this run
            </a>
            <button type="button" className="btn btn-sm btn-ghost" onClick={onClose}>
              Whole session
            </button>
          </div>
        </div>
        {result.error ? <ErrorBanner error={result.error} /> : null}
        {run ? (
          <>
            <div className="row wrap muted" style={{ gap: 16 }}>
              <span>Started {formatDateTime(run.startedAt)}</span>
              <span>
                <Term name="runDuration" /> {formatDuration(run.durationMs)}
              </span>
              <span>Model {run.model ?? '—'}</span>
              <span>
                Tokens in {formatTokens(run.inputTokens)} · out {formatTokens(run.outputTokens)} · cache read{' '}
                {formatTokens(run.cacheReadTokens)} · cache write {formatTokens(run.cacheWriteTokens)}
              </span>
              <span>Cost {formatUSD(run.cost)}</span>
              <span>
                Tools {formatInteger(run.toolCallCount)}
                {run.toolErrorCount ? `, ${run.toolErrorCount} failed` : ''}
              </span>
              <code title="Provider run id">{run.providerRunId}</code>
            </div>
            {run.error ? (
              <pre className="run-error" data-testid="run-error">
                {run.error}
              </pre>
            ) : null}
          </>
        ) : null}
      </div>
      <Transcript sessionId={sessionId} runId={runId} title="This run’s messages" focusMessageId={focusMessageId} />
    </>
  );
}

export function RunReviews({ runId, sessionId }: { runId: string; sessionId: string }) {
  const [result, reload] = useQuery({ query: RunDetailQuery, variables: { id: runId } });
  const now = useNow(30_000);
  const reviews = result.data?.run?.reviews;
  return (
    <section className="card" aria-labelledby="run-reviews-h" id="run-review" data-testid="run-reviews">
      <div className="card-head">
        <h2 id="run-reviews-h">Reviews of this run</h2>
        <span className="muted">{reviews ? reviews.length : ''}</span>
      </div>
      <RequestAiReview
        sessionId={sessionId}
        runId={runId}
        onDone={() => reload({ requestPolicy: 'network-only' })}
        revision={reviews?.map((r) => r.id).join(',')}
      />
      {reviews ? <ReviewList reviews={reviews} now={now} /> : <div className="card-pad muted">Loading…</div>}
      <div className="card-pad" style={{ borderTop: '1px solid var(--border)' }}>
        <ReviewComposer sessionId={sessionId} runId={runId} />
      </div>
    </section>
  );
}
