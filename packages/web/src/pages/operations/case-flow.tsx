import { useId } from 'react';
import type { Resignation, TimelineEntry } from '../../api/ems.ts';
import { formatInstant, statusWords } from '../../components/ui.tsx';
import { DECISION_STEPS, FIRST_STEPS, SERVICE_WORDS, STEP_SERVICE, STEP_WORDS, stepsOf, type Step, type StepName } from './steps.ts';

/**
 * The case's flow as a picture, for the operator, beside the timeline — with a text equivalent that says the
 * same (the picture is one image to assistive technology; the list below it is what they read).
 *
 *   orchestration: the workflow's steps      submitted ─┬─ tell the manager ─────┬─ decision ─┬─ announce the decision
 *                                                      ├─ book the interview ───┤            ├─ restore access / revoke
 *                                                      └─ suspend access ───────┘            └─ cancel the interview
 *
 *   choreography: one lane per participant, the events it published in order, then the reactions still awaited.
 *
 * Every node says its state in words (done, late, failed, pending, expected by …): colour and dashes only repeat it.
 */
export function CaseFlow({ resignation, timeline }: { resignation: Resignation; timeline: readonly TimelineEntry[] }) {
  const titleId = useId();
  const textId = useId();
  const flow = resignation.mode === 'choreography' ? choreographyFlow(resignation, timeline) : orchestrationFlow(resignation);
  return (
    <section aria-labelledby={`${titleId}-h`} className="flow">
      <h2 id={`${titleId}-h`}>Flow ({resignation.mode})</h2>
      <p className="muted">{resignation.mode === 'choreography' ? 'The events each participant published, in order, and the reactions still awaited.' : "The workflow's steps: the three first reactions in parallel, then what the decision sets off."}</p>
      <div className="flow-picture table-wrap" role="region" aria-label="Flow picture (scrolls sideways)" tabIndex={0}>
        <svg width={flow.width} height={flow.height} viewBox={`0 0 ${flow.width} ${flow.height}`} role="img" aria-labelledby={titleId} aria-describedby={textId}>
          <title id={titleId}>{`Flow of the case of ${resignation.employeeName} (${resignation.mode}); described in words below`}</title>
          {flow.lanes.map((l) => (
            <g key={l.label}>
              <line x1={0} x2={flow.width} y1={l.y + LANE_H} y2={l.y + LANE_H} stroke="#d0d5dc" />
              <text x={8} y={l.y + 18} className="lane-label">
                {l.label}
              </text>
            </g>
          ))}
          {flow.edges.map((e, i) => (
            <path key={i} className="edge" d={`M ${e.x1} ${e.y1} C ${(e.x1 + e.x2) / 2} ${e.y1}, ${(e.x1 + e.x2) / 2} ${e.y2}, ${e.x2} ${e.y2}`} markerEnd="url(#flow-arrow)" />
          ))}
          <defs>
            <marker id="flow-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7380" />
            </marker>
          </defs>
          {flow.nodes.map((n) => (
            <g key={n.key} className={`node ${n.state}`} transform={`translate(${n.x} ${n.y})`}>
              <rect width={NODE_W} height={NODE_H} rx={6} />
              <text x={8} y={18}>
                {clip(n.label, 30)}
              </text>
              <text x={8} y={36} className="state">
                {n.stateWords}
              </text>
              {n.when ? (
                <text x={8} y={54}>
                  {clip(n.when, 32)}
                </text>
              ) : null}
            </g>
          ))}
        </svg>
      </div>
      <div id={textId} className="flow-text">
        <h3>The flow in words</h3>
        <ol>
          {flow.text.map((t, i) => (
            <li key={i}>{t}</li>
          ))}
        </ol>
      </div>
    </section>
  );
}

const NODE_W = 220;
const NODE_H = 64;
const COL_W = 260;
const ROW_H = 80;
const LANE_H = 100;
const PAD = 12;

type NodeState = 'done' | 'late' | 'failed' | 'pending';
interface FlowNode {
  key: string;
  x: number;
  y: number;
  label: string;
  state: NodeState;
  stateWords: string;
  when: string;
}
interface Flow {
  width: number;
  height: number;
  nodes: FlowNode[];
  edges: Array<{ x1: number; y1: number; x2: number; y2: number }>;
  lanes: Array<{ label: string; y: number }>;
  text: string[];
}

