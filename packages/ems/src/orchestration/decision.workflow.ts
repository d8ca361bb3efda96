/*
 * The orchestrated decision phase of a case: the case's own workflow (id = the case id; named 'resignation', as
 * the whole case's workflow was until resignation-v7, so the running workflows of earlier versions are taken
 * over as this one). It starts when it is first needed — a decision (or withdrawal) comes, or the sweeper finds
 * the case's first follow-up can be due (`startDue`) — not with the case: in a burst of resignations no case
 * waits in it, and its first wait cost ~7 commits per case (measured: README, "the lean path, thirty-fifth
 * round"). It begins once the case's reactions have settled (their workflow, resignation.workflow.ts, awaited),
 * then waits — durably, for days — for a decision message, sending follow-ups when deadlines pass, then drives
 * what the decision sets off:
 *
 *   ┌─▶ recv('decision', until the next follow-up is due) ──timeout──▶ HR's command followUp: HR sends it if
 *   │          │                                                      still due with its facts (booked? held?);
 *   │          │ message: store.decide (the state machine, 409s)         sent → on the case; its facts time the next
 *   │          ├── retained / withdrawn ──▶ announceDecision ║ restoreAccess ║ cancelInterview ──▶ settle: closed
 *   │          └── exit_confirmed ──▶ announceDecision ──▶ recv('decision', until the end of the last
 *   │                                  working day)  ── a new day moves it ──┘       │ due, or Access revoked
 *   │                                                                                │ earlier (message below)
 *   └──────────────────────────────────────────────────────────────────    revokeAccess ──▶ settle: exited, closed
 *
 * Access revoked early (IT's "revoke now"): its `access-revoked` event reaches EMS's subscriber
 * (end-wait-when-access-revoked.ts), which sends the case's workflow a message; the wait ends as if the
 * day had ended, and revokeAccess asks Access, which answers with the revocation already done.
 *
 * Time comes from the injected clock, read in a step (so a replay sees the same instant); every wait is
 * a `recv` with a timeout, which DBOS keeps across restarts. A clock that can jump (tests, drills) bounds
 * each wait by `clock.maxWaitMs`, so moving it forward fires what has become due.
 */
import { DBOS } from '@dbos-inc/dbos-sdk';
import { ServiceCallError, type Clock, type Logger } from '@ems/platform';
import { EventTypes } from '@ems/contracts/events';
import { notification } from '@ems/contracts';
import { earliestFollowUpMs, followUpKey, nextFollowUp, type FollowUp, type FollowUpPolicy } from '@ems/contracts/follow-up-policy';
import type { CaseFacts, CaseStore, DecideOutcome, DecisionInput } from '../resignations/case-store.ts';
import type { CaseDraft } from '../resignations/case-store.ts';
import type { Participants } from './participants.ts';
import { summaries } from '../domain/summaries.ts';
import { DB_RETRIES, recordOutcomes, trackedStep, untilDone, withRetries, type Reaction, type RetryPolicy } from './tracked-step.ts';

/** The case's decision workflow: its id is the case's. The name is the one the whole case's workflow had until resignation-v7. */
export const DECISION_WORKFLOW_NAME = 'resignation';
const DECISION_TOPIC = 'decision';
/** How many cases whose first follow-up can be due one sweep starts the decision workflow of. */
const DUE_BATCH = 100;
/** The longest single wait, even with nothing due: the workflow then looks again (cheap, rare). */
const MAX_WAIT_MS = 24 * 3_600_000;
/**
 * A waiting case's workflow learns of a message from PostgreSQL's NOTIFY at once; the poll is only the
 * safety net for a notification lost with the listening connection. DBOS polls every 10 s by default —
 * two statements per open case every 10 s, for the weeks a case waits (measured: ~4 of orchestration's
 * statements per case within a 30 s run, and 17,000 a day per open case). Once a minute is enough.
 */
const RECV_POLL_MS = 60_000;

