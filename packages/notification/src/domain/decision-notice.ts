import { notification as api } from '@ems/contracts';

/**
 * The decision notice: once a resignation is decided (retained, withdrawn, exit confirmed), the
 * manager (if any) and the employee are told. The emails of one decision form an *announcement*, named
 * by (resignation, decision, revision); its outcome — every email sent, or one given up — is what the
 * rest of EMS waits for, so Notification reports it as one event (decisionAnnounced /
 * decisionAnnouncementFailed), whoever asked for the emails.
 *
 * Each email's purpose (built by the contract's EmailPurposes.decisionNotice, never parsed back) is its key:
 *   decision-notice:<decision>:<revision>:<audience>     e.g. decision-notice:exit_confirmed:2:employee
 * What it means — decision, revision, audience — is in its typed data.
 */
export type Decision = api.Decision;
export type Audience = api.DecisionAudience;

export interface AnnouncementKey {
  resignationId: string;
  decision: Decision;
  /** The exit-confirmed revision; 1 for retained and withdrawn. */
  revision: number;
}

export const AUDIENCES: readonly Audience[] = api.DecisionAudience.options;

export function decisionNoticePurpose(decision: Decision, revision: number, audience: Audience): api.DecisionNoticeEmail['purpose'] {
  return api.EmailPurposes.decisionNotice({ decision, revision, audience });
}

/** The facts of a decision event the notices are written from. */
export interface DecisionFacts extends AnnouncementKey {
  employee: { name: string; email: string };
  manager: { name: string; email: string } | null;
  note: string | null;
  /** exit_confirmed only. */
  lastWorkingDay?: string | undefined;
  revokeAt?: string | undefined;
}

/** The emails of one announcement, the same ones an orchestrator would request over HTTP: the manager's (if any) first, then the employee's. */
export function decisionNoticeRequests(facts: DecisionFacts, caseUrl: string | null): api.DecisionNoticeEmail[] {
  const people: { audience: Audience; person: { name: string; email: string } }[] = [
    ...(facts.manager ? [{ audience: 'manager' as const, person: facts.manager }] : []),
    { audience: 'employee', person: facts.employee },
  ];
  return people.map(({ audience, person }) => ({
    resignationId: facts.resignationId,
    purpose: decisionNoticePurpose(facts.decision, facts.revision, audience),
    to: { email: person.email, name: person.name },
    template: 'resignation-decision-notice' as const,
    data: {
      recipientName: person.name,
      audience,
      employeeName: facts.employee.name,
      decision: facts.decision,
      revision: facts.revision,
      lastWorkingDay: facts.lastWorkingDay ?? null,
      revokeAt: facts.revokeAt ?? null,
      note: facts.note,
      caseUrl,
    },
    attachments: [],
  }));
}

/** What the announcement needs to know of each of its emails. */
export interface AnnouncedEmail {
  id: string;
  audience: Audience;
  recipient: string;
  status: api.EmailStatus;
  lastError: string | null;
  /** The event the email reacts to, if any. */
  causationId: string | null;
}

export type AnnouncementOutcome =
  | { settled: false }
  | { settled: true; outcome: 'announced'; emailIds: string[]; recipients: string[] }
  | { settled: true; outcome: 'failed'; reason: string; causationId: string };

/**
 * Is the announcement over, and how did it end? It is over when the employee's notice exists (every
 * announcement has one) and every email stored for it has reached a final status; it failed if any
 * email was given up. The manager's notice, when there is one, is stored in the same transaction as the
 * employee's (announce-decision.ts, both modes), so it is never missed.
 */
export function announcementOutcome(emails: readonly AnnouncedEmail[]): AnnouncementOutcome {
  const ordered = [...emails].sort((a, b) => rank(a) - rank(b));
  const hasEmployee = ordered.some((e) => e.audience === 'employee');
  if (!hasEmployee || ordered.some((e) => e.status === 'queued')) return { settled: false };
  const failed = ordered.filter((e) => e.status === 'failed');
  if (failed.length === 0) {
    return { settled: true, outcome: 'announced', emailIds: ordered.map((e) => e.id), recipients: ordered.map((e) => e.recipient) };
  }
  const reason = failed.map((e) => `the decision notice to ${e.recipient} could not be delivered: ${e.lastError ?? 'unknown error'}`).join('; ');
  const first = failed[0]!;
  return { settled: true, outcome: 'failed', reason: reason.slice(0, 2000), causationId: first.causationId ?? first.id };
}

/** The manager's notice before the employee's, as they are listed in the event. */
function rank(e: AnnouncedEmail): number {
  return e.audience === 'manager' ? 0 : 1;
}
