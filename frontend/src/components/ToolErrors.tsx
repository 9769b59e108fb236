// Tool-error groups as a table: on the Tools page (a row opens the drawer of samples) and on the
// dashboard (a row links to the Tools page with that group open).
import { Link } from 'wouter';
import type { ToolErrorGroupFieldsFragment } from '../gql/graphql';
import { sparkline } from '../charts/tools';
import { Empty } from './States';
import { formatDateTime, formatInteger } from '../lib/format';

export function ErrorGroupTable({
  groups,
  onOpen,
  hrefFor,
}: {
  groups: ToolErrorGroupFieldsFragment[] | null;
  onOpen?: (g: ToolErrorGroupFieldsFragment) => void;
  hrefFor?: (g: ToolErrorGroupFieldsFragment) => string;
}) {
  if (groups === null) return <div className="muted card-pad">Loading…</div>;
  if (groups.length === 0) return <Empty title="No failed tool calls in this period" />;
  return (
    <div className="table-wrap">
      <table className="data" data-testid="tool-error-groups">
        <thead>
          <tr>
            <th scope="col">Tool</th>
            <th scope="col">Error</th>
            <th scope="col" className="num">Count</th>
            <th scope="col" className="num">Sessions</th>
            <th scope="col">Trend</th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => (
            <tr key={g.id} data-testid="tool-error-group">
              <td>
                <code>{g.tool}</code>
              </td>
              <td style={{ maxWidth: 520 }}>
                {hrefFor ? (
                  <Link href={hrefFor(g)} className="row-link">
                    {g.fingerprint || '(empty error text)'}
                  </Link>
                ) : (
                  <button type="button" className="row-link" style={{ all: 'unset', cursor: 'pointer' }} onClick={() => onOpen?.(g)}>
                    {g.fingerprint || '(empty error text)'}
                  </button>
                )}
                {g.latestText ? (
                  <div className="muted truncate" title={g.latestText}>
                    latest: {g.latestText}
                  </div>
                ) : null}
              </td>
              <td className="num">{formatInteger(g.count)}</td>
              <td className="num">{formatInteger(g.sessions)}</td>
              <td>
                <span aria-label={`trend ${g.trend.join(', ')}`} title={`first seen ${formatDateTime(g.firstSeen)}`}>
                  {sparkline(g.trend)}
                </span>
              </td>
              <td>{formatDateTime(g.lastSeen, { short: true })}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

