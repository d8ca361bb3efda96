import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { NoAnswerError, postWebhook, TargetRefusedError, type HostResolver, type ResolvedAddress } from '../src/deliver-event/post-webhook.ts';
import { startReceiver, type Receiver } from './receiver.ts';

/**
 * The delivery transport against real HTTP and TLS servers on loopback: time-outs, aborts, and the
 * internal-address guard. Names are resolved by an injected resolver (no /etc/hosts, no DNS traffic).
 */

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

  it('when internal targets are not allowed, then a literal internal address or a local name is refused before anything is resolved or sent', async () => {
    const before = receiver.received.length;
    const port = new URL(receiver.url).port;
    const dns = countingResolver(() => [{ address: '127.0.0.1', family: 4 }]);
    const strict = { ...options, allowPrivateTargets: false, resolve: dns.resolve };
    await expect(postWebhook(`http://127.0.0.1:${port}/guarded`, '{}', {}, strict)).rejects.toThrow(/refused: 127\.0\.0\.1 is an internal address: loopback/);
    await expect(postWebhook(`http://[::ffff:7f00:1]:${port}/guarded`, '{}', {}, strict)).rejects.toThrow(/refused: ::ffff:7f00:1 is an internal address: IPv4-mapped loopback/);
    await expect(postWebhook(`http://localhost:${port}/guarded`, '{}', {}, strict)).rejects.toThrow(/refused: localhost is an internal address: loopback/);
    await expect(postWebhook(`http://metadata.google.internal./computeMetadata/v1/`, '{}', {}, strict)).rejects.toThrow(/refused: metadata\.google\.internal\. is an internal address: a cloud metadata service/);
    expect(dns.calls).toEqual([]);
    expect(receiver.received.length).toBe(before);
  });

  it.each([
    ['loopback', [{ address: '127.0.0.1', family: 4 }], /resolves to internal address 127\.0\.0\.1: loopback/],
    ['a public and a loopback address (any of them may be connected to)', [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }], /resolves to internal address 127\.0\.0\.1/],
    ['IPv4-mapped loopback', [{ address: '::ffff:127.0.0.1', family: 6 }], /IPv4-mapped loopback/],
    ['the AWS metadata address', [{ address: 'fd00:ec2::254', family: 6 }], /unique-local/],
    ['the cloud metadata address', [{ address: '169.254.169.254', family: 4 }], /link-local/],
  ] as const)('when a public-looking name resolves to %s, then the post is refused, the name resolved once, and nothing is sent', async (_case, answer, reason) => {
    const before = receiver.received.length;
    const dns = countingResolver(() => answer);
    const post = postWebhook(`http://hooks.example.com:${new URL(receiver.url).port}/rebound`, '{}', {}, { ...options, allowPrivateTargets: false, resolve: dns.resolve });
    await expect(post).rejects.toThrow(TargetRefusedError);
    await expect(post).rejects.toThrow(reason);
    await expect(post).rejects.toThrow(/^refused: hooks\.example\.com resolves to internal address .*; webhooks reach only public addresses/);
    expect(dns.calls).toEqual(['hooks.example.com']);
    expect(receiver.received.length).toBe(before);
  });

  it('when a name resolves, then the connection goes to exactly the address resolved, once, with the name in the Host header', async () => {
    const port = new URL(receiver.url).port;
    // No DNS server knows this name: only the resolver's answer can have brought the request here.
    const dns = countingResolver(() => [{ address: '127.0.0.1', family: 4 }]);
    expect(await postWebhook(`http://receiver.ems-webhooks.example.com:${port}/pinned`, '{}', {}, { ...options, resolve: dns.resolve })).toBe(200);
    expect(dns.calls).toEqual(['receiver.ems-webhooks.example.com']);
    const [got] = receiver.requestsTo('/pinned');
    expect(got!.headers.host).toBe(`receiver.ems-webhooks.example.com:${port}`);
  });

  it('when the URL is https, then TLS carries the name as SNI and the certificate is checked against it (no fallback to an unchecked connection)', async () => {
    const sni: string[] = [];
    // This server has no certificate at all: the handshake fails after the client has said which name it wants.
    const tlsServer = tls.createServer({ SNICallback: (name, cb) => (sni.push(name), cb(new Error('no certificate for this name'))) });
    tlsServer.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = tlsServer.address() as AddressInfo;
      const dns = countingResolver(() => [{ address: '127.0.0.1', family: 4 }]);
      await expect(postWebhook(`https://hooks.example.com:${port}/tls`, '{}', {}, { ...options, resolve: dns.resolve })).rejects.toThrow(NoAnswerError);
      expect(sni).toEqual(['hooks.example.com']);
      expect(dns.calls).toEqual(['hooks.example.com']);
    } finally {
      await new Promise((resolve) => tlsServer.close(resolve));
    }
  });

  it('when the name does not resolve, or not in time, then the post fails with that reason', async () => {
    const nxdomain = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND hooks.example.com'), { code: 'ENOTFOUND' });
    };
    await expect(postWebhook('http://hooks.example.com/x', '{}', {}, { ...options, allowPrivateTargets: false, resolve: nxdomain })).rejects.toThrow(/^ENOTFOUND: getaddrinfo ENOTFOUND/);
    await expect(postWebhook('http://hooks.example.com/x', '{}', {}, { ...options, allowPrivateTargets: false, resolve: async () => [] })).rejects.toThrow(/ENOTFOUND: hooks\.example\.com has no address/);
    const never = () => new Promise<never>(() => {});
    await expect(postWebhook('http://hooks.example.com/x', '{}', {}, { ...options, allowPrivateTargets: false, timeoutMs: 200, resolve: never })).rejects.toThrow('no answer within 200 ms');
  });
});

/** A resolver that answers what `answer` says and records every name it was asked. */
function countingResolver(answer: (name: string) => readonly ResolvedAddress[]): { resolve: HostResolver; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    resolve: async (name) => {
      calls.push(name);
      return answer(name);
    },
  };
}
