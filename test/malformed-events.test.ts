/**
 * Every subscriber in the system — each service's `…-when-…` reactions, EMS's case tracker, the assets
 * extension, a webhook's delivery — gets malformed CloudEvents straight on its queue, on each bus. Each
 * is dead-lettered at once with a reason naming what is wrong (shown by the dead-letter API), and the
 * subscribers keep working: a resignation submitted afterwards runs through to its decision.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { waitFor } from '@ems/platform/testing';
import { checkNats, resignationSubmittedEvent } from '@ems/eventbus/testing';
import { employeePicker, http, startAcceptanceEms, type AcceptanceBus, type AcceptanceEnv } from './acceptance/harness.ts';

interface CaseBody {
  id: string;
  status: string;
  closedAt: string | null;
  steps: Record<string, { status: string }>;
}
interface Letter {
  id: string;
  subscriber: string;
  eventId: string | null;
  reason: string;
  attempts: number;
}

/** The bad messages, each with what its dead letter's reason must say. */
function malformed(bus: AcceptanceBus): Array<{ what: string; raw: unknown; reason: RegExp }> {
  const good = () => resignationSubmittedEvent() as unknown as Record<string, unknown>;
  const without = (key: string) => {
    const e = good();
    delete e[key];
    return e;
  };
  const cases: Array<{ what: string; raw: unknown; reason: RegExp }> = [
    { what: 'a JSON array', raw: [good()], reason: /envelope: the message is an array/ },
    { what: 'no id', raw: without('id'), reason: /envelope: (.*; )?id: / },
    { what: 'no source', raw: without('source'), reason: /envelope: (.*; )?source: / },
    { what: 'specversion 0.3', raw: { ...good(), specversion: '0.3' }, reason: /envelope: (.*; )?specversion: / },
    { what: 'datacontenttype text/xml', raw: { ...good(), datacontenttype: 'text/xml' }, reason: /envelope: (.*; )?datacontenttype: / },
    { what: 'a payload failing its schema', raw: { ...good(), data: { resignationId: 'not-a-uuid' } }, reason: /invalid com\.ems\.resignation\.submitted\.v1 payload: data\./ },
    { what: 'a huge payload', raw: { ...good(), data: { padding: 'x'.repeat(400 * 1024) } }, reason: /too large/ },
  ];
  // PostgreSQL's queue (jsonb) cannot even hold these: on that bus they never reach a subscriber.
  if (bus === 'nats') {
    cases.push({ what: 'a NUL in the employee name', raw: (() => {
      const e = good();
      return { ...e, data: { ...(e.data as Record<string, unknown>), employee: { id: 'E1', name: 'Al\u0000ice', email: 'a@acme.example', timezone: 'UTC' } } };
    })(), reason: /data\.employee\.name: contains a NUL character/ });
    cases.push({ what: 'not JSON', raw: new TextEncoder().encode('{"specversion":"1.0",'), reason: /not JSON/ });
  }
  return cases;
}

const nats = await checkNats();

for (const bus of ['postgres', 'nats'] as const) {
  describe.skipIf(bus === 'nats' && nats.skip)(`malformed CloudEvents to every subscriber (${bus} bus)`, () => {
    const { takeEmployee } = employeePicker(demoOrg());
    let env: AcceptanceEnv;
    const hooks: string[] = [];
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        hooks.push(String(req.headers['ce-type'] ?? req.headers['content-type']));
        res.writeHead(204).end();
      });
    });

    beforeAll(async () => {
      if (bus === 'nats') nats.assertAvailable();
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      env = await startAcceptanceEms('choreography', `malformed_${bus}`, { bus });
    });

    afterAll(async () => {
      await env?.stop();
      receiver.close();
    });

    it('when each subscriber is fed malformed events, then each is dead-lettered at once with a reason, and a resignation submitted afterwards runs to its decision', async () => {
      const { base, ems } = env;
      // A webhook, so its delivery subscriber is among them.
      const hook = await http<{ id: string }>(base, 'POST', '/api/webhooks', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, eventTypes: ['com.ems.resignation.submitted.v1'] });
      expect(hook.status).toBe(201);

      const subscribers = await waitFor(() => {
        const names = ems.bus.subscribers();
        return names.some((n) => n.startsWith('webhooks')) ? names : undefined;
      }, 'the webhook subscriber');
      expect(subscribers).toEqual(
        expect.arrayContaining([
          'notification.notify-manager-when-resignation-submitted',
          'hr.schedule-interview-when-resignation-submitted',
          'access.suspend-access-when-resignation-submitted',
          'notification.announce-decision-when-decided',
          'hr.cancel-interview-when-resignation-closed',
          'hr.follow-up-exit-process',
          'access.restore-access-when-resignation-closed',
          'access.schedule-revocation-when-exit-confirmed',
          'ems.track-reactions-when-reported',
          'assets.open-recovery-task-when-resignation-submitted',
        ]),
      );

      const bad = malformed(bus);
      for (const name of subscribers) for (const b of bad) await ems.bus.injectRaw(name, b.raw);
      if (bus === 'postgres') {
        // What PostgreSQL's queue cannot hold is refused at the door, never half-delivered.
        const refused = await ems.bus.injectRaw(subscribers[0]!, { ...resignationSubmittedEvent(), subject: `x\u0000${randomUUID()}` }).then(
          () => undefined,
          (err: unknown) => err as { code?: string },
        );
        expect(refused?.code, 'PostgreSQL refuses the NUL (class 22)').toMatch(/^22/);
      }

      // The marker: a resignation submitted after the bad events runs through every reaction to a decision.
      const employee = takeEmployee();
      const submitted = await http<CaseBody>(base, 'POST', '/api/resignations', { employeeId: employee.id });
      expect(submitted.status).toBe(201);
      const id = submitted.body.id;
      await waitFor(async () => ((await http<CaseBody>(base, 'GET', `/api/resignations/${id}`)).body.status === 'awaiting_decision' ? true : undefined), 'the case to await a decision', 60_000);
      const decided = await http<CaseBody>(base, 'POST', `/api/resignations/${id}/decision`, { decision: 'retained', note: 'Stays' });
      expect(decided.status).toBe(200);
      const closed = await waitFor(async () => {
        const c = (await http<CaseBody>(base, 'GET', `/api/resignations/${id}`)).body;
        return c.closedAt !== null && ['announceDecision', 'restoreAccess', 'cancelInterview'].every((s) => c.steps[s]?.status === 'done') ? c : undefined;
      }, 'the decision to be carried out', 60_000);
      expect(closed.status).toBe('retained');
      await waitFor(() => (hooks.length > 0 ? true : undefined), 'the webhook delivery');

      // Then: one dead letter per bad event per subscriber, each with its reason, after one attempt.
      for (const name of subscribers) {
        const letters = await waitFor(async () => {
          const page = await http<{ items: Letter[] }>(base, 'GET', `/api/dead-letters?subscriber=${encodeURIComponent(name)}&limit=100`);
          return page.body.items.length >= bad.length ? page.body.items : undefined;
        }, `${bad.length} dead letters of ${name}`, 60_000);
        expect(letters, name).toHaveLength(bad.length);
        const unmatched = [...letters];
        for (const b of bad) {
          const i = unmatched.findIndex((l) => b.reason.test(l.reason));
          expect(i, `${name}: a dead letter for ${b.what} (reasons: ${unmatched.map((l) => l.reason).join(' | ')})`).toBeGreaterThanOrEqual(0);
          expect(unmatched[i]!.attempts).toBe(1);
          unmatched.splice(i, 1);
        }
      }
    });
  });
}