/** Instants in the viewer's zone, named (the timeline beside may be in the employee's). */
const when = (iso: string | null | undefined) => formatInstant(iso, Intl.DateTimeFormat().resolvedOptions().timeZone);
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** A step's state in words, and the instant that goes with it. */
function stepState(s: Step): { state: NodeState; stateWords: string; when: string; sentence: string } {
  switch (s.status) {
    case 'done':
      return { state: 'done', stateWords: 'Done', when: when(s.at), sentence: `done ${when(s.at)}${s.expectedBy ? ` (expected by ${when(s.expectedBy)})` : ''}` };
    case 'failed':
      return {
        state: 'failed',
        stateWords: `Failed after ${plural(s.attempts, 'attempt')}`,
        when: s.lastError ?? when(s.at),
        sentence: `failed after ${plural(s.attempts, 'attempt')}${s.at ? `, ${when(s.at)}` : ''}${s.lastError ? `: ${s.lastError}` : ''}`,
      };
    case 'late':
      return {
        state: 'late',
        stateWords: 'Late',
        when: `expected by ${when(s.expectedBy)}`,
        sentence: `late: expected by ${when(s.expectedBy)}${s.attempts > 0 ? `, ${plural(s.attempts, 'attempt')} so far` : ''}${s.lastError ? ` (last error: ${s.lastError})` : ''}`,
      };
    default:
      return {
        state: 'pending',
        stateWords: 'Pending',
        when: s.expectedBy ? `expected by ${when(s.expectedBy)}` : '',
        sentence: `pending${s.expectedBy ? `: expected by ${when(s.expectedBy)}` : ''}`,
      };
  }
}

function decisionWords(r: Resignation): string {
  if (!r.decision) return r.status === 'action_required' ? 'Action required before a decision' : 'Awaiting the decision';
  return `${statusWords(r.decision.decision)}${r.decision.decision === 'exit_confirmed' && r.decision.lastWorkingDay ? `, last day ${r.decision.lastWorkingDay}` : ''}`;
}

/** The workflow's steps as columns: submitted → the three first reactions → the decision → what it set off. */
function orchestrationFlow(r: Resignation): Flow {
  const first = FIRST_STEPS.flatMap((n) => (r.steps[n] ? [[n, r.steps[n]] as [StepName, Step]] : []));
  const after = DECISION_STEPS.flatMap((n) => (r.steps[n] ? [[n, r.steps[n]] as [StepName, Step]] : []));
  const rows = Math.max(first.length, after.length, 1);
  const height = rows * ROW_H + PAD * 2;
  const mid = (count: number, i: number) => PAD + ((rows - count) * ROW_H) / 2 + i * ROW_H;
  const nodes: FlowNode[] = [];
  const edges: Flow['edges'] = [];
  const text: string[] = [];

  const submitted: FlowNode = { key: 'submitted', x: PAD, y: mid(1, 0), label: 'Resignation submitted', state: 'done', stateWords: 'Done', when: when(r.submittedAt) };
  nodes.push(submitted);
  text.push(`Resignation submitted ${when(r.submittedAt)}.`);

  const firstNodes = first.map(([name, s], i): FlowNode => ({ key: name, x: PAD + COL_W, y: mid(first.length, i), label: STEP_WORDS[name], ...stepState(s) }));
  nodes.push(...firstNodes);
  for (const n of firstNodes) edges.push({ x1: submitted.x + NODE_W, y1: submitted.y + NODE_H / 2, x2: n.x, y2: n.y + NODE_H / 2 });
  text.push(`Then, in parallel: ${first.map(([name, s]) => `${STEP_WORDS[name]} — ${stepState(s).sentence}`).join('; ')}.`);

  const decided = r.decision !== null;
  const decision: FlowNode = {
    key: 'decision',
    x: PAD + COL_W * 2,
    y: mid(1, 0),
    label: 'Decision',
    state: decided ? 'done' : r.status === 'action_required' ? 'failed' : 'pending',
    stateWords: decided ? statusWords(r.decision!.decision) : r.status === 'action_required' ? 'Action required' : 'Awaiting',
    when: decided ? when(r.decision!.decidedAt) : '',
  };
  nodes.push(decision);
  for (const n of firstNodes) edges.push({ x1: n.x + NODE_W, y1: n.y + NODE_H / 2, x2: decision.x, y2: decision.y + NODE_H / 2 });
  text.push(`Decision: ${decisionWords(r)}${decided ? `, ${when(r.decision!.decidedAt)}` : ''}.`);

  const afterNodes = after.map(([name, s], i): FlowNode => ({ key: name, x: PAD + COL_W * 3, y: mid(after.length, i), label: STEP_WORDS[name], ...stepState(s) }));
  nodes.push(...afterNodes);
  for (const n of afterNodes) edges.push({ x1: decision.x + NODE_W, y1: decision.y + NODE_H / 2, x2: n.x, y2: n.y + NODE_H / 2 });
  if (after.length > 0) text.push(`Then, in parallel: ${after.map(([name, s]) => `${STEP_WORDS[name]} — ${stepState(s).sentence}`).join('; ')}.`);
  else text.push('What the decision sets off comes after it.');
  if (r.closedAt) text.push(`Case closed ${when(r.closedAt)}.`);

  return { width: PAD * 2 + COL_W * 3 + NODE_W, height, nodes, edges, lanes: [], text };
}

