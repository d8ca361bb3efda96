/**
 * A resignation reaches a system behind the signed HTTP connector, in both modes: a real EMS whose
 * systems file (EMS_ACCESS_SYSTEMS_FILE) connects a critical system "payroll" to an endpoint on
 * loopback — here a node:http server playing the payroll system's receiver. It checks each request's
 * signature the way the README tells a receiver to (its own HMAC code), carries the change out on its
 * own "accounts", and acknowledges with what it did.
 *
 * What is asserted is what the payroll system and the case show: the account locked and its roles gone
 * once the case shows payroll's suspension done with the receiver's own words; a receiver that answers
 * 503 once is asked again with the same change id and Idempotency-Key, and that restores the account.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import type { ems } from '@ems/contracts';
import { createKysely } from '@ems/platform';
import { waitFor } from '@ems/platform/testing';
import { employeePicker, http, startAcceptanceEms, type AcceptanceEnv } from './acceptance/harness.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface Change {
  changeId: string;
  action: 'suspend' | 'restore' | 'revoke';
  account: { employeeId: string; email: string | null };
  entitlements: string[];
  system: string;
}

/** The receiver's own check (README): HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<raw body>", v1=<hex>, 5 minutes. */
function signedByEms(headers: IncomingHttpHeaders, rawBody: string): boolean {
  const { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sigs } = headers;
  if (typeof id !== 'string' || typeof ts !== 'string' || typeof sigs !== 'string' || Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const expected = createHmac('sha256', SECRET).update(`${id}.${ts}.${rawBody}`).digest();
  return sigs.split(' ').some((s) => {
    const [v, hex] = s.split('=');
    return v === 'v1' && !!hex && /^[0-9a-f]{64}$/.test(hex) && timingSafeEqual(Buffer.from(hex, 'hex'), expected);
  });
}

/** The payroll system: its accounts, the changes it was sent, and answers it is told to give first. */
const accounts = new Map<string, { locked: boolean; roles: Set<string> }>();
const requests: Array<{ headers: IncomingHttpHeaders; change: Change; signed: boolean }> = [];
const applied = new Set<string>();
const failNext: number[] = [];
let receiver: Server;
let dir: string;
let systemsFile: string;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const signed = signedByEms(req.headers, raw);
      const change = JSON.parse(raw) as Change;
      requests.push({ headers: req.headers, change, signed });
      if (!signed) return void res.writeHead(401, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status: 401, title: 'Unauthorized', detail: 'bad signature' }));
      const status = failNext.shift();
      if (status) return void res.writeHead(status, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status, title: 'Unavailable', detail: 'payroll database is restarting' }));

      const account = accounts.get(change.account.employeeId);
      if (!account) return void res.writeHead(404, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status: 404, detail: `no payroll account for ${change.account.email}` }));
      // Idempotent on changeId, as the README asks of a receiver.
      if (!applied.has(change.changeId)) {
        applied.add(change.changeId);
        account.locked = change.action !== 'restore';
        for (const role of change.entitlements) {
          if (change.action === 'restore') account.roles.add(role);
          else account.roles.delete(role);
        }
      }
      const verb = change.action === 'restore' ? 'unlocked; roles given back' : 'locked; roles removed';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ verification: `payroll account of ${change.account.email} ${verb}: ${change.entitlements.join(', ')}` }));
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  dir = await mkdtemp(path.join(tmpdir(), 'ems-http-connector-'));
  await writeFile(path.join(dir, 'payroll.secret'), `${SECRET}\n`, { mode: 0o600 });
  systemsFile = path.join(dir, 'systems.json');
  await writeFile(
    systemsFile,
    JSON.stringify({
      systems: [
        {
          id: 'payroll-api',
          name: 'Payroll (signed HTTP)',
          critical: true,
          connector: {
            type: 'http',
            // The receiver is on loopback: allowed here explicitly (refused by default, like webhooks).
            settings: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ems/access-changes`, secretFile: 'payroll.secret', timeout: '5s', allowPrivateTargets: true },
          },
        },
      ],
    }),
  );
});

afterAll(async () => {
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe.each(['orchestration', 'choreography'] as const)('a resignation and a system behind the signed HTTP connector (%s)', (mode) => {
  let env: AcceptanceEnv;
  const { takeEmployee } = employeePicker(demoOrg());
  const ROLES = ['payroll-approver', 'payroll-viewer'];

  beforeAll(async () => {
    env = await startAcceptanceEms(mode, `http_connector_${mode}`, { env: { EMS_ACCESS_SYSTEMS_FILE: systemsFile } });
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  const caseOf = async (id: string) => (await http<ems.Resignation>(env.base, 'GET', `/api/resignations/${id}`)).body;
  const systemIs = (id: string, action: 'suspend' | 'restore', status: 'done' | 'retrying') =>
    waitFor(
      async () => {
        const c = await caseOf(id);
        const s = c.systems.find((x) => x.systemId === 'payroll-api' && x.action === action);
        if (s?.status === 'failed') throw new Error(`payroll-api ${action} failed: ${s.error}`);
        return s?.status === status ? { c, s } : undefined;
      },
      `payroll-api ${action} ${status} on case ${id}`,
      30_000,
    );

  it('when an employee resigns and is retained, then payroll gets each change signed, carries it out, and the case shows its acknowledgement — a 503 on the way is retried with the same change id', async () => {
    const employee = takeEmployee();
    requests.length = 0; // each mode's EMS has its own database: the same employee may come again
    accounts.set(employee.id, { locked: false, roles: new Set([...ROLES, 'payroll-self-service']) });
    await createKysely<{ grants: { id: string; employee_id: string; system_id: string; role: string } }>(env.ems.pool, 'access')
      .insertInto('grants')
      .values(ROLES.map((role) => ({ id: `http-${mode}-${employee.id}-${role}`, employee_id: employee.id, system_id: 'payroll-api', role })))
      .execute();

    const submitted = await http<ems.Resignation>(env.base, 'POST', '/api/resignations', { employeeId: employee.id });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id;

    const { s: suspended } = await systemIs(id, 'suspend', 'done');
    expect(suspended.verification).toBe(`payroll account of ${employee.email} locked; roles removed: ${ROLES.join(', ')}`);
    expect(accounts.get(employee.id)).toEqual({ locked: true, roles: new Set(['payroll-self-service']) });
    const [suspendRequest, ...others] = requests.filter((r) => r.change.account.employeeId === employee.id);
    expect(others).toEqual([]);
    expect(suspendRequest!.signed).toBe(true);
    expect(suspendRequest!.headers['idempotency-key']).toBe(suspendRequest!.change.changeId);
    expect(suspendRequest!.change).toEqual({ changeId: suspendRequest!.change.changeId, action: 'suspend', account: { employeeId: employee.id, email: employee.email }, entitlements: ROLES, system: 'payroll-api' });

    // The restore's first attempt meets a payroll system that is restarting.
    failNext.push(503);
    await waitFor(async () => ((await caseOf(id)).status === 'awaiting_decision' ? true : undefined), `case ${id} awaiting the decision`);
    const decided = await http<ems.Resignation>(env.base, 'POST', `/api/resignations/${id}/decision`, { decision: 'retained', note: 'Stays' });
    expect(decided.status).toBe(200);

    const { c, s: restored } = await systemIs(id, 'restore', 'done');
    expect(restored.verification).toBe(`payroll account of ${employee.email} unlocked; roles given back: ${ROLES.join(', ')}`);
    expect(accounts.get(employee.id)).toEqual({ locked: false, roles: new Set([...ROLES, 'payroll-self-service']) });
    const restores = requests.filter((r) => r.change.account.employeeId === employee.id && r.change.action === 'restore');
    expect(restores).toHaveLength(2);
    expect(new Set(restores.map((r) => r.change.changeId)).size).toBe(1);
    expect(restores.map((r) => r.headers['idempotency-key'])).toEqual([restores[0]!.change.changeId, restores[0]!.change.changeId]);
    expect(restores.every((r) => r.signed)).toBe(true);
    expect(c.systems.filter((s) => s.systemId === 'payroll-api').map((s) => `${s.action}:${s.status}`)).toEqual(['suspend:done', 'restore:done']);
  });
});
