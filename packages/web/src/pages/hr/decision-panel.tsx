import type { Resignation } from '../../api/ems.ts';

/** On the case page, for the HR partner and lead: decide (retained / exit confirmed with a last day), seeing the employee's access summary. Being built. */
export function DecisionPanel(_props: { resignation: Resignation; onDecided: () => void }) {
  return null;
}
