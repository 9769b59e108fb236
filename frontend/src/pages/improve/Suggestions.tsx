// Improvement suggestions: generated from the patterns and regressions by deterministic rules,
// each with its evidence. Mark one applied (at a time, with a note) and its before/after
// comparison on the metrics it targets appears by itself, with the same honesty about noise.
import { useId, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { Link } from 'wouter';
import {
  GenerateSuggestionsMutation,
  MarkSuggestionAppliedMutation,
  SetSuggestionStatusMutation,
  SuggestionsQuery,
} from '../../api/operations';
import type { SuggestionFieldsFragment, SuggestionStatus } from '../../gql/graphql';
import { useAuth } from '../../app/auth';
import { ErrorBanner } from '../../components/States';
import {
  RULE_LABEL,
  TARGET_LABEL,
  comparisonRows,
  evidenceOf,
  localDateTimeValue,
  parseLocalDateTime,
  rangeLabel,
  summarize,
  type Range,
} from '../../lib/compare';
import { fieldErrors } from '../../lib/errors';
import { formatDateTime, formatRelative } from '../../lib/format';
import { useNow } from '../../lib/hooks';
import { ComparisonTable } from './ComparisonTable';
import { SessionLinks, idleHeartbeatsHref } from './Patterns';

const STATUSES = ['', 'open', 'applied', 'dismissed'] as const;
type StatusFilter = (typeof STATUSES)[number];
const STATUS_LABEL: Record<StatusFilter, string> = { '': 'All', open: 'Open', applied: 'Applied', dismissed: 'Dismissed' };
const STATUS_TONE: Record<string, string> = { open: 'info', applied: 'ok', dismissed: '' };
const CTX = { additionalTypenames: ['Suggestion'] };
const SHOWN = 8;

export function SuggestionsSection({ window }: { window: Range }) {
  const { can } = useAuth();
  const canWrite = can('reviews:write');
  const [status, setStatus] = useState<StatusFilter>('');
  const [result, refetch] = useQuery({ query: SuggestionsQuery, variables: { status: status ? (status.toUpperCase() as SuggestionStatus) : null, first: 50 }, context: CTX });
  const [generated, generate] = useMutation(GenerateSuggestionsMutation);
  const [notice, setNotice] = useState<string | null>(null);
  const now = useNow(60_000);
  const list = result.data?.suggestions ?? [];
  const [showAll, setShowAll] = useState(false);
  const shown = showAll ? list : list.slice(0, SHOWN);

  return (
    <section className="card improve-section" id="suggestions" aria-labelledby="suggestions-h">
      <div className="card-head">
        <h2 id="suggestions-h">Suggestions</h2>
        <div className="row wrap">
          <div className="segmented" role="group" aria-label="Suggestion status">
            {STATUSES.map((s) => (
              <button type="button" key={s || 'all'} aria-pressed={status === s} onClick={() => setStatus(s)}>
                {STATUS_LABEL[s]}
              </button>
            ))}
          </div>
          {canWrite ? (
            <button
              type="button"
              className="btn btn-primary"
              data-testid="generate-suggestions"
              disabled={generated.fetching}
              onClick={async () => {
                setNotice(null);
                const r = await generate({ from: window.from.toISOString(), to: window.to.toISOString() }, CTX);
                if (!r.error && r.data) {
                  const n = r.data.generateSuggestions.length;
                  setNotice(
                    n === 0
                      ? `No rule fired for ${rangeLabel(window)}: nothing to suggest.`
                      : `${n} suggestion${n === 1 ? '' : 's'} from ${rangeLabel(window)} (new ones, and ones seen again).`,
                  );
                  refetch({ requestPolicy: 'network-only' });
                }
              }}
            >
              {generated.fetching ? 'Generating…' : 'Generate suggestions'}
            </button>
          ) : null}
        </div>
      </div>
      <div className="card-pad stack">
        {generated.error ? <ErrorBanner error={generated.error} /> : null}
        {result.error ? <ErrorBanner error={result.error} /> : null}
        {notice ? (
          <div className="banner info" role="status" data-testid="suggestions-notice">
            {notice}
          </div>
        ) : null}
        {result.data && list.length === 0 ? (
          <p className="muted" style={{ margin: 0 }}>
            {status ? `No ${status} suggestions.` : 'No suggestions yet.'}{' '}
            {canWrite ? `“Generate suggestions” runs the rules over the after window (${rangeLabel(window)}).` : ''}
          </p>
        ) : null}
        <div className="stack" data-testid="suggestion-list">
          {shown.map((s) => (
            <SuggestionCard key={s.id} s={s} now={now} canWrite={canWrite} />
          ))}
        </div>
        {list.length > SHOWN ? (
          <button type="button" className="btn btn-sm" style={{ alignSelf: 'flex-start' }} onClick={() => setShowAll((v) => !v)}>
            {showAll ? 'Show fewer' : `Show all ${list.length} suggestions`}
          </button>
        ) : null}
      </div>
    </section>
  );
}

function SuggestionCard({ s, now, canWrite }: { s: SuggestionFieldsFragment; now: number; canWrite: boolean }) {
  const ev = evidenceOf(s.evidence);
  const [applying, setApplying] = useState(false);
  const [statusResult, setStatus] = useMutation(SetSuggestionStatusMutation);
  return (
    <article className={`suggestion suggestion-${s.status}`} data-testid="suggestion" data-status={s.status} aria-labelledby={`sg-${s.id}`}>
      <header className="suggestion-head">
        <div className="stack" style={{ gap: 6, minWidth: 0 }}>
          <h3 id={`sg-${s.id}`}>{s.title}</h3>
          <div className="row wrap" style={{ gap: 6 }}>
            <span className={`badge ${STATUS_TONE[s.status] ?? ''}`}>{s.status}</span>
            <span className="chip chip-sm">{RULE_LABEL[s.rule] ?? s.rule}</span>
            <span className="chip chip-sm">{TARGET_LABEL[s.target] ?? s.target}</span>
            {s.agentId ? <span className="chip chip-sm">{s.agentId}</span> : <span className="chip chip-sm">all agents</span>}
            <span className="muted" style={{ fontSize: 12 }} title={formatDateTime(s.createdAt)}>
              found {formatRelative(s.createdAt, now)}
              {s.seenCount > 1 ? ` · seen ${s.seenCount} times` : ''}
            </span>
          </div>
        </div>
        {canWrite ? (
          <div className="row wrap suggestion-actions">
            {s.status !== 'applied' ? (
              <button type="button" className="btn btn-sm" onClick={() => setApplying((a) => !a)} aria-expanded={applying}>
                Mark applied…
              </button>
            ) : (
              <button type="button" className="btn btn-sm btn-ghost" onClick={() => setApplying((a) => !a)} aria-expanded={applying}>
                Change applied time…
              </button>
            )}
            {s.status === 'open' ? (
              <button type="button" className="btn btn-sm btn-ghost" disabled={statusResult.fetching} onClick={() => setStatus({ id: s.id, status: 'DISMISSED' }, CTX)}>
                Dismiss
              </button>
            ) : s.status === 'dismissed' ? (
              <button type="button" className="btn btn-sm btn-ghost" disabled={statusResult.fetching} onClick={() => setStatus({ id: s.id, status: 'OPEN' }, CTX)}>
                Reopen
              </button>
            ) : null}
          </div>
        ) : null}
      </header>
      {statusResult.error ? <ErrorBanner error={statusResult.error} /> : null}
      <p className="suggestion-body">{s.body}</p>

      <details className="evidence">
        <summary>
          Evidence
          {ev.sessionIds.length ? ` · ${ev.sessionIds.length} session${ev.sessionIds.length === 1 ? '' : 's'}` : ''}
          {ev.runIds.length ? ` · ${ev.runIds.length} runs` : ''}
          {ev.messageCount ? ` · ${ev.messageCount} messages` : ''}
        </summary>
        <div className="evidence-body">
          {ev.facts.length ? (
            <dl className="kv">
              {ev.facts.map((f) => (
                <FactRow key={f.label} label={f.label} value={f.value} />
              ))}
              {ev.window ? <FactRow label="Window" value={rangeLabel(ev.window)} /> : null}
              <FactRow label="Targets" value={s.targetMetrics.join(', ') || '—'} />
            </dl>
          ) : null}
          {ev.terms.length ? (
            <div className="term-list">
              {ev.terms.map((t) => (
                <span key={t.term} className="term">
                  <strong>{t.term}</strong>
                  <span className="muted">
                    {t.docsFailed} failed · {t.docsOther} other{t.lift !== null ? ` · ×${t.lift.toFixed(1)}` : ''}
                  </span>
                </span>
              ))}
            </div>
          ) : null}
          {ev.sessionIds.length ? (
            <div className="row wrap" style={{ gap: 6 }}>
              <span className="field-label">Sessions</span>
              <SessionLinks ids={ev.sessionIds} max={12} />
            </div>
          ) : null}
          {ev.runIds.length && s.agentId && ev.window ? (
            <Link href={idleHeartbeatsHref(s.agentId, ev.window)}>See {s.agentId}’s idle heartbeats in that window</Link>
          ) : null}
        </div>
      </details>

      {applying && canWrite ? <ApplyForm s={s} onDone={() => setApplying(false)} /> : null}
      {s.status === 'applied' ? <Impact s={s} now={now} /> : null}
    </article>
  );
}

function FactRow({ label, value }: { label: string; value: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </>
  );
}

function ApplyForm({ s, onDone }: { s: SuggestionFieldsFragment; onDone: () => void }) {
  const id = useId();
  const [when, setWhen] = useState(() => localDateTimeValue(s.appliedAt ? new Date(s.appliedAt) : new Date()));
  const [note, setNote] = useState(s.note ?? '');
  const [result, mark] = useMutation(MarkSuggestionAppliedMutation);
  const errors = fieldErrors(result.error);
  const [local, setLocal] = useState<string | null>(null);
  return (
    <form
      className="apply-form"
      data-testid="apply-form"
      onSubmit={async (e) => {
        e.preventDefault();
        const appliedAt = when ? parseLocalDateTime(when) : null;
        if (when && !appliedAt) {
          setLocal('Enter a valid date and time, or leave it empty for now.');
          return;
        }
        setLocal(null);
        const r = await mark({ id: s.id, appliedAt, note: note.trim() || null }, CTX);
        if (!r.error) onDone();
      }}
    >
      <div className="field">
        <label htmlFor={`${id}-when`}>Applied at (your time; empty = now)</label>
        <input id={`${id}-when`} type="datetime-local" className="input" value={when} onChange={(e) => setWhen(e.target.value)} />
        {local || errors.appliedAt ? (
          <span className="field-error" role="alert">
            {local ?? errors.appliedAt}
          </span>
        ) : null}
      </div>
      <div className="field" style={{ flex: 1, minWidth: 220 }}>
        <label htmlFor={`${id}-note`}>Note (optional)</label>
        <input id={`${id}-note`} className="input" value={note} placeholder="What did you change?" onChange={(e) => setNote(e.target.value)} />
      </div>
      <div className="row" style={{ alignSelf: 'flex-end' }}>
        <button type="submit" className="btn btn-primary" disabled={result.fetching}>
          {result.fetching ? 'Saving…' : 'Mark applied'}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onDone}>
          Cancel
        </button>
      </div>
      {result.error && !errors.appliedAt ? <ErrorBanner error={result.error} /> : null}
    </form>
  );
}

