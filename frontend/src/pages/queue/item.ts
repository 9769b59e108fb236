// A queue item as the queue's components see it, and how it is named on screen.
import type { QueueItemFieldsFragment, RunStatus, SessionStatus } from '../../gql/graphql';
import { label } from '../../components/Badges';

export type Item = QueueItemFieldsFragment;

export function itemTitle(i: Pick<Item, 'title' | 'kind' | 'sessionId' | 'runId'>): string {
  if (i.runId) return `${i.title ?? `${label(i.kind)} session #${i.sessionId}`} · run #${i.runId}`;
  return i.title ?? `${label(i.kind)} session #${i.sessionId}`;
}

export function statusEnum(s: string): SessionStatus | RunStatus {
  return s.toUpperCase() as SessionStatus | RunStatus;
}
