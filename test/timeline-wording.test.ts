/**
 * One timeline, whichever mode ran the case: the same three cases (withdrawn before the interview,
 * retained after it, exit confirmed and revoked at the end of the last day) run in orchestration and
 * then in choreography, on the same demo organisation and the same clock, and each case's timeline
 * must tell the same story in the same sentences — every sentence comes from one wording module
 * (packages/ems/src/domain/summaries.ts), whoever reports the outcome.
 */
import { describe, expect, it } from 'vitest';
import { demoOrg, type Employee } from '@ems/demo-org';
import { adjustableClock } from '@ems/platform';
import { waitFor } from '@ems/platform/testing';
import type { ems } from '@ems/contracts';
import { employeePicker, http, startAcceptanceEms } from './acceptance/harness.ts';

/** A fixed Monday morning, so both runs book the same interview slot and revoke at the same instant. */
const START = new Date('2027-03-01T07:00:00Z');

type Story = Record<'withdrawn' | 'retained' | 'exited', string[]>;

async function storyIn(mode: 'orchestration' | 'choreography'): Promise<Story> {
  const clock = adjustableClock(START, 500);
  // A deadline no reaction misses on a busy machine: a step marked late is the machine's story, not the mode's.
  const env = await startAcceptanceEms(mode, `timeline_wording_${mode}`, { clock, env: { EMS_STEP_DEADLINE_SECONDS: '600' } });
  try {
    const { base } = env;
    const { takeEmployee } = employeePicker(demoOrg());
    const caseOf = async (id: string) => (await http<ems.Resignation>(base, 'GET', `/api/resignations/${id}`)).body;
    const until = (id: string, what: string, ok: (c: ems.Resignation) => boolean) =>
      waitFor(async () => {
        const c = await caseOf(id);
        return ok(c) ? c : undefined;
      }, `${mode}: case ${id} ${what}`, 60_000);
    const awaitingDecision = async (employee: Employee) => {
      const res = await http<ems.Resignation>(base, 'POST', '/api/resignations', { employeeId: employee.id });
      expect(res.status).toBe(201);
      return until(res.body.id, 'awaiting the decision', (c) => c.status === 'awaiting_decision');
    };
    const decide = async (id: string, body: unknown) => expect((await http(base, 'POST', `/api/resignations/${id}/decision`, body)).status).toBe(200);
    const closed = (id: string) => until(id, 'closed', (c) => c.closedAt !== null);
    /** Who said what (service: sentence), in a stable order: parallel reactions may finish in either order. */
    const sentences = async (id: string) => {
      const items = (await http<{ items: ems.TimelineEntry[] }>(base, 'GET', `/api/resignations/${id}/timeline`)).body.items;
      return items.map((t) => `${t.service}: ${t.summary}`).sort();
    };

    // Withdrawn before the interview: the interview is cancelled, access restored, both told.
    const withdrawn = await awaitingDecision(takeEmployee());
    expect((await http(base, 'POST', `/api/resignations/${withdrawn.id}/withdrawal`, { note: 'Changed my mind' })).status).toBe(200);
    await closed(withdrawn.id);

    // Retained after the interview was held: nothing left to cancel.
    const retained = await awaitingDecision(takeEmployee());
    const interview = (await http<{ items: Array<{ id: string; start: string }> }>(base, 'GET', `/api/interviews?resignationId=${retained.id}`)).body.items[0]!;
    clock.set(new Date(Date.parse(interview.start) + 60_000));
    expect((await http(base, 'POST', `/api/interviews/${interview.id}/held`, { notes: 'Would stay for a team change' })).status).toBe(200);
    await decide(retained.id, { decision: 'retained', note: 'Moves to the platform team' });
    await closed(retained.id);

    // Exit confirmed: revoked at the end of the last working day, then exited.
    const exiting = await awaitingDecision(takeEmployee());
    await decide(exiting.id, { decision: 'exit_confirmed' });
    const confirmed = await until(exiting.id, 'revocation scheduled and decision announced', (c) => c.steps.announceDecision?.status === 'done');
    // Access shows the revocation it will carry out before the day ends (its timeline entry is written with it).
    await waitFor(async () => (await sentences(exiting.id)).find((s) => s.includes('Access will be revoked at')), `${mode}: the revocation scheduled`);
    clock.set(new Date(Date.parse(confirmed.decision!.revokeAt!) + 1_000));
    await until(exiting.id, 'exited', (c) => c.status === 'exited' && c.closedAt !== null);

    return { withdrawn: await sentences(withdrawn.id), retained: await sentences(retained.id), exited: await sentences(exiting.id) };
  } finally {
    await env.stop();
  }
}

describe('the timeline in both modes', () => {
  it('when the same cases run in orchestration and in choreography, then each timeline tells the same story in the same sentences', async () => {
    // One after the other: a process runs one workflow engine (DBOS is a singleton).
    const orchestrated = await storyIn('orchestration');
    const choreographed = await storyIn('choreography');
    // Each story is a real one (the decision, the reactions, the close), not two empty lists.
    expect(orchestrated.retained).toEqual(expect.arrayContaining([expect.stringMatching(/^ems: Case closed \(retained\)$/), expect.stringMatching(/^ems: Decision: .* is retained/)]));
    expect(orchestrated.exited).toEqual(expect.arrayContaining([expect.stringMatching(/^ems: .* has left: every grant revoked$/), expect.stringMatching(/^access: All access revoked: /)]));
    expect(choreographed.withdrawn).toEqual(orchestrated.withdrawn);
    expect(choreographed.retained).toEqual(orchestrated.retained);
    expect(choreographed.exited).toEqual(orchestrated.exited);
  }, 300_000);
});
