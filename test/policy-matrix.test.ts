/**
 * The role matrix, generated from the OpenAPI document: every operation × every caller (each role, each
 * service identity with a token for the right audience and for another, anonymous, an expired token, a
 * token for another audience) × {a row the caller may see, someone else's row} gets exactly what the policy
 * table says — 401, 403 naming the permission, 404 for a row the caller may not see, or an answer. A refused
 * request stores nothing and sends nothing. Real EMS, real PostgreSQL, real SMTP, real tokens.
 *
 * An operation in the document without a request builder here fails the test: a new operation gets its rows.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, importJWK, type JWK } from 'jose';
import { demoOrg, type Employee } from '@ems/demo-org';
import type { ExitPerson } from '@ems/contracts/events';
import type { ems as emsApi } from '@ems/contracts';
import { POLICY, SERVICE_IDENTITIES, type OperationPolicy, type Role, type ServiceIdentity } from '@ems/contracts/policy';
import { createSecrets, issuerOf } from '@ems/identity';
import { serviceToken, signIn, TEST_SECRETS_KEY } from '@ems/identity/testing';
import { requestJson, waitFor } from '@ems/platform/testing';
import { startAcceptanceEms, type AcceptanceEnv } from './acceptance/harness.ts';
import { http, tokenFor } from './support/auth.ts';

const org = demoOrg();
const secrets = createSecrets(Buffer.from(TEST_SECRETS_KEY, 'base64'));

// ── The cast ────────────────────────────────────────────────────────────────────────────────────────
const admins = new Set(org.roleAssignments.map((a) => a.personId));
const isManager = (id: string) => org.employees.some((e) => e.managerId === id);
/** EMP: an engineer with a manager and an HR partner, no other role. OTHER: related to none of EMP's people. */
const EMP = org.employees.find((e) => e.departmentId === 'eng' && e.managerId && !isManager(e.id) && !admins.has(e.id) && !admins.has(e.managerId))!;
const OTHER = org.employees.find((e) => e.departmentId !== EMP.departmentId && e.managerId !== EMP.managerId && e.hrPartnerId !== EMP.hrPartnerId && !isManager(e.id) && !admins.has(e.id))!;
/**
 * For the orchestrator's typed commands and the exits, two more people no caller's row is about: CLOSED withdraws
 * her case before the matrix (the orchestrator then runs the commands itself), EXITED is dismissed by HR. The
 * matrix repeats those very commands: each answers 2xx with what was done first, and nothing changes.
 */
const bystander = (taken: string[]) => org.employees.find((e) => !taken.includes(e.id) && e.managerId && !taken.includes(e.managerId) && !isManager(e.id) && !admins.has(e.id) && !admins.has(e.managerId))!;
const CLOSED = bystander([EMP.id, OTHER.id, EMP.managerId!, OTHER.managerId ?? '']);
const EXITED = bystander([EMP.id, OTHER.id, CLOSED.id, EMP.managerId!, OTHER.managerId ?? '']);
const CALLER: Record<Role, string> = {
  employee: EMP.id,
  manager: EMP.managerId!,
  hr_partner: EMP.hrPartnerId,
  hr_lead: org.roleAssignments.find((a) => a.role === 'hr_lead')!.personId,
  access_admin: org.roleAssignments.find((a) => a.role === 'access_admin')!.personId,
  operator: org.roleAssignments.find((a) => a.role === 'operator')!.personId,
};

/** The roles the directory gives a person — worked out here from the organisation, independently of EMS. */
function rolesOf(id: string): Role[] {
  const roles = new Set<Role>(org.roleAssignments.filter((a) => a.personId === id).map((a) => a.role));
  if (org.employees.some((e) => e.id === id)) roles.add('employee');
  if (isManager(id)) roles.add('manager');
  if (org.hrPartners.some((p) => p.id === id) || org.employees.some((e) => e.hrPartnerId === id)) roles.add('hr_partner');
  return [...roles];
}
const employee = (id: string): Employee => org.employees.find((e) => e.id === id)!;
function reaches(rows: string, caller: string, subject: string): boolean {
  const s = employee(subject);
  return rows === 'all' || (rows === 'own' && caller === subject) || (rows === 'reports' && s.managerId === caller) || (rows === 'assigned' && s.hrPartnerId === caller);
}

// ── What the policy says ────────────────────────────────────────────────────────────────────────────
type Caller =
  | { kind: 'person'; role: Role; id: string }
  /** A service's token for `target`'s audience. */
  | { kind: 'service'; service: ServiceIdentity; target: ServiceIdentity }
  | { kind: 'anonymous' }
  | { kind: 'expired' }
  /** An ID token (audience: the client) presented as an access token. */
  | { kind: 'id-token' };
type Expected = 'unauthenticated' | 'forbidden' | 'hidden' | 'allowed';

interface DocOperation {
  method: string;
  path: string;
  operationId: string;
  policy: OperationPolicy;
}