/** The interview as the workflow last saw it (an ISO end, so it survives checkpointing as JSON). */
interface InterviewFacts {
  end: string;
  held: boolean;
}

/** A follow-up step's checkpointed result: recorded (sent or skipped) or not, HR's interview facts, and when not due, when to ask again. */
interface FollowUpDone {
  sent: boolean;
  interview: InterviewFacts | null;
  notBeforeMs?: number;
}

/** A decision (or withdrawal) sent to the case's workflow; `requestId` keys its answer. */
export interface DecisionMessage extends DecisionInput {
  requestId: string;
}

/**
 * Sent to every waiting case when a process starts on a clock that can jump (EMS_CLOCK_OFFSET, a test's
 * clock): a wait begun on another clock — DBOS keeps its deadline across restarts — ends, and the
 * workflow looks at the new clock. Without it a timer set on the system clock kept real time (up to a day).
 */
interface WakeMessage {
  wake: string;
}

/** Access revoked the employee's access (its event, sent on by end-wait-when-access-revoked.ts). */
export interface AccessRevokedMessage {
  accessRevoked: string;
}

/** Where the decision phase begins: the case as its reactions left it, the clock, the settings (checkpointed in one step). */
interface DecisionStart {
  policy: FollowUpPolicy;
  facts: CaseFacts;
  nowMs: number;
}

type Mail = DecisionMessage | WakeMessage | AccessRevokedMessage;
const isWake = (m: Mail): m is WakeMessage => 'wake' in m;
const isAccessRevoked = (m: Mail): m is AccessRevokedMessage => 'accessRevoked' in m;
const isDecision = (m: Mail): m is DecisionMessage => !isWake(m) && !isAccessRevoked(m);

/** A case whose decision phase can begin (its first follow-up can be due), and whether a workflow has its id already. */
export interface DueDecision {
  draft: CaseDraft;
  workflowExists: boolean;
}

