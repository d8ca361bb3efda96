/**
 * The fleet's gateway and a long answer (the live-updates stream): it passes the stream on as it comes, and
 * when the client goes away it ends the replica's request too — real sockets, a real replica stand-in.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '@ems/platform';
import { waitFor } from '@ems/platform/testing';
import { startGateway } from '../packages/server/src/cli/gateway.ts';

describe('the gateway and a stream', () => {
  const stops: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  it('when a client reads a stream through the gateway and goes away, then the replica sees its request closed', { timeout: 30_000 }, async () => {
    let replicaClosed = false;
    // A replica answering with an event stream that never ends by itself (its first line at once).
    const replica: Server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': connected\n\n');
      req.on('close', () => (replicaClosed = true));
    });
    await new Promise<void>((resolve) => replica.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => (replica.closeAllConnections(), replica.close(() => resolve()))));
    const address = replica.address();
    const replicaUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    const port = await freePort();
    const gateway = await startGateway({ port, host: '127.0.0.1', routes: [{ pattern: /^\/api\/updates$/, service: 'ems' }], upstreams: () => [replicaUrl] });
    stops.push(() => gateway.stop());

    const abort = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/api/updates`, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value as Uint8Array)).toContain(': connected');
    expect(replicaClosed).toBe(false);

    abort.abort();
    await waitFor(() => (replicaClosed ? true : undefined), "the replica's request to close once the client went away");
  });
});
