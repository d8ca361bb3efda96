import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createParticipants } from './participants.ts';

/** A stand-in participant over real HTTP: holds every request until released, counting how many it holds at once. */
async function holdingServer() {
  let held: Array<() => void> = [];
  let now = 0;
  let most = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    now++;
    most = Math.max(most, now);
    held.push(() => {
      now--;
      const hold = { id: randomUUID(), resignationId: randomUUID(), employeeId: 'E001', status: 'active', suspendedGrants: [], createdAt: new Date().toISOString(), releasedAt: null };
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(hold));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => held.length,
    most: () => most,
    releaseAll() {
      const all = held;
      held = [];
      for (const r of all) r();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const until = async (what: () => boolean) => {
  for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('participant calls in flight', () => {
  const closing: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closing.splice(0)) await c();
  });

  it('when more calls to a participant are made than the limit, then at most the limit are in flight and the rest follow as answers come', async () => {
    const access = await holdingServer();
    closing.push(access.close);
    const participants = createParticipants(() => ({ notification: access.url, hr: access.url, access: access.url }), async () => ({ authorization: 'Bearer unit-test' }), { inFlight: 2, suspendingInFlight: 2 });
    const calls = Array.from({ length: 5 }, () =>
      participants.suspendAccess({ resignationId: randomUUID(), employeeId: 'E001' }, { correlationId: 'c', idempotencyKey: randomUUID() }),
    );
    await until(() => access.held() === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(access.held()).toBe(2);
    while ((await Promise.race([Promise.all(calls).then(() => 'done'), new Promise((r) => setTimeout(() => r('waiting'), 20))])) !== 'done') access.releaseAll();
    expect(await Promise.all(calls)).toHaveLength(5);
    expect(access.most()).toBe(2);
  });

  it('when a hold is asked for, then calls to HR and Notification go a quarter of the limit at a time until no hold waits, then at full width', async () => {
    const access = await holdingServer();
    const hr = await holdingServer();
    const mail = await holdingServer();
    closing.push(access.close, hr.close, mail.close);
    const participants = createParticipants(() => ({ notification: mail.url, hr: hr.url, access: access.url }), async () => ({ authorization: 'Bearer unit-test' }), { inFlight: 8 });
    const hold = participants.suspendAccess({ resignationId: randomUUID(), employeeId: 'E001' }, { correlationId: 'c', idempotencyKey: 'k1' });
    await until(() => access.held() === 1);
    const partners = Array.from({ length: 6 }, (_, i) => participants.hrPartner(`hrp-${i}`, { correlationId: 'c' }).catch(() => undefined));
    await until(() => hr.held() === 2);
    // The limiter lets a call in synchronously, and its request goes out at once: after a pause, still 2.
    await new Promise((r) => setTimeout(r, 100));
    expect(hr.held(), 'HR calls in flight while a hold is').toBe(2);
    access.releaseAll();
    await hold;
    await until(() => hr.held() === 6);
    expect(hr.held(), 'once no hold waits').toBe(6);
    expect(mail.held()).toBe(0);
    hr.releaseAll();
    await Promise.all(partners);
    expect(hr.most()).toBe(6);
  });

  it('when one participant is at its limit, then calls to another are not held back', async () => {
    const access = await holdingServer();
    const hr = await holdingServer();
    closing.push(access.close, hr.close);
    const participants = createParticipants(() => ({ notification: access.url, hr: hr.url, access: access.url }), async () => ({ authorization: 'Bearer unit-test' }), { inFlight: 1 });
    const held = participants.suspendAccess({ resignationId: randomUUID(), employeeId: 'E001' }, { correlationId: 'c', idempotencyKey: 'k1' });
    await until(() => access.held() === 1);
    const other = participants.hrPartner('hrp-1', { correlationId: 'c' }).catch(() => undefined);
    await until(() => hr.held() === 1);
    expect(hr.held()).toBe(1);
    access.releaseAll();
    hr.releaseAll();
    await held;
    await other;
  });
});