function expected(op: DocOperation, caller: Caller, subject: string | undefined): Expected {
  const p = op.policy;
  if (caller.kind === 'anonymous' || caller.kind === 'expired' || caller.kind === 'id-token') return 'unauthenticated';
  if (caller.kind === 'service') {
    // Its identity first (403), then whether the token was issued for this operation's service (401).
    if (!p.services?.includes(caller.service) && !p.anyAuthenticated) return 'forbidden';
    return caller.target === p.service ? 'allowed' : 'unauthenticated';
  }
  const grants = p.roles.filter((g) => rolesOf(caller.id).includes(g.role));
  if (!grants.length) return p.anyAuthenticated ? 'allowed' : 'forbidden';
  if (subject === undefined) return 'allowed';
  return grants.some((g) => reaches(g.rows, caller.id, subject)) ? 'allowed' : 'hidden';
}

const rowScoped = (p: OperationPolicy) => p.roles.some((g) => g.rows !== 'all');

// ── Requests: one builder per operation, for a subject employee (row operations) ─────────────────────
interface Fixtures {
  cases: Record<string, string>;
  interviews: Record<string, string>;
  holds: Record<string, string>;
  revocations: Record<string, string>;
  webhook: string;
  apiToken: string;
  assetTask: string;
  /** CLOSED's withdrawn case. */
  closedCase: string;
  /** HR's exit of EXITED: the request (repeated with its Idempotency-Key) and the chunk the participants handled. */
  exit: { key: string; body: unknown; batchId: string; chunk: ExitPerson[]; reason: string; revokeAt: string };
}
interface Req {
  method: string;
  path: string;
  body?: unknown;
  /** List operations: whether the subject's row is in the answer. */
  listed?: (body: unknown) => boolean;
  headers?: Record<string, string>;
  /** An allowed request must answer 2xx: it ran (repeating what the fixtures did), not only passed admission. */
  runs?: true;
}
const far = (days: number) => new Date(Date.now() + days * 86_400_000);
const day = (days: number) => far(days).toISOString().slice(0, 10);
/** `day(days)`, or the first Monday-to-Friday date after it: a last working day must be one of the employee's working days. */
const workday = (days: number): string => (far(days).getUTCDay() % 6 === 0 ? workday(days + 1) : day(days));
const person = (id: string) => ({ name: employee(id).name, email: employee(id).email });
const itemsAbout = (subject: string) => (body: unknown) => ((body as { items?: Array<{ employeeId?: string }> }).items ?? []).some((i) => i.employeeId === subject);

