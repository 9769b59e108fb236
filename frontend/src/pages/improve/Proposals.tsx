// AI proposals: one concrete edit per agent to its own instruction files, written by the AI
// reviewer's model from the period's failed and partial reviews. Each shows its diff side by
// side, the evidence behind it and the metrics it should move. A key with `agents:write` can
// edit the diff, approve it and apply it through the agent's gateway (or download the patch
// where the source is read-only), and revert it in one action; nothing is written to an agent
// before that explicit approval. Once applied, its measured impact appears like a suggestion's.
import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  ApplyProposalMutation,
  ApproveProposalMutation,
  DismissProposalMutation,
  EditProposalDiffMutation,
  ProposalsQuery,
  RevertProposalMutation,
  SynthesizeProposalsMutation,
} from '../../api/operations';
import type { ProposalFieldsFragment } from '../../gql/graphql';
import { useAuth } from '../../app/auth';
import { ErrorBanner } from '../../components/States';
import { evidenceOf, rangeLabel, type Range } from '../../lib/compare';
import { sideBySide, type Cell } from '../../lib/diff';
import { fieldErrors } from '../../lib/errors';
import { formatDateTime, formatUSD } from '../../lib/format';
import { SessionLinks } from './Patterns';
import { ImpactTable } from './Suggestions';

const CTX = { additionalTypenames: ['Proposal'] };
const TONE: Record<string, string> = { PROPOSED: 'info', APPROVED: 'info', APPLIED: 'ok', REVERTED: '', DISMISSED: '', INVALID: 'bad' };

export function ProposalsSection({ window }: { window: Range }) {
  const { can } = useAuth();
  const [result, refetch] = useQuery({ query: ProposalsQuery, variables: { first: 20 }, context: CTX, requestPolicy: 'cache-and-network' });
  const [made, synthesize] = useMutation(SynthesizeProposalsMutation);
  const [notice, setNotice] = useState<string | null>(null);
  const list = result.data?.proposals ?? [];
  return (
    <section className="card improve-section" id="proposals" aria-labelledby="proposals-h">
      <div className="card-head">
        <h2 id="proposals-h">AI proposals</h2>
        {can('reviews:write') ? (
          <button
            type="button"
            className="btn btn-primary"
            data-testid="synthesize-proposals"
            disabled={made.fetching}
            onClick={async () => {
              setNotice(null);
              const r = await synthesize({ from: window.from.toISOString(), to: window.to.toISOString() }, CTX);
              if (!r.error && r.data) {
                const n = r.data.synthesizeProposals.length;
                setNotice(n === 0 ? `No failed or partial reviews with readable agent files in ${rangeLabel(window)}.` : `${n} proposal${n === 1 ? '' : 's'} written from ${rangeLabel(window)}.`);
                refetch({ requestPolicy: 'network-only' });
              }
            }}
          >
            {made.fetching ? 'Asking the model…' : 'Propose edits'}
          </button>
        ) : null}
      </div>
      <div className="card-pad stack">
        {made.error ? <ErrorBanner error={made.error} /> : null}
        {result.error ? <ErrorBanner error={result.error} /> : null}
        {notice ? (
          <div className="banner info" role="status">
            {notice}
          </div>
        ) : null}
        {result.data && list.length === 0 ? <p className="muted" style={{ margin: 0 }}>No proposals yet.</p> : null}
        <div className="stack" data-testid="proposal-list">
          {list.map((p) => (
            <ProposalCard key={p.id} p={p} canWrite={can('agents:write')} />
          ))}
        </div>
      </div>
    </section>
  );
}