/** "com.ems.access.critical-access-suspended.v1" → "Critical access suspended". */
function eventWords(type: string): string {
  const m = type.match(/^com\.ems\.[^.]+\.(.+?)(\.v\d+)?$/);
  const core = (m ? m[1]! : type).replace(/[-.]/g, ' ');
  return core.charAt(0).toUpperCase() + core.slice(1);
}

/** One lane per participant: the events it published in order (columns are the order, not a time scale), then what is awaited. */
function choreographyFlow(r: Resignation, timeline: readonly TimelineEntry[]): Flow {
  const order = ['ems', 'notification', 'hr', 'access'];
  const services = [...new Set([...order, ...timeline.map((e) => e.service)])];
  const failedIn = new Set(timeline.filter((e) => /-failed(\.v\d+)?$/.test(e.type)).map((e) => e.service));
  // Steps not done yet: awaited from their participant (a failure the participant published is already its event).
  const awaited = (Object.keys(STEP_SERVICE) as StepName[]).flatMap((name) => {
    const s = r.steps[name];
    if (!s || s.status === 'done') return [];
    if (s.status === 'failed' && failedIn.has(STEP_SERVICE[name])) return [];
    return [[name, s] as [StepName, Step]];
  });
  const lanes = services.map((s, i) => ({ service: s, label: SERVICE_WORDS[s] ?? s, y: PAD + i * LANE_H }));
  const laneY = new Map(lanes.map((l) => [l.service, l.y + 28]));
  const LABEL_W = 150;
  const nodes: FlowNode[] = timeline.map((e, i) => {
    const failed = /-failed(\.v\d+)?$/.test(e.type);
    return {
      key: `e${i}`,
      x: LABEL_W + i * (NODE_W + 16),
      y: laneY.get(e.service) ?? PAD,
      label: eventWords(e.type),
      state: failed ? 'failed' : 'done',
      stateWords: failed ? 'Failed' : 'Published',
      when: when(e.at),
    };
  });
  const awaitX = LABEL_W + timeline.length * (NODE_W + 16);
  const perLane = new Map<string, number>();
  for (const [name, s] of awaited) {
    const service = STEP_SERVICE[name];
    const k = perLane.get(service) ?? 0;
    perLane.set(service, k + 1);
    nodes.push({ key: `a-${name}`, x: awaitX + k * (NODE_W + 16), y: laneY.get(service) ?? PAD, label: `Awaited: ${STEP_WORDS[name]}`, ...stepState(s) });
  }
  const cols = Math.max(0, ...[...perLane.values()]);
  const width = awaitX + cols * (NODE_W + 16) + PAD;
  const text: string[] = services.map((s) => {
    const mine = timeline.filter((e) => e.service === s);
    const events = mine.length === 0 ? 'published nothing yet' : `published ${mine.map((e) => `${eventWords(e.type)} (${when(e.at)})`).join(', then ')}`;
    const waits = awaited.filter(([n]) => STEP_SERVICE[n] === s).map(([n, st]) => `${STEP_WORDS[n]} is ${stepState(st).sentence}`);
    return `${SERVICE_WORDS[s] ?? s} ${events}${waits.length ? `; awaited: ${waits.join('; ')}` : ''}.`;
  });
  text.push(`Decision: ${decisionWords(r)}.`);
  text.push(`The steps, as EMS tracks them from these events: ${stepsOf(r).map(([name, st]) => `${STEP_WORDS[name]} — ${stepState(st).sentence}`).join('; ')}.`);
  return { width, height: PAD * 2 + services.length * LANE_H, nodes, edges: [], lanes, text };
}
