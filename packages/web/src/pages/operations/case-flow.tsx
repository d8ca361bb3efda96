import type { Resignation, TimelineEntry } from '../../api/ems.ts';

/** On the case page, for the operator: the case's flow as a picture (expected-by, done, late, failed). Being built. */
export function CaseFlow(_props: { resignation: Resignation; timeline: readonly TimelineEntry[] }) {
  return null;
}
