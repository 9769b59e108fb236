import { useEffect, useRef, useState } from 'react';

// GET /status (public, no key): the server's version for the footer, and whether
// `observatory serve --demo` is still loading its demo data in the background.
interface Status {
  version: string;
  demoLoading: boolean;
}

const POLL_MS = 2000; // while demo data loads (~10–30 s on a laptop)

function useServerStatus(): Status | null {
  const [status, setStatus] = useState<Status | null>(null);
  const wasLoading = useRef(false);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    async function poll() {
      try {
        const res = await fetch('/status', { headers: { accept: 'application/json' } });
        if (!res.ok) return; // an API without /status (older server): no footer, no banner
        const next = (await res.json()) as Status;
        if (stopped) return;
        setStatus(next);
        // Loaded with COPY in one transaction, not through live events: refetch everything once.
        if (wasLoading.current && !next.demoLoading) window.location.reload();
        wasLoading.current = next.demoLoading;
        if (next.demoLoading) timer = setTimeout(poll, POLL_MS);
      } catch {
        // the dashboard works without it
      }
    }
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  return status;
}

export function ServerStatus() {
  const status = useServerStatus();
  if (!status) return null;
  return (
    <>
      {status.demoLoading ? (
        <div className="demo-loading" role="status" data-testid="demo-loading">
          Loading demo data… the pages fill in when it is in.
        </div>
      ) : null}
      <footer className="footer muted" data-testid="footer">
        Session Observatory {status.version}
      </footer>
    </>
  );
}
