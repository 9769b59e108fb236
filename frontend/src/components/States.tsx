import type { CombinedError } from '@urql/core';
import type { ReactNode } from 'react';
import { describeError } from '../lib/errors';

export function ErrorBanner({ error, children }: { error?: CombinedError | undefined; children?: ReactNode }) {
  const message = children ?? describeError(error);
  if (!message) return null;
  return (
    <div className="banner bad" role="alert">
      {message}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <strong>{title}</strong>
      {children ? <div>{children}</div> : null}
    </div>
  );
}

export function SkeletonRows({ rows, cols }: { rows: number; cols: number }) {
  return (
    <>
      {Array.from({ length: rows }, (_, r) => (
        <tr key={r} aria-hidden="true">
          {Array.from({ length: cols }, (_, c) => (
            <td key={c}>
              <span className="skeleton" style={{ width: `${50 + ((r * 7 + c * 13) % 40)}%` }} />
            </td>
          ))}
        </tr>
      ))}
    </>
  );
}
