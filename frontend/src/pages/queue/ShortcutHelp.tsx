// The queue's keyboard shortcuts (lib/queue.ts's SHORTCUTS), opened with "?".
import { Panel } from '../../components/Panel';
import { SHORTCUTS } from '../../lib/queue';

export function ShortcutHelp({ onClose }: { onClose: () => void }) {
  return (
    <Panel titleId="keys-title" title="Keyboard shortcuts" testId="shortcut-help" onClose={onClose}>
      <div className="panel-body">
        <table className="shortcuts">
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.what}>
                <td>
                  {s.keys.map((k, i) => (
                    <span key={k}>
                      {i > 0 ? (k.includes('–') ? ' then ' : ' + ') : null}
                      <kbd>{k}</kbd>
                    </span>
                  ))}
                </td>
                <td>{s.what}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Panel>
  );
}