const BUILDERS: Record<string, (f: Fixtures, subject: string) => Req> = {
  submitResignation: (_f, s) => ({ method: 'POST', path: '/api/resignations', body: { employeeId: s, reason: 'matrix' } }),
  listResignations: (_f, s) => ({ method: 'GET', path: `/api/resignations?employeeId=${s}`, listed: itemsAbout(s) }),
  getResignation: (f, s) => ({ method: 'GET', path: `/api/resignations/${f.cases[s]}` }),
  getResignationTimeline: (f, s) => ({ method: 'GET', path: `/api/resignations/${f.cases[s]}/timeline` }),
  decideResignation: (f, s) => ({ method: 'POST', path: `/api/resignations/${f.cases[s]}/decision`, body: { decision: 'exit_confirmed', lastWorkingDay: workday(60) } }),
  withdrawResignation: (f, s) => ({ method: 'POST', path: `/api/resignations/${f.cases[s]}/withdrawal`, body: {} }),
  // A plain request (no Accept: text/event-stream) is answered 406 after admission, so the stream never hangs the matrix;
  // which changes each caller hears of is checked on real streams in test/updates.test.ts.
  listExtensions: () => ({ method: 'GET', path: '/api/extensions' }),
  getExitReport: () => ({ method: 'GET', path: '/api/reports/exits' }),
  listFollowUps: (_f, s) => ({ method: 'GET', path: '/api/follow-ups', listed: itemsAbout(s) }),
  watchUpdates: () => ({ method: 'GET', path: '/api/updates', listed: () => false }),
  listDeadLetters: () => ({ method: 'GET', path: '/api/dead-letters' }),
  getDeadLetter: () => ({ method: 'GET', path: '/api/dead-letters/no-such-letter' }),
  replayDeadLetter: () => ({ method: 'POST', path: '/api/dead-letters/no-such-letter/replay' }),
  listEmployees: () => ({ method: 'GET', path: '/api/employees?limit=5' }),
  getEmployee: () => ({ method: 'GET', path: `/api/employees/${OTHER.id}` }),
  listHrPartners: () => ({ method: 'GET', path: '/api/hr-partners' }),
  getHrPartner: () => ({ method: 'GET', path: `/api/hr-partners/${EMP.hrPartnerId}` }),
  listInterviews: (f, s) => ({ method: 'GET', path: `/api/interviews?resignationId=${f.cases[s]}`, listed: itemsAbout(s) }),
  getInterview: (f, s) => ({ method: 'GET', path: `/api/interviews/${f.interviews[s]}` }),
  scheduleInterview: (f) => ({ method: 'POST', path: '/api/interviews', body: { resignationId: f.cases[EMP.id], employeeId: EMP.id, lastWorkingDay: day(30) } }),
  rescheduleInterview: (f, s) => ({ method: 'POST', path: `/api/interviews/${f.interviews[s]}/reschedule`, body: {} }),
  markInterviewHeld: (f, s) => ({ method: 'POST', path: `/api/interviews/${f.interviews[s]}/held`, body: { notes: 'matrix' } }),
  cancelInterview: (f, s) => ({ method: 'POST', path: `/api/interviews/${f.interviews[s]}/cancel`, body: { reason: 'matrix' } }),
  suspendAccess: (f) => ({ method: 'POST', path: '/api/access-holds', body: { resignationId: f.cases[EMP.id], employeeId: EMP.id } }),
  releaseAccessHold: (f) => ({ method: 'POST', path: `/api/access-holds/${f.holds[EMP.id]}/release`, body: {} }),
  listAccessHolds: (_f, s) => ({ method: 'GET', path: `/api/access-holds?employeeId=${s}`, listed: itemsAbout(s) }),
  getAccessHold: (f, s) => ({ method: 'GET', path: `/api/access-holds/${f.holds[s]}` }),
  getEmployeeAccess: (_f, s) => ({ method: 'GET', path: `/api/employees/${s}/access` }),
  revokeAccess: (f) => ({ method: 'POST', path: '/api/access-revocations', body: { resignationId: f.cases[EMP.id], employeeId: EMP.id, revokeAt: far(30).toISOString() } }),
  listAccessRevocations: (_f, s) => ({ method: 'GET', path: `/api/access-revocations?employeeId=${s}`, listed: itemsAbout(s) }),
  getAccessRevocation: (f, s) => ({ method: 'GET', path: `/api/access-revocations/${f.revocations[s]}` }),
  listAccessAudit: () => ({ method: 'GET', path: '/api/access-audit?limit=5' }),
  verifyAccessAudit: () => ({ method: 'GET', path: '/api/access-audit/verification' }),
  runAccessReconciliation: () => ({ method: 'POST', path: '/api/access/reconciliations' }),
  listAccessDrifts: () => ({ method: 'GET', path: '/api/access/drifts?status=all&limit=5' }),
  listSystems: () => ({ method: 'GET', path: '/api/systems' }),
  sendEmail: (f) => ({
    method: 'POST',
    path: '/api/emails',
    body: {
      resignationId: f.cases[EMP.id],
      purpose: 'manager-notice',
      to: { email: employee(EMP.managerId!).email },
      template: 'resignation-manager-notice',
      data: { managerName: employee(EMP.managerId!).name, employeeName: EMP.name, employeeId: EMP.id, lastWorkingDay: day(30) },
    },
  }),
  sendEmails: (f) => ({
    method: 'POST',
    path: '/api/email-batches',
    body: {
      emails: [
        {
          idempotencyKey: 'matrix-batch-manager-notice',
          email: {
            resignationId: f.cases[EMP.id],
            purpose: 'manager-notice',
            to: { email: employee(EMP.managerId!).email },
            template: 'resignation-manager-notice',
            data: { managerName: employee(EMP.managerId!).name, employeeName: EMP.name, employeeId: EMP.id, lastWorkingDay: day(30) },
          },
        },
      ],
    },
  }),
  listEmails: () => ({ method: 'GET', path: '/api/emails?limit=5' }),
  getEmail: () => ({ method: 'GET', path: '/api/emails/00000000-0000-4000-8000-000000000000' }),
  // This EMS sends through a relay (the test's SMTP sink): the mailbox answers 404 "no mailbox" to whoever may read it.
  // Its rows (each person their own address's messages) are checked with the capture server in packages/notification/test/mailbox.test.ts.
  listMailbox: (_f, s) => ({ method: 'GET', path: '/api/mailbox', listed: (body) => ((body as { items?: Array<{ deliveredTo: string[] }> }).items ?? []).some((m) => m.deliveredTo.includes(employee(s).email)) }),
  getMailboxMessage: () => ({ method: 'GET', path: '/api/mailbox/0000000000000.000000deadbeef' }),
  registerWebhook: () => ({ method: 'POST', path: '/api/webhooks', body: { url: 'http://127.0.0.1:9/matrix', eventTypes: ['com.ems.resignation.submitted.v1'] } }),
  listWebhooks: () => ({ method: 'GET', path: '/api/webhooks' }),
  getWebhook: (f) => ({ method: 'GET', path: `/api/webhooks/${f.webhook}` }),
  deleteWebhook: (f) => ({ method: 'DELETE', path: `/api/webhooks/${f.webhook}` }),
  listWebhookDeliveries: (f) => ({ method: 'GET', path: `/api/webhooks/${f.webhook}/deliveries` }),
  getMe: () => ({ method: 'GET', path: '/api/me' }),
  createApiToken: () => ({ method: 'POST', path: '/api/api-tokens', body: { name: 'matrix', personId: EMP.id } }),
  listApiTokens: () => ({ method: 'GET', path: '/api/api-tokens' }),
  revokeApiToken: (f) => ({ method: 'DELETE', path: `/api/api-tokens/${f.apiToken}` }),
  rotateSigningKeys: () => ({ method: 'POST', path: '/api/signing-keys' }),
  // A JSON body is answered 415 after admission (the import takes text/csv): nothing changes; real files in test/directory-import.test.ts.
  importPeople: () => ({ method: 'POST', path: '/api/directory/imports?dryRun=true', body: { file: 'not csv' } }),
  // SCIM: a User made for the matrix (the first allowed POST creates it; later ones answer 409), people who do not exist for the writes.
  scimListUsers: () => ({ method: 'GET', path: '/scim/v2/Users?count=5' }),
  scimGetUser: () => ({ method: 'GET', path: `/scim/v2/Users/${OTHER.id}` }),
  scimCreateUser: () => ({ method: 'POST', path: '/scim/v2/Users', body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'matrix@example.com', name: { formatted: 'Matrix Person' } } }),
  scimReplaceUser: () => ({ method: 'PUT', path: '/scim/v2/Users/matrix-nobody', body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'matrix-nobody@example.com', name: { formatted: 'Nobody' } } }),
  scimPatchUser: () => ({ method: 'PATCH', path: '/scim/v2/Users/matrix-nobody', body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'x' }] } }),
  scimDeleteUser: () => ({ method: 'DELETE', path: '/scim/v2/Users/matrix-nobody' }),
  scimListGroups: () => ({ method: 'GET', path: '/scim/v2/Groups' }),
  scimGetGroup: () => ({ method: 'GET', path: '/scim/v2/Groups/operator' }),
  scimPatchGroup: () => ({ method: 'PATCH', path: '/scim/v2/Groups/operator', body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'remove', path: 'members[value eq "matrix-nobody"]' }] } }),
  scimReplaceGroup: () => ({ method: 'PUT', path: '/scim/v2/Groups/no-such-group', body: { members: [] } }),
  scimCreateGroup: () => ({ method: 'POST', path: '/scim/v2/Groups', body: { displayName: 'matrix' } }),
  scimDeleteGroup: () => ({ method: 'DELETE', path: '/scim/v2/Groups/operator' }),
  scimGetServiceProviderConfig: () => ({ method: 'GET', path: '/scim/v2/ServiceProviderConfig' }),
  scimListResourceTypes: () => ({ method: 'GET', path: '/scim/v2/ResourceTypes' }),
  scimGetResourceType: () => ({ method: 'GET', path: '/scim/v2/ResourceTypes/User' }),
  scimListSchemas: () => ({ method: 'GET', path: '/scim/v2/Schemas' }),
  scimGetSchema: () => ({ method: 'GET', path: '/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User' }),
  createProvisioningToken: () => ({ method: 'POST', path: '/api/provisioning-tokens', body: { name: 'matrix' } }),
  listProvisioningTokens: () => ({ method: 'GET', path: '/api/provisioning-tokens' }),
  revokeProvisioningToken: () => ({ method: 'DELETE', path: '/api/provisioning-tokens/00000000-0000-4000-8000-000000000000' }),
  // Involuntary and mass exits, and the orchestrator's typed commands (the ems service only): each repeats what the
  // fixtures did (HR's exit of EXITED with its Idempotency-Key, the chunk Access and Notification handled, the
  // commands the orchestrator sent for CLOSED's withdrawn case), so an allowed request answers 2xx and changes nothing.
  // Each command's effect is tested with its participant; real batches in test/involuntary-exit.test.ts, test/mass-exit.test.ts.
  startInvoluntaryExits: (f) => ({ method: 'POST', path: '/api/exits', body: f.exit.body, headers: { 'idempotency-key': f.exit.key }, runs: true }),
  getExitBatch: (f) => ({ method: 'GET', path: `/api/exits/${f.exit.batchId}`, runs: true }),
  listExitBatches: (f) => ({ method: 'GET', path: '/api/exits', listed: (body) => ((body as { items?: Array<{ id?: string }> }).items ?? []).some((b) => b.id === f.exit.batchId), runs: true }),
  suspendAccessForExit: (f) => ({ method: 'POST', path: '/api/access/exit-suspensions', body: { batchId: f.exit.batchId, chunk: 1, chunks: 1, revokeAt: f.exit.revokeAt, reason: f.exit.reason, exits: f.exit.chunk }, runs: true }),
  sendExitNotices: (f) => ({ method: 'POST', path: '/api/notification/exit-notices', body: { batchId: f.exit.batchId, chunk: 1, reason: f.exit.reason, exits: f.exit.chunk }, runs: true }),
  notifyManager: (f) => ({
    method: 'POST',
    path: '/api/notification/manager-notices',
    body: { resignationId: f.closedCase, employee: { id: CLOSED.id, name: CLOSED.name }, manager: person(CLOSED.managerId!), lastWorkingDay: day(30), reason: null },
    headers: { 'idempotency-key': randomUUID() }, // a new key: the notice is once per case whatever the key
    runs: true,
  }),
  announceDecision: (f) => ({
    method: 'POST',
    path: '/api/notification/decision-announcements',
    body: { resignationId: f.closedCase, decision: 'withdrawn', revision: 1, employee: person(CLOSED.id), manager: person(CLOSED.managerId!), note: null },
    headers: { 'idempotency-key': randomUUID() }, // once per (case, decision, revision) whatever the key
    runs: true,
  }),
  cancelInterviewOnClose: (f) => ({
    method: 'POST',
    path: '/api/hr/case-closures',
    body: { resignationId: f.closedCase, decision: 'withdrawn', decidedAt: new Date().toISOString() },
    headers: { 'idempotency-key': randomUUID() }, // the interview is cancelled already: skipped, whatever the key
    runs: true,
  }),
  followUpExitProcess: (f) => ({
    method: 'POST',
    path: '/api/hr/follow-ups',
    body: { resignationId: f.closedCase, employee: { id: CLOSED.id, name: CLOSED.name }, hrPartnerId: CLOSED.hrPartnerId, submittedAt: far(-30).toISOString(), milestone: 'decision', level: 'reminder', dueAt: far(-1).toISOString() },
    headers: { 'idempotency-key': randomUUID() }, // the case is closed: not due (decided), whatever the key — nothing sent
    runs: true,
  }),
  restoreAccess: (f) => ({ method: 'POST', path: '/api/access-holds/lifts', body: { resignationId: f.closedCase, employeeId: CLOSED.id, reason: 'matrix' }, runs: true }),
  listAssetRecoveryTasks: () => ({ method: 'GET', path: '/api/asset-recovery-tasks' }),
  getAssetRecoveryTask: (f) => ({ method: 'GET', path: `/api/asset-recovery-tasks/${f.assetTask}` }),
  completeAssetRecoveryTask: (f) => ({ method: 'POST', path: `/api/asset-recovery-tasks/${f.assetTask}/complete` }),
};
/** Run last, in this order (they change what the others read). */
const LAST = ['cancelInterview', 'releaseAccessHold', 'withdrawResignation', 'decideResignation', 'deleteWebhook', 'revokeApiToken', 'rotateSigningKeys'];

