import type { View } from '@ems/platform';
import type { ems } from '@ems/contracts';

/**
 * What a `summary` view of a case leaves out (the policy table gives it to managers, IT and operators):
 * the reason (and its category), the decision note, and notes in the timeline — status and dates stay.
 */
export function resignationView(r: ems.Resignation, view: View): ems.Resignation {
  if (view === 'full') return r;
  return { ...r, reason: null, reasonCategory: null, decision: r.decision && { ...r.decision, note: null } };
}

const PRIVATE_DETAIL = new Set(['note', 'notes', 'reason']);

export function timelineView(entry: ems.TimelineEntry, view: View): ems.TimelineEntry {
  if (view === 'full') return entry;
  const note = entry.detail.note;
  const summary = typeof note === 'string' && note && entry.summary.endsWith(` — ${note}`) ? entry.summary.slice(0, -` — ${note}`.length) : entry.summary;
  return { ...entry, summary, detail: Object.fromEntries(Object.entries(entry.detail).filter(([k]) => !PRIVATE_DETAIL.has(k))) };
}
