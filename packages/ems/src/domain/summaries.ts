/**
 * The timeline's sentences now live in one module with every other sentence of a case's timeline:
 * resignations/timeline.wording.ts. This re-export keeps older imports working; import from there.
 */
export { localTime, summaries } from '../resignations/timeline.wording.ts';