function Impact({ s, now }: { s: SuggestionFieldsFragment; now: number }) {
  const i = s.impact;
  return (
    <section className="impact" data-testid="impact" aria-label="Impact">
      <header className="row wrap" style={{ justifyContent: 'space-between' }}>
        <h4>
          Impact since it was applied {s.appliedAt ? <span className="muted">({formatDateTime(s.appliedAt)})</span> : null}
        </h4>
        {s.note ? <span className="muted">“{s.note}”</span> : null}
      </header>
      {!i ? (
        <p className="muted">The impact is being measured.</p>
      ) : i.metrics.length === 0 ? (
        <p className="muted" data-testid="impact-pending">
          Nothing to compare yet: the after window starts at {formatDateTime(i.afterFrom)}. Come back once there is data (
          {formatRelative(i.afterFrom, now)}).
        </p>
      ) : (
        <ImpactTable impact={i} />
      )}
    </section>
  );
}

export function ImpactTable({ impact }: { impact: NonNullable<SuggestionFieldsFragment['impact']> }) {
  const rows = comparisonRows([{ group: null, metrics: impact.metrics }]);
  const sum = summarize(rows);
  const before = rangeLabel({ from: new Date(impact.beforeFrom), to: new Date(impact.beforeTo) });
  const after = rangeLabel({ from: new Date(impact.afterFrom), to: new Date(impact.afterTo) });
  return (
    <>
      <p className="muted" style={{ margin: '4px 0 8px' }}>
        {before} against {after}
        {impact.complete ? '' : ' (the after window is still filling up; this can change)'}. {sum.text}
      </p>
      <ComparisonTable rows={rows} showGroup={false} testId="impact-table" beforeLabel="Before" afterLabel="After" />
    </>
  );
}
