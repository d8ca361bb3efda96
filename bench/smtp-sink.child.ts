/**
 * The mail relay of a benchmark run (spawned by run-bench.ts, never run by hand): a real SMTP server
 * on loopback that accepts and discards every message, in its own process — as a production relay
 * would be — so the EMS process's CPU and memory are EMS's own, not the built-in capture server's.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { ChildMessage, ParentMessage } from './ems-process.ts';

let accepted = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, _session, callback) {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      accepted++;
      callback();
    });
  },
});
// A client that drops its connection (EMS stopping with pooled connections open) must not end the relay.
server.on('error', () => undefined);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.server.address() as AddressInfo;
  process.send?.({ type: 'ready', url: `smtp://127.0.0.1:${port}` } satisfies ChildMessage);
});
process.on('message', (m: ParentMessage) => {
  if (m.type !== 'stop') return;
  server.close(() => {
    process.send?.({ type: 'result', result: { accepted } } satisfies ChildMessage);
    process.disconnect?.();
    process.exit(0);
  });
});
process.on('disconnect', () => process.exit(0));
