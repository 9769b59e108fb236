// Recurring problems in the "after" window, found by deterministic methods: normalised error
// signatures, terms that distinguish failed reviews, heartbeats that cost but do nothing,
// stalled tasks and main sessions that miss their heartbeat cadence.
import { useState, type ReactNode } from 'react';
import { useQuery } from 'urql';
import { Link } from 'wouter';
import { PatternsQuery } from '../../api/operations';
import { ErrorBanner } from '../../components/States';
import { formatP, rangeLabel, toDayParamRange, type Range } from '../../lib/compare';
import { formatDateTime, formatDuration, formatInteger, formatPercent, formatRelative, formatTokens, formatUSD } from '../../lib/format';
import { useNow } from '../../lib/hooks';

export function SessionLinks({ ids, max = 6 }: { ids: readonly string[]; max?: number }) {
  if (ids.length === 0) return <span className="muted">—</span>;
  return (
    <span className="session-links">
      {ids.slice(0, max).map((id) => (
        <Link key={id} href={`/sessions/${id}`} className="chip chip-sm chip-link">
          #{id}
        </Link>
      ))}
      {ids.length > max ? <span className="muted">+{ids.length - max} more</span> : null}
    </span>
  );
}

/** The heartbeats view filtered to an agent's quiet (HEARTBEAT_OK) runs in a window. */
export function idleHeartbeatsHref(agentId: string, window: Range): string {
  const { from, to } = toDayParamRange(window);
  return `/heartbeats?agent=${encodeURIComponent(agentId)}&quiet=yes&range=custom&from=${from}&to=${to}`;
}

function Sub({ title, count, children, testId, hint }: { title: string; count: number | null; children: ReactNode; testId: string; hint: string }) {
  return (
    <section className="pattern" data-testid={testId} aria-label={title}>
      <header className="pattern-head">
        <h3>
          {title} <span className="muted num">{count ?? ''}</span>
        </h3>
        <span className="muted">{hint}</span>
      </header>
      {children}
    </section>
  );
}

function None({ children }: { children: ReactNode }) {
  return <p className="muted pattern-none">{children}</p>;
}

const STALLED_SHOWN = 8;