export function createDecisionOrchestrator(deps: {
  store: CaseStore;
  participants: Participants;
  retry: RetryPolicy;
  clock: Clock;
  policy: FollowUpPolicy;
  log: Logger;
  /** The case's reactions: their workflow started if it is not, and awaited (resignation.workflow.ts, `settled`). Called in this workflow. */
  reactionsSettled: (draft: CaseDraft) => Promise<void>;
  /** Cases submitted before the instant given that wait for a decision, not marked started, and whether a workflow has each one's id (cases-without-workflow.ts). */
  decisionsDue: (submittedBefore: Date, limit: number) => Promise<DueDecision[]>;
  /** Marks these cases' decision workflows started, at the instant given: `withoutDecisionWorkflow` skips them from then. */
  decisionStarted: (caseIds: readonly string[], at: Date) => Promise<void>;
}) {
  const { store, participants, retry, clock } = deps;

  const now = () => DBOS.runStep(async () => clock.now().getTime(), { name: 'clock' });

  /**
   * The next decision message, 'accessRevoked' when Access has revoked the employee's access, or null
   * when the wait is over (its deadline, or a wake-up): look at the clock again.
   */
  async function wait(untilMs: number | null, nowMs: number): Promise<DecisionMessage | 'accessRevoked' | null> {
    const remaining = untilMs === null ? MAX_WAIT_MS : Math.max(0, untilMs - nowMs);
    const ms = Math.min(remaining, MAX_WAIT_MS, clock.maxWaitMs ?? Number.POSITIVE_INFINITY);
    const msg = await DBOS.recv<Mail>(DECISION_TOPIC, { timeoutSeconds: Math.max(ms, 1) / 1000, pollingIntervalMs: RECV_POLL_MS });
    if (!msg || isWake(msg)) return null;
    return isAccessRevoked(msg) ? 'accessRevoked' : msg;
  }

  const ctx = (draft: CaseDraft, key: string) => ({ correlationId: draft.correlationId, traceparent: draft.traceparent, idempotencyKey: `${draft.id}:${key}` });

  /** Manager (if any) and employee told — Notification's use case writes the notices; done when both are delivered. */
  async function announce(facts: CaseFacts, kind: notification.Decision, revision: number, revokeAt: string | null, lastWorkingDay: string | null, note: string | null): Promise<Reaction> {
    const { draft } = facts;
    const person = (p: { name: string; email: string }) => ({ name: p.name, email: p.email });
    const answer = await participants.announceDecision(
      { resignationId: draft.id, decision: kind, revision, employee: person(draft.employee), manager: draft.manager ? person(draft.manager) : null, note, lastWorkingDay, revokeAt },
      ctx(draft, `announceDecision.${kind}.${revision}`),
    );
    switch (answer.outcome) {
      case 'failed':
      case 'overtaken':
        throw new ServiceCallError(answer.reason ?? `decision ${answer.outcome}`, undefined, false);
      case 'pending': {
        const queued = answer.emails.find((e) => e.status === 'queued');
        throw new ServiceCallError(`email accepted, not yet delivered${queued?.lastError ? `: ${queued.lastError}` : ''}`, 202, true);
      }
      case 'announced':
        return {
          result: { decision: kind, revision, emailIds: answer.emails.map((e) => e.id), recipients: answer.emails.map((e) => e.to) },
          service: 'notification',
          type: EventTypes.decisionAnnounced,
          summary: summaries.decisionAnnounced(kind, [...(draft.manager ? [draft.manager.name] : []), draft.employee.name]),
        };
    }
  }

  /** Access's use case decides: the case's hold lifted, or — none yet — one recorded released, so none comes later. */
  async function restoreAccess(facts: CaseFacts, kind: 'retained' | 'withdrawn'): Promise<Reaction> {
    const lifted = await participants.restoreAccess(
      { resignationId: facts.draft.id, employeeId: facts.draft.employee.id, reason: `resignation ${kind}` },
      { ...ctx(facts.draft, 'restoreAccess'), onBehalfOf: facts.decision?.decidedBy },
    );
    const systems = lifted.restored.map((g) => g.system);
    return { result: { holdId: lifted.holdId, restored: systems }, service: 'access', type: EventTypes.accessRestored, summary: summaries.accessRestored(systems) };
  }

  /** HR's use case decides: the interview still scheduled is cancelled, or it says why there was none to cancel. */
  async function cancelInterview(facts: CaseFacts, kind: 'retained' | 'withdrawn'): Promise<Reaction> {
    // The first closure HR hears of sets its decision instant; a retried step's later instant changes nothing.
    const closure = await participants.cancelInterviewOnClose(
      { resignationId: facts.draft.id, decision: kind, decidedAt: clock.now().toISOString() },
      ctx(facts.draft, `cancelInterview.${kind}`),
    );
    if (closure.skipped) {
      return { result: { interviewId: closure.interviewId, skipped: closure.skipped }, service: 'hr', type: EventTypes.exitInterviewCancelled, summary: `No interview to cancel (${closure.skipped})` };
    }
    return { result: { interviewId: closure.interviewId }, service: 'hr', type: EventTypes.exitInterviewCancelled, summary: 'Exit interview cancelled; cancellations sent' };
  }

  /**
   * An exit confirmed (or its last day moved): Access is told at once when it will revoke, so its
   * revocations show the scheduled one — as they do in choreography — and its own timer fires it even
   * if this workflow were late. Not a step of the case: the revocation at the end of the day is (below);
   * a failure here is logged and the end of the day revokes all the same.
   */
  async function scheduleRevocation(facts: CaseFacts): Promise<void> {
    const d = facts.decision!;
    const key = `scheduleRevocation.${d.revision}`;
    const outcome = await DBOS.runStep(
      () =>
        withRetries(retry, async () => {
          const revocation = await participants.revokeAccess(
            { resignationId: facts.draft.id, employeeId: facts.draft.employee.id, revokeAt: d.revokeAt!, revision: d.revision, reason: `exit confirmed (last working day ${d.lastWorkingDay})` },
            { ...ctx(facts.draft, key), onBehalfOf: d.decidedBy },
          );
          if (revocation.status !== 'scheduled') return;
          await store.recordReaction(facts.draft.id, {
            service: 'access',
            type: EventTypes.accessRevocationScheduled,
            summary: summaries.revocationScheduled(revocation.revokeAt, facts.draft.employee.timezone),
            detail: { revocationId: revocation.id, revision: revocation.revision },
            dedupeKey: `revocation-scheduled.${revocation.revision}`,
          });
        }),
      { name: key },
    );
    if (!outcome.ok) deps.log.warn({ resignationId: facts.draft.id, revision: d.revision, error: outcome.error }, 'Access not told of the revocation in advance; it is revoked at the end of the last day all the same');
  }

  async function revokeAccess(facts: CaseFacts): Promise<Reaction> {
    const d = facts.decision;
    const revocation = await participants.revokeAccess(
      // The decision in force: the revocation scheduled for it (or, were it missing, one due now).
      { resignationId: facts.draft.id, employeeId: facts.draft.employee.id, revision: d?.revision ?? 1, ...(d?.revokeAt ? { revokeAt: d.revokeAt } : {}), reason: 'last working day ended' },
      { ...ctx(facts.draft, 'revokeAccess'), onBehalfOf: facts.decision?.decidedBy },
    );
    if (revocation.status !== 'done') throw new ServiceCallError(`revocation is ${revocation.status}, not done`, 202, true);
    const systems = revocation.revoked.map((g) => g.system);
    return {
      result: { revocationId: revocation.id, revoked: revocation.revoked },
      service: 'access',
      type: EventTypes.accessRevoked,
      summary: systems.length ? `All access revoked: ${systems.join(', ')}` : 'No access left to revoke',
      // Done when Access did it: now, or earlier (revoked now by IT before the end of the last day).
      ...(revocation.doneAt ? { at: new Date(revocation.doneAt) } : {}),
    };
  }

  /**
   * A follow-up whose deadline passed: HR's command (its use case, the same as its timer's in choreography)
   * decides with HR's facts whether it is still due, sends it once by its key and records it. The workflow
   * records a sent one on the case; a skipped one (nobody to send it to, Notification refused it) HR announces
   * (follow-up-skipped), and EMS records that event as in choreography (record-reported-when-orchestrated.ts):
   * one entry, worded once, in both modes. HR's interview facts time the next follow-up. `notBeforeMs`: not
   * due — not to be asked again before.
   */
  async function followUp(facts: CaseFacts, f: FollowUp, nowMs: number): Promise<FollowUpDone> {
    const { draft } = facts;
    const key = followUpKey(f);
    const answer = await participants.followUp(
      {
        resignationId: draft.id,
        employee: { id: draft.employee.id, name: draft.employee.name },
        hrPartnerId: draft.hrPartnerId,
        submittedAt: draft.submittedAt,
        milestone: f.milestone,
        level: f.level,
        dueAt: f.dueAt.toISOString(),
      },
      ctx(draft, `follow-up:${key}`),
    );
    const interview = answer.interview;
    switch (answer.outcome) {
      case 'sent':
        await store.recordFollowUp(draft.id, { milestone: f.milestone, level: f.level, dueAt: answer.dueAt, to: answer.to, emailId: answer.emailId });
        return { sent: true, interview };
      case 'skipped':
        // On the case from HR's follow-up-skipped event (above), not from here: the same entry as in choreography.
        deps.log.warn({ resignationId: draft.id, followUp: key, reason: answer.reason }, 'follow-up recorded by HR without an email');
        return { sent: true, interview };
      case 'not due': {
        // HR's facts time the next one; asked again for this one no sooner than HR finds it due (a day at most).
        const dueMs = answer.dueAt === null ? null : Date.parse(answer.dueAt);
        return { sent: false, interview, notBeforeMs: dueMs !== null && dueMs > nowMs ? dueMs : nowMs + MAX_WAIT_MS };
      }
    }
  }

  /**
   * A follow-up whose command HR refused (a 4xx: HR recorded nothing, so it announces nothing): the case says so.
   * Orchestration only — in choreography there is no command to refuse.
   */
  function followUpNotSent(caseId: string, f: FollowUp, why: string): Promise<void> {
    return store.recordReaction(caseId, {
      service: 'hr',
      type: `${EventTypes.followUpSent}.failed`,
      summary: summaries.stepFailed(`follow-up (${f.level}, ${f.milestone})`, why),
      detail: { followUp: followUpKey(f), error: why },
      dedupeKey: `follow-up.${f.milestone}.${f.level}.failed`,
    });
  }

  /** The case as it is now (it exists: the workflow's id is the case's). */
  async function factsOf(caseId: string): Promise<CaseFacts> {
    const f = await store.facts(caseId);
    if (!f) throw new Error(`case ${caseId} does not exist`);
    return f;
  }

  /** The case's decision workflow (its input: the case's draft, as the whole case's workflow had it until resignation-v7). */
  async function decisionWorkflow(draft: CaseDraft): Promise<string> {
    const caseId = draft.id;
    // Begins once the reactions have settled (a decision that came sooner waits in this workflow's mailbox);
    // where it begins, in one step: the case as settled, the clock, the settings that shape the step sequence
    // (a restart with other settings replays the same).
    await deps.reactionsSettled(draft);
    const start = await DBOS.runStep(async (): Promise<DecisionStart> => ({ policy: deps.policy, facts: await factsOf(caseId), nowMs: clock.now().getTime() }), { name: 'begin', ...DB_RETRIES });
    const readFacts = (name: string) => DBOS.runStep(() => factsOf(caseId), { name, ...DB_RETRIES });
    const policy = start.policy;
    let facts = start.facts;
    let startedAt: number | null = start.nowMs;
    const sent = new Set<string>();
    /** HR found this follow-up not due when asked: not asked again before `atMs`. */
    let notBefore: { key: string; atMs: number } | null = null;
    let interview: InterviewFacts | null = facts.interview ? { end: facts.interview.end, held: false } : null;
    let exit = facts.decision?.kind === 'exit_confirmed' && facts.decision.revokeAt ? { revokeAt: Date.parse(facts.decision.revokeAt) } : null;
    let knownRevision = facts.decision?.revision ?? 0;

    /** Applies a decision message under the case's lock and answers its sender; true when it took effect. */
    const handle = async (msg: DecisionMessage): Promise<boolean> => {
      const outcome: DecideOutcome = await DBOS.runStep(() => store.decide(caseId, msg), { name: 'decide', ...DB_RETRIES });
      facts = await readFacts('readDecision');
      // A retried step may find its own earlier commit ('unchanged'): the revision tells what happened.
      const applied = (facts.decision?.revision ?? 0) > knownRevision;
      const answer: DecideOutcome = applied ? { outcome: 'applied', revision: facts.decision!.revision } : outcome;
      await DBOS.setEvent(decisionAnswerKey(msg.requestId), answer);
      if (applied) knownRevision = facts.decision!.revision;
      return applied;
    };
    /** Before the workflow ends: answer what arrived meanwhile (it can only be refused now). */
    const answerLeftovers = async () => {
      for (let msg = await DBOS.recv<Mail>(DECISION_TOPIC, { timeoutSeconds: 0.01 }); msg; msg = await DBOS.recv<Mail>(DECISION_TOPIC, { timeoutSeconds: 0.01 })) {
        if (isDecision(msg)) await handle(msg);
      }
    };

    /** Retained or withdrawn: the manager and employee told, the hold lifted, the interview cancelled; the case closed. */
    const close = async (decided: CaseFacts): Promise<string> => {
      const d = decided.decision!;
      const closedAs = d.kind === 'withdrawn' ? 'withdrawn' : 'retained';
      const outcomes = await Promise.all([
        trackedStep(store, retry, caseId, 'announceDecision', () => announce(decided, d.kind, d.revision, d.revokeAt, d.lastWorkingDay, d.note)),
        trackedStep(store, retry, caseId, 'restoreAccess', () => restoreAccess(decided, closedAs)),
        trackedStep(store, retry, caseId, 'cancelInterview', () => cancelInterview(decided, closedAs)),
      ]);
      const status = await recordOutcomes(store, caseId, outcomes);
      await answerLeftovers();
      return status;
    };

    // Decided before this phase began: a workflow replayed from its first step (one of an earlier version taken
    // over, workflows-of-other-versions.ts) can find its case so. An exit waits for its day (above); a case
    // retained or withdrawn is closed — again where it was, nothing done twice.
    if (facts.decision && facts.decision.kind !== 'exit_confirmed') return close(facts);

    for (;;) {
      const nowMs = startedAt ?? (await now());
      startedAt = null;
      let next: FollowUp | null = null;
      let dueAt: number | null;
      if (exit) dueAt = exit.revokeAt;
      else {
        next = nextFollowUp(policy, { submittedAt: new Date(facts.draft.submittedAt), interview: interview && { end: new Date(interview.end), held: interview.held }, decided: false }, sent);
        dueAt = next ? next.dueAt.getTime() : null;
        if (next && notBefore?.key === followUpKey(next)) dueAt = Math.max(dueAt!, notBefore.atMs);
      }

      if (dueAt === null || dueAt > nowMs) {
        const msg = await wait(dueAt, nowMs);
        if (!msg) continue; // a timeout: look at the clock again
        if (msg === 'accessRevoked') {
          // Revoked before the end of the last day: for this case the day has ended (below). Before an
          // exit is confirmed there is nothing to follow up here: the message changes nothing.
          if (!exit) continue;
        } else {
          if (!(await handle(msg))) continue;
          const d = facts.decision!;
          const decided = facts;
          const announcement = () => announce(decided, d.kind, d.revision, d.revokeAt, d.lastWorkingDay, d.note);
          if (d.kind === 'exit_confirmed') {
            exit = { revokeAt: Date.parse(d.revokeAt!) };
            const [o] = await Promise.all([trackedStep(store, retry, caseId, 'announceDecision', announcement, `announceDecision.${d.revision}`), scheduleRevocation(decided)]);
            await recordOutcomes(store, caseId, [o]);
            continue;
          }
          return close(decided);
        }
      }

      if (exit) {
        const revoking = facts;
        const o = await trackedStep(store, retry, caseId, 'revokeAccess', () => revokeAccess(revoking));
        const status = await recordOutcomes(store, caseId, [o]);
        await answerLeftovers();
        return status;
      }
      const due = next!;
      const key = followUpKey(due);
      const done = await untilDone<FollowUpDone>(
        `followUp.${key}`,
        retry,
        () => followUp(facts, due, nowMs),
        (error, attempt) => deps.log.warn({ resignationId: caseId, followUp: key, attempt, error }, 'follow-up not sent yet; retrying'),
        // HR's command refused (a 4xx: HR recorded nothing; a refused email is HR's 'skipped', above): retrying
        // cannot help — the case says so, and moves on.
        async (error) => {
          deps.log.error({ resignationId: caseId, followUp: key, error }, 'follow-up refused; not retried');
          await DBOS.runStep(() => followUpNotSent(caseId, due, error), { name: `followUpRefused.${key}`, ...DB_RETRIES });
          return { sent: true, interview };
        },
      );
      interview = done.interview;
      if (done.sent) sent.add(key);
      notBefore = done.notBeforeMs === undefined ? null : { key, atMs: done.notBeforeMs };
    }
  }

  const workflow = DBOS.registerWorkflow(decisionWorkflow, { name: DECISION_WORKFLOW_NAME });
  /** Starts the case's decision workflow unless it has one (idempotent on the case id). */
  const startPhase = async (draft: CaseDraft): Promise<void> => {
    await DBOS.startWorkflow(workflow, { workflowID: draft.id })(draft);
  };

  return {
    /**
     * Starts the decision workflow of every case waiting for a decision whose first follow-up can be due
     * (`earliestFollowUpMs` after its submission, on the injected clock), unless a workflow has the case's id
     * already (a decision started it); then marks them all, a batch in one statement, so the sweeper reads none
     * of them again. How many it started. Run by EMS's sweeper. A crash between the start and the mark finds
     * the workflow next round and marks it.
     */
    async startDue(now: Date): Promise<number> {
      let started = 0;
      for (let batch = DUE_BATCH; batch === DUE_BATCH; ) {
        const due = await deps.decisionsDue(new Date(now.getTime() - earliestFollowUpMs(deps.policy)), DUE_BATCH);
        for (const { draft } of due.filter((d) => !d.workflowExists)) {
          await startPhase(draft);
          started++;
        }
        await deps.decisionStarted(
          due.map((d) => d.draft.id),
          now,
        );
        batch = due.length;
      }
      return started;
    },
    /**
     * Ends every wait begun before this process started (see WakeMessage): for a clock that can jump.
     * Once per start (`startId`): a message is delivered once, whatever retries the sender makes.
     */
    async wakeWaiting(startId: string): Promise<number> {
      let woken = 0;
      for (const id of await store.casesInDecisionPhase()) {
        try {
          // A case whose decision workflow has not begun has nothing to wake: the sweeper starts it on this clock.
          const status = await DBOS.getWorkflowStatus(id);
          if (!status || (status.status !== 'PENDING' && status.status !== 'ENQUEUED')) continue;
          await DBOS.send<WakeMessage>(id, { wake: startId }, DECISION_TOPIC, `wake:${startId}`);
          woken++;
        } catch (err) {
          deps.log.warn({ resignationId: id, err }, 'could not wake the waiting case; it looks at the clock again when its wait ends');
        }
      }
      return woken;
    },
    /**
     * Tells a case's workflow that Access has revoked its employee's access (`eventId`: the event that
     * said so; sent once per event, however often it is delivered). A workflow that has ended (the case
     * closed, or the revocation was its own) is not sent anything.
     */
    async accessRevoked(caseId: string, eventId: string): Promise<boolean> {
      const status = await DBOS.getWorkflowStatus(caseId);
      if (!status || (status.status !== 'PENDING' && status.status !== 'ENQUEUED')) return false;
      await DBOS.send<AccessRevokedMessage>(caseId, { accessRevoked: eventId }, DECISION_TOPIC, `access-revoked:${eventId}`);
      return true;
    },
    /**
     * Hands a decision to the case's decision workflow — started first if it has not begun — and waits for its
     * answer (the state machine runs there, serialised with everything else the workflow does). The same request
     * id is answered once: a retried request gets the same answer. A message that arrives before the reactions
     * have settled waits in the workflow's mailbox (the request was checked against the case's status first).
     */
    async decide(caseId: string, message: DecisionMessage, waitSeconds = 15): Promise<DecideOutcome | 'pending'> {
      const draft = await store.draft(caseId);
      if (!draft) throw new Error(`case ${caseId} does not exist`);
      await startPhase(draft);
      await DBOS.send(caseId, message, DECISION_TOPIC, message.requestId);
      const answer = await DBOS.getEvent<DecideOutcome>(caseId, decisionAnswerKey(message.requestId), waitSeconds);
      if (answer) return answer;
      // Its workflow has finished (the case is closed, or its last day has ended): nothing will read the
      // message — the state machine answers it here, and can only refuse or find it already done.
      const status = await DBOS.getWorkflowStatus(caseId);
      if (status?.status === 'SUCCESS') return store.decide(caseId, message);
      return 'pending';
    },
  };
}

function decisionAnswerKey(requestId: string): string {
  return `decision:${requestId}`;
}

export type DecisionOrchestrator = ReturnType<typeof createDecisionOrchestrator>;
