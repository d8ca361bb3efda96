import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as it arrived (what a receiver must verify). */
  body: string;
}

/** A real HTTP server on loopback that records every request and answers with the status `respond` picks. */
export interface Receiver {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  received: Received[];
  /** The n-th request (1-based) to `path` gets this status; 0 means never answer. */
  respond: (path: string, n: number) => number;
  requestsTo(path: string): Received[];
  close(): Promise<void>;
}

export async function startReceiver(respond: (path: string, n: number) => number = () => 204): Promise<Receiver> {
  const received: Received[] = [];
  const receiver: Receiver = {
    url: '',
    received,
    respond,
    requestsTo: (path) => received.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = receiver.respond(path, receiver.requestsTo(path).length);
      if (status === 0) return; // hang: the sender's timeout must end it
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
