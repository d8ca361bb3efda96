import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from '../src/deliver-event/post-webhook.ts';
import { startReceiver, type Receiver } from './receiver.ts';

/** The delivery transport against a real HTTP server on loopback: time-outs, aborts and the internal-address guard. */

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver((path) => (path === '/hang' ? 0 : path === '/redirect' ? 302 : 200));
});
afterAll(async () => {
  await receiver?.close();
});

const options = { timeoutMs: 2_000, allowPrivateTargets: true };

describe('posting a webhook', () => {
  it('when the receiver answers, then its status is returned, redirects included (they are not followed)', async () => {
    expect(await postWebhook(`${receiver.url}/ok`, '{"a":1}', { 'content-type': 'application/cloudevents+json' }, options)).toBe(200);
    expect(await postWebhook(`${receiver.url}/redirect`, '{}', {}, options)).toBe(302);
    const [got] = receiver.requestsTo('/ok');
    expect(got).toMatchObject({ body: '{"a":1}' });
    expect(got!.headers['content-length']).toBe('7');
  });

  it('when the receiver never answers, then the post gives up after the time-out', async () => {
    const started = Date.now();
    await expect(postWebhook(`${receiver.url}/hang`, '{}', {}, { ...options, timeoutMs: 300 })).rejects.toThrow('no answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('when the service stops during a post, then the post is aborted at once', async () => {
    const stop = new AbortController();
    const post = postWebhook(`${receiver.url}/hang`, '{}', {}, { ...options, timeoutMs: 30_000, signal: stop.signal });
    setTimeout(() => stop.abort(), 100);
    await expect(post).rejects.toThrow('aborted: the service is stopping');
  });

  it('when internal targets are not allowed, then a literal internal address or a name resolving to one is refused before anything is sent', async () => {
    const before = receiver.received.length;
    const port = new URL(receiver.url).port;
    await expect(postWebhook(`http://127.0.0.1:${port}/guarded`, '{}', {}, { ...options, allowPrivateTargets: false })).rejects.toThrow(/refused: 127\.0\.0\.1 is an internal address/);
    // localhost resolves (from /etc/hosts) to loopback: the check runs on the resolved address.
    await expect(postWebhook(`http://localhost:${port}/guarded`, '{}', {}, { ...options, allowPrivateTargets: false })).rejects.toThrow(/refused: localhost resolves to internal address/);
    expect(receiver.received.length).toBe(before);
  });
});