function ProposalCard({ p, canWrite }: { p: ProposalFieldsFragment; canWrite: boolean }) {
  const ev = evidenceOf(p.evidence);
  const [editing, setEditing] = useState(false);
  const [approved, approve] = useMutation(ApproveProposalMutation);
  const [applied, apply] = useMutation(ApplyProposalMutation);
  const [reverted, revert] = useMutation(RevertProposalMutation);
  const [dismissed, dismiss] = useMutation(DismissProposalMutation);
  const busy = approved.fetching || applied.fetching || reverted.fetching || dismissed.fetching;
  const error = approved.error ?? applied.error ?? reverted.error ?? dismissed.error;
  const open = p.status === 'PROPOSED' || p.status === 'APPROVED' || p.status === 'INVALID';
  return (
    <article className={`suggestion proposal-${p.status.toLowerCase()}`} data-testid="proposal" data-status={p.status} aria-labelledby={`pr-${p.id}`}>
      <header className="suggestion-head">
        <div className="stack" style={{ gap: 6, minWidth: 0 }}>
          <h3 id={`pr-${p.id}`}>{p.title || `Edit ${p.fileName}`}</h3>
          <div className="row wrap" style={{ gap: 6 }}>
            <span className={`badge ${TONE[p.status] ?? ''}`} data-testid="proposal-status">
              {p.status.toLowerCase()}
            </span>
            <span className="chip chip-sm">{p.agentId}</span>
            <span className="chip chip-sm">{p.fileName || 'no file'}</span>
            <span className="muted" style={{ fontSize: 12 }}>
              {p.sessionsAffected} session{p.sessionsAffected === 1 ? '' : 's'} affected · {p.costAtStake == null ? 'cost unknown' : `${formatUSD(p.costAtStake)} at stake`}
              {p.model ? ` · by ${p.model}` : ''}
            </span>
          </div>
        </div>
        <div className="row wrap suggestion-actions">
          {canWrite && (p.status === 'PROPOSED' || p.status === 'INVALID' || p.status === 'APPROVED') ? (
            <button type="button" className="btn btn-sm" onClick={() => setEditing((e) => !e)} aria-expanded={editing}>
              Edit diff…
            </button>
          ) : null}
          {canWrite && p.status === 'PROPOSED' ? (
            <button type="button" className="btn btn-sm btn-primary" disabled={busy} onClick={() => approve({ id: p.id }, CTX)}>
              Approve
            </button>
          ) : null}
          {canWrite && p.status === 'APPROVED' && p.writable ? (
            <button type="button" className="btn btn-sm btn-primary" disabled={busy} onClick={() => apply({ id: p.id }, CTX)}>
              Apply to {p.agentId}
            </button>
          ) : null}
          {canWrite && p.status === 'APPLIED' ? (
            <button type="button" className="btn btn-sm" disabled={busy} onClick={() => revert({ id: p.id }, CTX)}>
              Revert
            </button>
          ) : null}
          {p.diff && (!p.writable || p.status === 'APPROVED') ? (
            <a className="btn btn-sm btn-ghost" download={`${p.agentId}-${p.fileName || 'proposal'}.patch`} href={`data:text/x-patch;charset=utf-8,${encodeURIComponent(p.diff)}`}>
              Download patch
            </a>
          ) : null}
          {canWrite && open ? (
            <button type="button" className="btn btn-sm btn-ghost" disabled={busy} onClick={() => dismiss({ id: p.id }, CTX)}>
              Dismiss
            </button>
          ) : null}
        </div>
      </header>
      {error ? <ErrorBanner error={error} /> : null}
      {p.error ? (
        <div className="banner bad" role="status" data-testid="proposal-error">
          Rejected: {p.error}
        </div>
      ) : null}
      {!p.writable && open ? <p className="muted">This agent’s files are read-only from here: download the patch and apply it in the workspace.</p> : null}
      {p.rationale ? <p className="suggestion-body">{p.rationale}</p> : null}
      {editing && canWrite ? <DiffEditor p={p} onDone={() => setEditing(false)} /> : <DiffView diff={p.diff} name={p.fileName} />}
      <details className="evidence">
        <summary>
          Evidence{ev.sessionIds.length ? ` · ${ev.sessionIds.length} sessions` : ''} · targets {p.targetMetrics.join(', ') || '—'}
        </summary>
        <div className="evidence-body row wrap" style={{ gap: 6 }}>
          <span className="field-label">Sessions</span>
          <SessionLinks ids={ev.sessionIds} max={12} />
        </div>
      </details>
      {p.appliedAt ? (
        <section className="impact" data-testid="proposal-impact" aria-label="Impact">
          <h4>
            Applied {formatDateTime(p.appliedAt)}
            {p.revertedAt ? `, reverted ${formatDateTime(p.revertedAt)}` : ''}
          </h4>
          {!p.impact || p.impact.metrics.length === 0 || !p.impact.complete ? (
            <p className="muted" data-testid="too-early">
              Too early to tell: the after window fills until {p.impact ? formatDateTime(new Date(new Date(p.impact.beforeTo).getTime() + (new Date(p.impact.beforeTo).getTime() - new Date(p.impact.beforeFrom).getTime())).toISOString()) : 'a week after the apply'}.
            </p>
          ) : null}
          {p.impact && p.impact.metrics.length ? <ImpactTable impact={p.impact} /> : null}
        </section>
      ) : null}
    </article>
  );
}

function DiffView({ diff, name }: { diff: string; name: string }) {
  const rows = sideBySide(diff);
  if (rows.length === 0) return diff ? <pre className="diff-raw">{diff}</pre> : null;
  return (
    <div className="diff-scroll">
      <table className="diff-table" data-testid="diff-side-by-side" aria-label={`Changes to ${name}`}>
        <colgroup>
          <col className="diff-no-col" />
          <col />
          <col className="diff-no-col" />
          <col />
        </colgroup>
        <thead>
          <tr>
            <th colSpan={2}>{name} now</th>
            <th colSpan={2}>{name} after</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) =>
            r.kind === 'hunk' ? (
              <tr key={i} className="diff-hunk">
                <td colSpan={4}>{r.text}</td>
              </tr>
            ) : (
              <tr key={i}>
                <DiffCell c={r.left} />
                <DiffCell c={r.right} />
              </tr>
            ),
          )}
        </tbody>
      </table>
    </div>
  );
}

function DiffCell({ c }: { c: Cell }) {
  if (!c) return <td className="diff-no" colSpan={2} />;
  return (
    <>
      <td className="diff-no">{c.no}</td>
      <td className={`diff-text diff-${c.kind}`}>{c.text}</td>
    </>
  );
}

function DiffEditor({ p, onDone }: { p: ProposalFieldsFragment; onDone: () => void }) {
  const [text, setText] = useState(p.diff);
  const [result, save] = useMutation(EditProposalDiffMutation);
  const errors = fieldErrors(result.error);
  return (
    <form
      className="stack"
      onSubmit={async (e) => {
        e.preventDefault();
        const r = await save({ id: p.id, diff: text }, CTX);
        if (!r.error) onDone();
      }}
    >
      <label className="field-label" htmlFor={`diff-${p.id}`}>
        Unified diff against {p.fileName} (saving drops an approval)
      </label>
      <textarea id={`diff-${p.id}`} className="input diff-input" rows={12} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      {errors.diff ? (
        <span className="field-error" role="alert" data-testid="diff-error">
          {errors.diff}
        </span>
      ) : result.error ? (
        <ErrorBanner error={result.error} />
      ) : null}
      <div className="row">
        <button type="submit" className="btn btn-primary" disabled={result.fetching}>
          Save diff
        </button>
        <button type="button" className="btn btn-ghost" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
