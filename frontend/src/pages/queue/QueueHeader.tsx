// The queue's title row: agent filter, shortcuts, "Claim next".
export function QueueHeader({
  agent,
  agents,
  onAgent,
  onHelp,
  canWrite,
  claiming,
  onClaimNext,
}: {
  agent: string | null;
  agents: ReadonlyArray<{ id: string; displayName?: string | null }>;
  onAgent: (agent: string | null) => void;
  onHelp: () => void;
  canWrite: boolean;
  claiming: boolean;
  onClaimNext: () => void;
}) {
  return (
    <div className="page-head">
      <div>
        <h1>Review queue</h1>
        <p>
          What most needs a human, most urgent first: AI/human disagreements, low-confidence AI verdicts, failures, then
          unreviewed work.
        </p>
      </div>
      <div className="row wrap">
        <select className="select" aria-label="Agent" value={agent ?? ''} onChange={(e) => onAgent(e.target.value || null)}>
          <option value="">All agents</option>
          {agents.map((a) => (
            <option key={a.id} value={a.id}>
              {a.displayName ?? a.id}
            </option>
          ))}
        </select>
        <button type="button" className="btn" onClick={onHelp} aria-keyshortcuts="?">
          Shortcuts <kbd>?</kbd>
        </button>
        {canWrite ? (
          <button type="button" className="btn btn-primary" onClick={onClaimNext} disabled={claiming} data-testid="claim-next" aria-keyshortcuts="n">
            Claim next <kbd>n</kbd>
          </button>
        ) : null}
      </div>
    </div>
  );
}
