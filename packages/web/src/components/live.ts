import { useEffect } from 'react';

/**
 * Live updates: one server-sent events stream per tab (`GET /api/updates`, with the session cookie), shared
 * by every open page. The server sends only what the person may see: `case` events (a case changed) and, to
 * operators, `dead-letter` events. Pages reload what they show when an update concerns it.
 */
export type LiveUpdate =
  | { kind: 'case'; resignationId: string; status: string; updatedAt: string }
  | { kind: 'dead-letter'; id?: string }
  | { kind: 'reconnected' };

const handlers = new Set<(u: LiveUpdate) => void>();
let source: EventSource | null = null;
let opened = false;

function emit(u: LiveUpdate): void {
  for (const h of handlers) h(u);
}

function parse(data: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(data);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function connect(): void {
  if (source || typeof EventSource === 'undefined') return;
  source = new EventSource('/api/updates');
  source.addEventListener('case', (e) => {
    const d = parse((e as MessageEvent<string>).data);
    if (typeof d.resignationId === 'string') emit({ kind: 'case', resignationId: d.resignationId, status: typeof d.status === 'string' ? d.status : '', updatedAt: typeof d.updatedAt === 'string' ? d.updatedAt : '' });
  });
  source.addEventListener('dead-letter', (e) => {
    const d = parse((e as MessageEvent<string>).data);
    emit({ kind: 'dead-letter', ...(typeof d.id === 'string' ? { id: d.id } : {}) });
  });
  source.addEventListener('open', () => {
    // After a reconnect, whatever changed meanwhile was missed: pages reload.
    if (opened) emit({ kind: 'reconnected' });
    opened = true;
  });
}

/** Calls `handler` for every live update while the component is mounted. */
export function useLiveUpdates(handler: (u: LiveUpdate) => void): void {
  useEffect(() => {
    handlers.add(handler);
    connect();
    return () => {
      handlers.delete(handler);
    };
  }, [handler]);
}

/** For resources: reload on any change of this case (or after a reconnect). */
export const caseChanged = (resignationId?: string) => (u: LiveUpdate) =>
  u.kind === 'reconnected' || (u.kind === 'case' && (resignationId === undefined || u.resignationId === resignationId));
