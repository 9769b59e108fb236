// Judge vs human: how often the AI reviewer's verdict matches a human's on the same session,
// over time and per reviewer model.
import { useMemo } from 'react';
import { useQuery } from 'urql';
import { JudgeAgreementQuery } from '../../api/operations';
import { useTheme } from '../../app/theme';
import { EChart } from '../../charts/EChart';
import { agreementOverTime, isEmptyAgreement } from '../../charts/improve';
import { DARK_THEME, LIGHT_THEME } from '../../charts/options';
import { label } from '../../components/Badges';
import { ErrorBanner } from '../../components/States';
import { agreementBucket, confusionMatrix, kappaText, leniency, type Windows } from '../../lib/compare';
import { formatInteger } from '../../lib/format';
import { Rate } from '../../components/Numbers';

export function AgreementSection({ windows }: { windows: Windows }) {
  const [theme] = useTheme();
  const chartTheme = theme === 'dark' ? DARK_THEME : LIGHT_THEME;
  const from = windows.a.from < windows.b.from ? windows.a.from : windows.b.from;
  const to = windows.a.to > windows.b.to ? windows.a.to : windows.b.to;
  const bucket = agreementBucket(from, to);
  const [result] = useQuery({
    query: JudgeAgreementQuery,
    variables: { from: from.toISOString(), to: to.toISOString(), bucket: bucket === 'day' ? 'DAY' : 'WEEK' },
  });
  const data = result.data?.judgeAgreement;
  const chart = useMemo(
    () => (data ? { option: agreementOverTime(data.points, chartTheme, { from, to }), empty: isEmptyAgreement(data.points) } : null),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [data, chartTheme, from.getTime(), to.getTime()],
  );

  return (
    <section className="card improve-section" id="agreement" aria-labelledby="agreement-h">
      <div className="card-head">
        <h2 id="agreement-h">Judge vs human</h2>
        <span className="muted">Share of sessions where the AI verdict matches the human one, per {bucket}</span>
      </div>
      <div className="card-pad stack">
        {result.error ? <ErrorBanner error={result.error} /> : null}
        <div className="chart-box" style={{ height: chart?.empty ? 120 : 240 }} data-testid="chart-agreement" data-state={chart ? (chart.empty ? 'empty' : 'ready') : 'loading'}>
          {chart && !chart.empty ? <EChart option={chart.option} label="Judge vs human agreement over time" /> : null}
          {!chart ? (
            <div className="chart-overlay" aria-busy="true">
              Loading…
            </div>
          ) : chart.empty ? (
            <div className="chart-overlay" style={{ textAlign: 'center', padding: 16 }}>
              No session in these windows has both an AI and a human review yet.
              <br />
              Reviewing low-confidence items in the review queue creates such pairs.
            </div>
          ) : null}
        </div>
        {data && data.models.length > 0 ? (
          <div className="table-wrap">
            <table className="data auto" data-testid="agreement-models">
              <thead>
                <tr>
                  <th scope="col">Reviewer model</th>
                  <th scope="col" className="num">Pairs</th>
                  <th scope="col" className="num">Verdict agreement</th>
                  <th scope="col" className="num" title="Cohen's kappa: agreement beyond chance">κ</th>
                  <th scope="col" className="num">Mean |Δ rating|</th>
                  <th scope="col">Ratings vs humans</th>
                  <th scope="col">Verdicts (human ↓, AI →)</th>
                </tr>
              </thead>
              <tbody>
                {data.models.map((m) => {
                  const c = confusionMatrix(m.confusion);
                  return (
                    <tr key={m.reviewerModel}>
                      <td>{m.reviewerModel}</td>
                      <td className="num">{formatInteger(m.stats.pairs)}</td>
                      <td className="num">
                        <Rate value={m.stats.agreementRate} n={m.stats.pairs} noun="pairs" />
                      </td>
                      <td className="num">{kappaText(m.kappa)}</td>
                      <td className="num">{m.stats.meanAbsRatingDiff === null ? '—' : m.stats.meanAbsRatingDiff.toFixed(2)}</td>
                      <td>{leniency(m.stats.meanRatingDiff)}</td>
                      <td>
                        <table className="confusion" aria-label={`Confusion matrix for ${m.reviewerModel}`}>
                          <thead>
                            <tr>
                              <th />
                              {c.verdicts.map((v) => (
                                <th key={v} scope="col" title={label(v)}>
                                  {label(v).slice(0, 4)}
                                </th>
                              ))}
                            </tr>
                          </thead>
                          <tbody>
                            {c.cells.map((row, i) => (
                              <tr key={c.verdicts[i]}>
                                <th scope="row" title={label(c.verdicts[i] ?? '')}>
                                  {label(c.verdicts[i] ?? '').slice(0, 4)}
                                </th>
                                {row.map((n, j) => (
                                  <td key={j} className={i === j ? 'diag' : n ? 'off' : undefined}>
                                    {n || ''}
                                  </td>
                                ))}
                              </tr>
                            ))}
                          </tbody>
                        </table>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : null}
        {data && data.calibration.length > 0 ? (
          <ul className="plain" data-testid="agreement-calibration">
            {data.calibration.map((c) => (
              <li key={c.reviewerModel}>
                <strong>{c.reviewerModel}</strong> agreement with human calibration examples in the prompt:{' '}
                <Rate value={c.calibrated.agreementRate} n={c.calibrated.pairs} noun="pairs" />; without:{' '}
                <Rate value={c.uncalibrated.agreementRate} n={c.uncalibrated.pairs} noun="pairs" />
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </section>
  );
}