export function PatternsSection({ window }: { window: Range }) {
  const now = useNow(60_000);
  const [showAllStalled, setShowAllStalled] = useState(false);
  const [result] = useQuery({
    query: PatternsQuery,
    variables: { from: window.from.toISOString(), to: window.to.toISOString() },
  });
  const p = result.data?.patterns;

  return (
    <section className="card improve-section" id="patterns" aria-labelledby="patterns-h">
      <div className="card-head">
        <h2 id="patterns-h">Patterns</h2>
        <span className="muted">In the after window, {rangeLabel(window)}</span>
      </div>
      <div className="card-pad stack">
        {result.error ? <ErrorBanner error={result.error} /> : null}
        {!p && !result.error ? <div className="muted" aria-busy="true">Looking for patterns…</div> : null}
        {p ? (
          <>
            <Sub title="Recurring errors" count={p.errorSignatures.length} testId="pattern-errors" hint="Tool errors grouped by normalised signature">
              {p.errorSignatures.length === 0 ? (
                <None>No error recurs in this window.</None>
              ) : (
                <div className="table-wrap">
                  <table className="data auto">
                    <thead>
                      <tr>
                        <th scope="col">Signature and example</th>
                        <th scope="col" className="num">Times</th>
                        <th scope="col" className="num">Sessions</th>
                        <th scope="col" className="num">Failed</th>
                        <th scope="col">Agents · tools</th>
                        <th scope="col">Last seen</th>
                        <th scope="col">Sessions</th>
                      </tr>
                    </thead>
                    <tbody>
                      {p.errorSignatures.map((e) => (
                        <tr key={e.signature} data-testid="error-signature">
                          <td className="wrap-cell" style={{ maxWidth: 460 }}>
                            <code className="signature">{e.signature}</code>
                            <div className="cell-sub truncate" title={e.example}>
                              {e.example}
                            </div>
                          </td>
                          <td className="num">{formatInteger(e.occurrences)}</td>
                          <td className="num">{formatInteger(e.sessions)}</td>
                          <td className="num">{formatInteger(e.failedSessions)}</td>
                          <td className="wrap-cell">
                            <div>{e.agents.join(', ')}</div>
                            <div className="cell-sub">{e.tools.join(', ')}</div>
                          </td>
                          <td className="nowrap" title={`first ${formatDateTime(e.firstSeen)}`}>
                            {formatRelative(e.lastSeen, now)}
                          </td>
                          <td className="wrap-cell">
                            <SessionLinks ids={e.sessionIds} max={4} />
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </Sub>

            <Sub title="Failure terms" count={p.failureTerms.length} testId="pattern-terms" hint="Words far more common in reviews of failed work than of accomplished work">
              {p.failureTerms.length === 0 ? (
                <None>No term stands out in failed reviews.</None>
              ) : (
                <div className="term-list">
                  {p.failureTerms.map((t) => (
                    <span key={t.term} className="term" title={`adjusted p ${formatP(t.pAdjusted)}`}>
                      <strong>{t.term}</strong>
                      <span className="muted">
                        {t.docsFailed} failed · {t.docsOther} other · ×{t.lift.toFixed(1)}
                      </span>
                    </span>
                  ))}
                </div>
              )}
            </Sub>

            <Sub title="Idle heartbeats" count={p.idleHeartbeats.length} testId="pattern-idle" hint="Heartbeats that replied HEARTBEAT_OK without acting, and what they cost">
              {p.idleHeartbeats.length === 0 ? (
                <None>No agent spends heartbeats doing nothing.</None>
              ) : (
                <div className="table-wrap">
                  <table className="data auto">
                    <thead>
                      <tr>
                        <th scope="col">Agent</th>
                        <th scope="col">Idle share</th>
                        <th scope="col" className="num">Idle / all</th>
                        <th scope="col" className="num">Tokens</th>
                        <th scope="col" className="num">Cost</th>
                        <th scope="col" />
                      </tr>
                    </thead>
                    <tbody>
                      {[...p.idleHeartbeats]
                        .sort((a, b) => Number(b.idleCost ?? 0) - Number(a.idleCost ?? 0))
                        .map((h) => (
                          <tr key={h.agentId} data-testid="idle-heartbeats">
                            <td>{h.agentId}</td>
                            <td style={{ minWidth: 160 }}>
                              <div className="row">
                                <div className="share-bar" role="img" aria-label={`${formatPercent(h.idleShare)} idle`}>
                                  <span style={{ width: `${Math.round(h.idleShare * 100)}%` }} />
                                </div>
                                <span className="num">{formatPercent(h.idleShare)}</span>
                              </div>
                            </td>
                            <td className="num">
                              {formatInteger(h.idle)} / {formatInteger(h.heartbeats)}
                            </td>
                            <td className="num">{formatTokens(h.idleTokens)}</td>
                            <td className="num">
                              <strong>{formatUSD(h.idleCost)}</strong>
                            </td>
                            <td>
                              <Link href={idleHeartbeatsHref(h.agentId, window)}>See them</Link>
                            </td>
                          </tr>
                        ))}
                    </tbody>
                  </table>
                </div>
              )}
            </Sub>

            <div className="pattern-pair">
              <Sub title="Stalled tasks" count={p.stalledTasks.length} testId="pattern-stalled" hint="Running, with no activity for a while">
                {p.stalledTasks.length === 0 ? (
                  <None>No task is stalled right now.</None>
                ) : (
                  <ul className="list-plain">
                    {p.stalledTasks.slice(0, showAllStalled ? undefined : STALLED_SHOWN).map((s) => (
                      <li key={s.sessionId}>
                        <Link href={`/sessions/${s.sessionId}`} className="truncate" style={{ flex: 1 }}>
                          {s.title || `Session #${s.sessionId}`}
                        </Link>
                        <span className="muted">{s.agentId}</span>
                        <span className="badge warn" title={`last activity ${formatDateTime(s.lastActivityAt)}`}>
                          idle {formatDuration(s.idleSeconds * 1000)}
                        </span>
                      </li>
                    ))}
                    {p.stalledTasks.length > STALLED_SHOWN ? (
                      <li>
                        <button type="button" className="btn btn-sm btn-ghost" onClick={() => setShowAllStalled((v) => !v)}>
                          {showAllStalled ? 'Show fewer' : `Show all ${p.stalledTasks.length}`}
                        </button>
                      </li>
                    ) : null}
                  </ul>
                )}
              </Sub>
              <Sub title="Missed heartbeat cadence" count={p.missedCadence.length} testId="pattern-cadence" hint="Main sessions whose heartbeats stopped coming">
                {p.missedCadence.length === 0 ? (
                  <None>Every main session keeps its heartbeat cadence.</None>
                ) : (
                  <ul className="list-plain">
                    {p.missedCadence.map((c) => (
                      <li key={c.sessionId}>
                        <Link href={`/sessions/${c.sessionId}`} style={{ flex: 1 }}>
                          {c.agentId} main session
                        </Link>
                        <span className="muted">every {formatDuration(c.expectedIntervalSeconds * 1000)}</span>
                        <span className="muted" title={formatDateTime(c.lastHeartbeatAt)}>
                          last {formatRelative(c.lastHeartbeatAt, now)}
                        </span>
                        <span className="badge bad">{c.missedBeats} missed</span>
                      </li>
                    ))}
                  </ul>
                )}
              </Sub>
            </div>
          </>
        ) : null}
      </div>
    </section>
  );
}
