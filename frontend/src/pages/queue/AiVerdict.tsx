// The AI's verdict next to the human's form: confidence, evidence and suggestions.
import { Stars, VerdictBadge, label } from '../../components/Badges';
import type { FullReviewFieldsFragment } from '../../gql/graphql';
import { formatDateTime, formatTokens, formatUSD } from '../../lib/format';
import { aiEvidence, aiSuggestions, confidenceText } from '../../lib/queue';
import type { Item } from './item';

export function AiVerdict({ review, brief }: { review: FullReviewFieldsFragment | null; brief: Item['latestAi'] }) {
  const r = review ?? brief;
  if (!r) {
    return (
      <div className="verdict-card" data-testid="ai-verdict">
        <div className="field-label">AI verdict</div>
        <p className="muted" style={{ margin: 0 }}>
          No AI review of this item.
        </p>
      </div>
    );
  }
  const conf = confidenceText(r.confidence);
  const evidence = review ? aiEvidence(review.evidence) : [];
  const suggestions = review ? aiSuggestions(review.suggestions) : [];
  return (
    <div className="verdict-card" data-testid="ai-verdict">
      <div className="field-label">AI verdict</div>
      <span className="row wrap">
        <VerdictBadge verdict={r.verdict} kind="AI" />
        <Stars rating={r.rating} />
        <span className={conf.low ? 'badge warn' : 'muted'}>{conf.text}</span>
      </span>
      {r.summary ? <p style={{ margin: 0, whiteSpace: 'pre-wrap' }}>{r.summary}</p> : null}
      {evidence.length ? (
        <div>
          <div className="field-label">Evidence</div>
          <ul className="evidence-list">
            {evidence.map((e, i) => (
              <li key={i}>
                {e.ref ? <code>{e.ref}</code> : null} {e.note}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {suggestions.length ? (
        <div>
          <div className="field-label">AI suggestions</div>
          <ul className="evidence-list">
            {suggestions.map((s, i) => (
              <li key={i}>
                {s.target ? <span className="chip chip-sm">{label(s.target)}</span> : null} {s.text}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <span className="review-meta">
        {r.reviewerModel ?? 'model unknown'} · {formatDateTime(r.createdAt, { short: true })}
        {review?.inputTokens !== null && review?.inputTokens !== undefined ? ` · ${formatTokens(review.inputTokens + (review.outputTokens ?? 0))} tokens` : ''}
        {review?.cost ? ` · ${formatUSD(review.cost)}` : ''}
      </span>
    </div>
  );
}
