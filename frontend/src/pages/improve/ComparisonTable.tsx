// A period comparison as a table: before, after, change, its 95% interval and an honest
// verdict (significant better/worse, or not). Used for "What changed" and suggestion impact.
import { Fragment } from 'react';
import {
  VERDICT_TEXT,
  formatCi,
  formatDelta,
  formatP,
  formatRelativeDelta,
  formatValue,
  type ComparisonRow,
  type Verdict,
} from '../../lib/compare';

const TONE: Record<Verdict, string> = { better: 'ok', worse: 'bad', noise: '', untested: '', 'no-data': '' };

export function ChangeBadge({ verdict }: { verdict: Verdict }) {
  return (
    <span className={`badge change-${verdict} ${TONE[verdict]}`} data-verdict={verdict}>
      {verdict === 'better' ? '▲ ' : verdict === 'worse' ? '▼ ' : ''}
      {VERDICT_TEXT[verdict]}
    </span>
  );
}

export function ComparisonTable({
  rows,
  showGroup,
  groupLabel = 'Group',
  testId,
  beforeLabel = 'Before',
  afterLabel = 'After',
}: {
  rows: readonly ComparisonRow[];
  showGroup: boolean;
  groupLabel?: string;
  testId?: string;
  beforeLabel?: string;
  afterLabel?: string;
}) {
  let lastGroup: string | null | undefined;
  return (
    <div className="table-wrap">
      <table className="data auto compare-table" data-testid={testId}>
        <thead>
          <tr>
            {showGroup ? <th scope="col">{groupLabel}</th> : null}
            <th scope="col">Metric</th>
            <th scope="col" className="num">{beforeLabel}</th>
            <th scope="col" className="num">{afterLabel}</th>
            <th scope="col" className="num">Change</th>
            <th scope="col" className="num">95% interval of the change</th>
            <th scope="col" className="num" title="Observations before → after">n</th>
            <th scope="col" className="num" title="Holm-adjusted over every test in this comparison">Adj. p</th>
            <th scope="col">Significance</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const first = r.group !== lastGroup;
            lastGroup = r.group;
            return (
              <Fragment key={r.key}>
                <tr data-testid="compare-row" data-verdict={r.verdict} className={showGroup && first ? 'group-start' : undefined}>
                  {showGroup ? <td className="nowrap">{first ? <strong>{r.group ?? 'All'}</strong> : null}</td> : null}
                  <td title={`${r.method}; ${r.higherIsBetter ? 'higher' : 'lower'} is better`}>{r.label}</td>
                  <td className="num">{formatValue(r.unit, r.a)}</td>
                  <td className="num">{formatValue(r.unit, r.b)}</td>
                  <td className="num nowrap">
                    {formatDelta(r.unit, r.delta)}
                    {r.relativeDelta !== null ? <span className="muted"> ({formatRelativeDelta(r.relativeDelta)})</span> : null}
                  </td>
                  <td className="num nowrap muted">{formatCi(r.unit, r.ciLow, r.ciHigh)}</td>
                  <td className="num nowrap muted">
                    {r.nA} → {r.nB}
                  </td>
                  <td className="num muted">{formatP(r.pAdjusted)}</td>
                  <td>
                    <ChangeBadge verdict={r.verdict} />
                  </td>
                </tr>
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The legend for the dot-and-whisker chart (HTML, so it reads the same in both themes). */
export function ChangeLegend() {
  return (
    <div className="change-legend" aria-hidden="true">
      <span>
        <i className="dot better" /> better (significant)
      </span>
      <span>
        <i className="dot worse" /> worse (significant)
      </span>
      <span>
        <i className="dot noise" /> within noise
      </span>
      <span>
        <i className="dot untested" /> too little data to test
      </span>
      <span>
        <i className="whisker" /> 95% interval
      </span>
    </div>
  );
}
