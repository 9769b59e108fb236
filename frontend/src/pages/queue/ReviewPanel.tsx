// The selected item: claim bar, the AI's verdict next to the human's form, what happened, and
// the transcript.
import { Link } from 'wouter';
import { useQuery } from 'urql';
import { QueueTargetQuery } from '../../api/operations';
import { StatusBadge } from '../../components/Badges';
import type { ReviewValues } from '../../components/ReviewForm';
import { ErrorBanner } from '../../components/States';
import { Transcript } from '../../components/Transcript';
import type { FullReviewFieldsFragment, QueueRunFieldsFragment } from '../../gql/graphql';
import { formatDateTime, formatRelative } from '../../lib/format';
import { claimState, itemKey } from '../../lib/queue';
import { AiVerdict } from './AiVerdict';
import { ClaimBar } from './ClaimBar';
import { HumanReview } from './HumanReview';
import { itemTitle, statusEnum, type Item } from './item';
import { QueueForm } from './QueueForm';
import { ReasonChips } from './ReasonChips';
import { RunSummary } from './RunSummary';

export function ReviewPanel({
  item,
  now,
  canWrite,
  form,
  setForm,
  errors,
  submitError,
  conflict,
  armed,
  busy,
  onSubmit,
  onSkip,
  onClaim,
  onRelease,
}: {
  item: Item;
  now: number;
  canWrite: boolean;
  form: ReviewValues;
  setForm: (patch: Partial<ReviewValues>) => void;
  errors: Record<string, string>;
  submitError: string | null;
  conflict: boolean;
  armed: boolean;
  busy: boolean;
  onSubmit: () => void;
  onSkip: () => void;
  onClaim: () => void;
  onRelease: () => void;
}) {
  const isRun = item.runId !== null;
  const [target] = useQuery({
    query: QueueTargetQuery,
    variables: { sessionId: item.sessionId, runId: item.runId ?? '0', isRun },
  });
  const session = target.data?.session ?? null;
  const run = target.data?.run ?? null;
  const reviews: FullReviewFieldsFragment[] = (isRun ? run?.reviews : session?.reviews) ?? [];
  const ai = reviews.find((r) => r.reviewerKind === 'AI') ?? null;
  const human = reviews.find((r) => r.reviewerKind === 'HUMAN') ?? null;
  const runs: QueueRunFieldsFragment[] = isRun ? (run ? [run] : []) : (session?.runs?.edges.map((e) => e.node) ?? []);
  const state = claimState(item, now);

  return (
    <section className="card review-panel" aria-labelledby="panel-title" data-testid="review-panel" data-key={itemKey(item)}>
      <div className="card-head">
        <div className="stack" style={{ gap: 4, minWidth: 0 }}>
          <h2 id="panel-title" className="truncate" data-testid="panel-title">
            {itemTitle(item)}
          </h2>
          <span className="row wrap muted" style={{ gap: 8, fontSize: 13 }}>
            <StatusBadge status={statusEnum(item.status)} />
            <span>{session?.agent.displayName ?? item.agentId}</span>
            <span>{isRun ? `${item.kind} run #${item.runId}` : `${item.kind} session`}</span>
            {session?.model ? <span>{session.model}</span> : null}
            <span title={formatDateTime(item.finishedAt)}>finished {formatRelative(item.finishedAt, now)}</span>
            <ReasonChips reasons={item.reasons} />
          </span>
        </div>
        <Link href={item.runId ? `/sessions/${item.sessionId}?run=${item.runId}` : `/sessions/${item.sessionId}`} className="btn btn-sm">
          {item.runId ? 'Open run in session' : 'Open session'}
        </Link>
      </div>

      <ClaimBar state={state} canWrite={canWrite} onClaim={onClaim} onRelease={onRelease} />

      <div className="verdict-grid">
        <AiVerdict review={ai} brief={item.latestAi} />
        {canWrite ? (
          <QueueForm
            values={form}
            onChange={setForm}
            errors={errors}
            error={conflict ? 'Another reviewer holds this item. Pick another one.' : submitError}
            armed={armed}
            busy={busy}
            disabled={state.kind === 'other'}
            onSubmit={onSubmit}
            onSkip={onSkip}
            previous={human}
          />
        ) : (
          <HumanReview review={human} />
        )}
      </div>

      <div className="what-happened">
        <h3>What happened</h3>
        {target.error ? <ErrorBanner error={target.error} /> : null}
        {!target.data ? (
          <div className="muted" aria-busy="true">
            Loading…
          </div>
        ) : (
          <RunSummary runs={runs} total={isRun ? 1 : (session?.runs?.totalCount ?? 0)} metrics={isRun ? null : (session?.metrics ?? null)} />
        )}
      </div>
      <Transcript key={`${item.sessionId}:${item.runId ?? ''}`} sessionId={item.sessionId} runId={item.runId} compact />
    </section>
  );
}
