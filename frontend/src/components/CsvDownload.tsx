// "Download CSV" of the sessions list as filtered now, through the authorised `sessionsCsv`
// query (so it carries the same key as every other request), saved with a temporary link.
import { useState } from 'react';
import { useClient } from 'urql';
import { SessionsCsvQuery } from '../api/alerts';
import type { SessionFilter } from '../gql/graphql';
import { describeError } from '../lib/errors';

const LIMIT = 20_000;

export function CsvDownload({ filter }: { filter: SessionFilter }) {
  const client = useClient();
  const [state, setState] = useState<{ busy: boolean; note: string | null }>({ busy: false, note: null });
  const download = async () => {
    setState({ busy: true, note: null });
    const r = await client.query(SessionsCsvQuery, { filter, limit: LIMIT }, { requestPolicy: 'network-only' }).toPromise();
    const file = r.data?.sessionsCsv;
    if (!file) {
      setState({ busy: false, note: describeError(r.error) ?? 'Download failed.' });
      return;
    }
    const url = URL.createObjectURL(new Blob([file.content], { type: 'text/csv;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = file.filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    setState({ busy: false, note: file.truncated ? `First ${file.rowCount.toLocaleString()} sessions only.` : null });
  };
  return (
    <span className="row" style={{ gap: 6 }}>
      <button type="button" className="btn small" disabled={state.busy} onClick={() => void download()} data-testid="sessions-csv">
        {state.busy ? 'Preparing…' : 'Download CSV'}
      </button>
      {state.note ? <span className="muted">{state.note}</span> : null}
    </span>
  );
}