describe('the role matrix', () => {
  let env: AcceptanceEnv;
  let base: string;
  let operations: DocOperation[];
  let fixtures: Fixtures;
  const credentials = new Map<string, string | undefined>();
  let sent = 0;

  /** A token signed with the provider's own key, as it would issue one — but expired an hour ago. */
  async function expiredToken(): Promise<string> {
    const row = (await env.ems.pool.query<{ kid: string; private_jwk: string }>(`SELECT kid, private_jwk FROM identity.signing_keys WHERE retired_at IS NULL`)).rows[0]!;
    const jwk = JSON.parse(secrets.decrypt(row.private_jwk, `identity.signing_keys:${row.kid}`)) as JWK;
    const issuer = issuerOf(env.ems.auth.settings);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ client_id: 'ems-cli', scope: 'api' })
      .setProtectedHeader({ alg: 'ES256', kid: row.kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience('urn:ems:api')
      .setSubject(CALLER.hr_lead)
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(await importJWK(jwk, 'ES256'));
  }

  async function authorizationOf(caller: Caller): Promise<string | undefined> {
    switch (caller.kind) {
      case 'anonymous':
        return undefined;
      case 'person':
        return `Bearer ${await tokenFor(base, caller.id)}`;
      case 'expired':
        return `Bearer ${credentials.get('expired')!}`;
      case 'id-token':
        return `Bearer ${credentials.get('id-token')!}`;
      case 'service': {
        const key = `${caller.service}->${caller.target}`;
        if (!credentials.has(key)) credentials.set(key, await serviceToken(base, secrets, caller.service, caller.target));
        return `Bearer ${credentials.get(key)!}`;
      }
    }
  }
  /** The audiences the provider gives a service: those of the services whose operations list it. */
  const reachable = (s: ServiceIdentity): ServiceIdentity[] => [...new Set(Object.values(operations.map((o) => o.policy)).filter((p) => p.services?.includes(s)).map((p) => p.service))];

  async function call(caller: Caller, req: Req) {
    const authorization = await authorizationOf(caller);
    sent++;
    return requestJson<Record<string, unknown>>(base, req.method, req.path, req.body, { ...req.headers, ...(authorization ? { authorization } : {}) });
  }

  beforeAll(async () => {
    env = await startAcceptanceEms('orchestration', 'policy_matrix');
    base = env.base;
    const doc = (await requestJson<{ paths: Record<string, Record<string, { operationId?: string; 'x-ems-roles'?: OperationPolicy['roles']; 'x-ems-services'?: ServiceIdentity[]; 'x-ems-permission'?: string; security?: unknown }>> }>(base, 'GET', '/openapi.json')).body;
    operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, o]) => o.operationId)
        .map(([method, o]) => ({
          method: method.toUpperCase(),
          path,
          operationId: o.operationId!,
          policy: {
            service: (POLICY as Record<string, OperationPolicy>)[o.operationId!]?.service ?? 'extensions',
            what: '',
            roles: o['x-ems-roles'] ?? [],
            services: o['x-ems-services'] ?? [],
            anyAuthenticated: (POLICY as Record<string, OperationPolicy>)[o.operationId!]?.anyAuthenticated ?? false,
          },
        })),
    );

    // Fixtures: a case each for EMP and OTHER, settled, with an interview, a hold and a scheduled revocation.
    const cases: Record<string, string> = {};
    for (const e of [EMP, OTHER]) {
      const r = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: e.id });
      expect(r.status).toBe(201);
      cases[e.id] = r.body.id;
    }
    const interviews: Record<string, string> = {};
    const holds: Record<string, string> = {};
    const revocations: Record<string, string> = {};
    const ems = { authorization: `Bearer ${await serviceToken(base, secrets, 'ems', 'access')}` };
    for (const e of [EMP, OTHER]) {
      await waitFor(async () => ((await http<{ status: string }>(base, 'GET', `/api/resignations/${cases[e.id]}`)).body.status === 'awaiting_decision' ? true : undefined), `the case of ${e.id} to settle`);
      interviews[e.id] = (await http<{ items: Array<{ id: string }> }>(base, 'GET', `/api/interviews?resignationId=${cases[e.id]}`)).body.items[0]!.id;
      holds[e.id] = (await http<{ items: Array<{ id: string }> }>(base, 'GET', `/api/access-holds?resignationId=${cases[e.id]}`)).body.items[0]!.id;
      const rev = await requestJson<{ id: string }>(base, 'POST', '/api/access-revocations', { resignationId: cases[e.id], employeeId: e.id, revokeAt: far(40).toISOString() }, ems);
      expect(rev.status).toBe(201);
      revocations[e.id] = rev.body.id;
    }
    const webhook = await http<{ id: string }>(base, 'POST', '/api/webhooks', { url: 'http://127.0.0.1:9/fixture', eventTypes: ['com.ems.resignation.submitted.v1'] });
    const apiToken = await http<{ id: string }>(base, 'POST', '/api/api-tokens', { name: 'fixture', personId: OTHER.id });
    const task = await waitFor(async () => (await http<{ items: Array<{ id: string; employeeId: string }> }>(base, 'GET', '/api/asset-recovery-tasks')).body.items.find((t) => t.employeeId === EMP.id), 'the asset recovery task');

    // CLOSED resigns and withdraws: the orchestrator notifies her manager, then announces, cancels the interview, lifts the hold.
    const closed = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: CLOSED.id });
    expect(closed.status).toBe(201);
    const closedCase = closed.body.id;
    await waitFor(async () => ((await http<{ status: string }>(base, 'GET', `/api/resignations/${closedCase}`)).body.status === 'awaiting_decision' ? true : undefined), `the case of ${CLOSED.id} to settle`);
    const withdrawn = await requestJson(base, 'POST', `/api/resignations/${closedCase}/withdrawal`, {}, { authorization: `Bearer ${await tokenFor(base, CLOSED.id)}` });
    expect(withdrawn.status, JSON.stringify(withdrawn.body)).toBeLessThan(300);
    await waitFor(async () => {
      const { steps } = (await http<emsApi.Resignation>(base, 'GET', `/api/resignations/${closedCase}`)).body;
      return [steps.announceDecision, steps.restoreAccess, steps.cancelInterview].every((step) => step?.status === 'done') ? true : undefined;
    }, `the withdrawal of ${CLOSED.id} to be carried out`);

    // HR dismisses EXITED (an involuntary exit, revoked long after this test).
    const exitKey = randomUUID();
    const exitRevokeAt = far(30).toISOString();
    const exitBody = { employees: [{ employeeId: EXITED.id, lastWorkingDay: workday(10) }], reason: 'redundancy', revokeAt: exitRevokeAt };
    const hrLead = { authorization: `Bearer ${await tokenFor(base, CALLER.hr_lead)}` };
    const exit = await requestJson<{ id: string }>(base, 'POST', '/api/exits', exitBody, { ...hrLead, 'idempotency-key': exitKey });
    expect(exit.status, JSON.stringify(exit.body)).toBe(202);
    const batch = await waitFor(async () => {
      const b = (await requestJson<emsApi.ExitBatch>(base, 'GET', `/api/exits/${exit.body.id}`, undefined, hrLead)).body;
      return b.settled ? b : undefined;
    }, 'the exit of EXITED to settle');
    expect(batch).toMatchObject({ total: 1, accessSuspended: 1, noticesSent: 1, failed: 0 });
    const exitManager = employee(EXITED.managerId!);
    const chunk: ExitPerson[] = [
      {
        resignationId: batch.cases.items[0]!.resignationId,
        employeeId: EXITED.id,
        employeeName: EXITED.name,
        employeeEmail: EXITED.email,
        managerId: exitManager.id,
        managerName: exitManager.name,
        managerEmail: exitManager.email,
        timezone: EXITED.timezone,
        lastWorkingDay: workday(10),
        revokeAt: batch.cases.items[0]!.revokeAt,
      },
    ];
    fixtures = {
      cases,
      interviews,
      holds,
      revocations,
      webhook: webhook.body.id,
      apiToken: apiToken.body.id,
      assetTask: task.id,
      closedCase,
      exit: { key: exitKey, body: exitBody, batchId: exit.body.id, chunk, reason: 'redundancy', revokeAt: exitRevokeAt },
    };

    // Credentials that must be refused whatever the operation.
    credentials.set('expired', await expiredToken());
    credentials.set('id-token', (await signIn(base, CALLER.hr_lead)).idToken);
    // Every email of the fixtures has gone out before the refused requests are counted.
    await waitFor(async () => ((await env.ems.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM notification.emails WHERE status <> 'sent'`)).rows[0]!.n === 0 ? true : undefined), 'fixture emails to be sent');
  }, 120_000);

  afterAll(async () => {
    await env?.stop();
  });

  it('every operation in the document has its row in the policy table, rendered into the document, and a request builder here', () => {
    for (const op of operations) {
      expect(BUILDERS[op.operationId], `no request builder for ${op.operationId}`).toBeDefined();
      const core = (POLICY as Record<string, OperationPolicy>)[op.operationId];
      if (core) {
        expect(op.policy.roles, op.operationId).toEqual(core.roles.map((g) => ({ role: g.role, rows: g.rows, view: g.view ?? 'full' })));
        expect(op.policy.services, op.operationId).toEqual(core.services ?? []);
      }
    }
    // And no row of the policy table is stale: every core operation is served.
    for (const id of Object.keys(POLICY)) expect(operations.some((o) => o.operationId === id), `${id} is in the policy table but not served`).toBe(true);
  });

  it('the directory roles EMS resolves are the ones the organisation gives', async () => {
    for (const id of Object.values(CALLER)) {
      const me = await http<{ roles: string[] }>(base, 'GET', '/api/me', undefined, { authorization: `Bearer ${await tokenFor(base, id)}` });
      expect(me.body.roles.sort(), id).toEqual(rolesOf(id).sort());
    }
  });

  /**
   * Who calls an operation: each role; each service identity with a token for the operation's service (when
   * the provider issues it one) and for another audience it may reach; anonymous; an expired token; an ID token.
   * A service the provider gives no audience at all cannot call anything (checked on its own below).
   */
  const callers = (op: DocOperation): Caller[] => [
    ...(Object.keys(CALLER) as Role[]).map((role) => ({ kind: 'person' as const, role, id: CALLER[role] })),
    ...SERVICE_IDENTITIES.flatMap((service) => {
      const reach = reachable(service);
      const own = reach.includes(op.policy.service) ? [op.policy.service] : [];
      const other = reach.filter((t) => t !== op.policy.service).slice(0, 1);
      return [...own, ...other].map((target) => ({ kind: 'service' as const, service, target }));
    }),
    { kind: 'anonymous' },
    { kind: 'expired' },
    { kind: 'id-token' },
  ];

  const describeCaller = (c: Caller) => (c.kind === 'person' ? `${c.role} ${c.id}` : c.kind === 'service' ? `service ${c.service} with a token for ${c.target}` : c.kind);

  /** Every request of the matrix the policy refuses, then a check that they changed nothing. */
  it('every refused request answers 401, 403 naming the permission, or 404 — and stores and sends nothing', async () => {
    const snapshot = async () => {
      const q = async (sql: string) => (await env.ems.pool.query<{ v: string }>(sql)).rows[0]!.v;
      return {
        cases: await q(`SELECT count(*)::text || '/' || coalesce(string_agg(status || ':' || coalesce(decision, ''), ',' ORDER BY id), '') AS v FROM ems.resignations`),
        timeline: await q(`SELECT count(*)::text AS v FROM ems.timeline`),
        interviews: await q(`SELECT coalesce(string_agg(status || ':' || sequence || ':' || coalesce(notes, ''), ',' ORDER BY id), '') AS v FROM hr.interviews`),
        holds: await q(`SELECT coalesce(string_agg(status, ',' ORDER BY id), '') AS v FROM access.holds`),
        grants: await q(`SELECT coalesce(string_agg(status, ',' ORDER BY id), '') AS v FROM access.grants`),
        revocations: await q(`SELECT coalesce(string_agg(status || ':' || revoke_at::text, ',' ORDER BY id), '') AS v FROM access.revocations`),
        audit: await q(`SELECT count(*)::text AS v FROM access.audit`),
        emails: await q(`SELECT count(*)::text AS v FROM notification.emails`),
        webhooks: await q(`SELECT count(*)::text || ':' || count(deleted_at)::text AS v FROM webhooks.webhooks`),
        tokens: await q(`SELECT count(*)::text || ':' || count(revoked_at)::text AS v FROM identity.api_tokens`),
        keys: await q(`SELECT count(*)::text AS v FROM identity.signing_keys`),
        tasks: await q(`SELECT coalesce(string_agg(status, ',' ORDER BY id), '') AS v FROM assets.recovery_tasks`),
        smtp: String(env.smtp.messages.length),
      };
    };
    const before = await snapshot();
    const failures: string[] = [];
    let refused = 0;
    for (const op of operations) {
      const subjects = rowScoped(op.policy) ? [EMP.id, OTHER.id] : [undefined];
      for (const caller of callers(op)) {
        for (const subject of subjects) {
          const want = expected(op, caller, subject);
          if (want === 'allowed') continue;
          const req = BUILDERS[op.operationId]!(fixtures, subject ?? EMP.id);
          if (req.listed && want === 'hidden') continue; // a list filters; checked with the allowed requests
          const res = await call(caller, req);
          refused++;
          const got = res.status;
          const ok =
            (want === 'unauthenticated' && got === 401) ||
            (want === 'forbidden' && got === 403 && res.body.permission === op.operationId) ||
            (want === 'hidden' && got === 404);
          if (!ok) failures.push(`${op.operationId} as ${describeCaller(caller)}${subject ? ` on ${subject}'s row` : ''}: expected ${want}, got ${got} ${JSON.stringify(res.body).slice(0, 160)}`);
        }
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
    expect(refused).toBeGreaterThan(500);
    expect(await snapshot()).toEqual(before);
  }, 300_000);

  it('every allowed request is answered — never 401, 403 or a 404 for a row the caller may see — and lists show exactly the rows the caller may see', async () => {
    const failures: string[] = [];
    const ordered = [...operations].sort((a, b) => LAST.indexOf(a.operationId) - LAST.indexOf(b.operationId));
    for (const op of ordered) {
      const subjects = rowScoped(op.policy) ? [EMP.id, OTHER.id] : [undefined];
      for (const caller of callers(op)) {
        for (const subject of subjects) {
          const want = expected(op, caller, subject);
          const req = BUILDERS[op.operationId]!(fixtures, subject ?? EMP.id);
          if (want !== 'allowed' && !(want === 'hidden' && req.listed)) continue;
          const res = await call(caller, req);
          const where = `${op.operationId} as ${describeCaller(caller)}${subject ? ` on ${subject}'s row` : ''}`;
          if (req.runs && want === 'allowed' && (res.status < 200 || res.status > 299)) failures.push(`${where}: ${res.status} — it must run (2xx) ${JSON.stringify(res.body).slice(0, 160)}`);
          else if (res.status >= 500 || res.status === 401 || res.status === 403) failures.push(`${where}: ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`);
          else if (rowScoped(op.policy) && res.status === 404 && want === 'allowed' && !/dead letter|no mailbox/i.test(String(res.body.detail))) failures.push(`${where}: 404 for a row the caller may see`);
          else if (req.listed && res.status === 200 && req.listed(res.body) !== (want === 'allowed')) failures.push(`${where}: the list ${want === 'allowed' ? 'lacks' : 'shows'} the row`);
        }
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
  }, 300_000);

  it('reports the size of the matrix', () => {
    // Printed for the record (the closing note quotes it).
    console.log(`policy matrix: ${operations.length} operations, ${sent} requests`);
    expect(sent).toBeGreaterThan(operations.length * 10);
  });

  it('a service the policy lets call nothing gets no token at all: the provider refuses it every audience', async () => {
    for (const service of SERVICE_IDENTITIES.filter((s) => reachable(s).length === 0)) {
      for (const target of SERVICE_IDENTITIES) await expect(serviceToken(base, secrets, service, target), `${service} → ${target}`).rejects.toThrow(/may not request a token/);
    }
    // And one that may call some services gets no token for the others.
    await expect(serviceToken(base, secrets, 'access', 'notification')).rejects.toThrow(/may not request a token/);
  });
});
