import { z } from 'zod';
import { HttpProblem, ProblemSchema, type App } from '@ems/platform';
import { StorableLine, updates } from '@ems/contracts';
import type { UpdatesHub } from './updates-hub.ts';

const RETRY_MS = 5_000;

/**
 * GET /api/updates: server-sent events of the changes the caller may see (see contracts/updates.ts). The
 * request is admitted like any other (session cookie or bearer token, the policy's rows); the answer is then
 * written by hand and stays open: nothing in it is buffered, a heartbeat keeps it (and any proxy) alive well
 * inside the idle timeout, and the process ends every stream when it stops.
 */
export function updatesRoute(hub: UpdatesHub, options: { heartbeatMs?: number } = {}) {
  const heartbeatMs = options.heartbeatMs ?? updates.UPDATES_HEARTBEAT_SECONDS * 1000;
  return async (app: App): Promise<void> => {
    const streams = new Set<() => void>();
    // Before the server waits for its connections to end: an open stream never would by itself.
    app.addHook('preClose', (done) => {
      for (const end of [...streams]) end();
      done();
    });

    app.get(
      updates.UpdatesPaths.stream,
      {
        schema: {
          operationId: 'watchUpdates',
          tags: ['updates'],
          summary: 'Live updates: a stream of server-sent events (text/event-stream) of the cases the caller may read and, for operators, dead letters',
          description:
            '`event: case` with `{ resignationId, status, updatedAt }` whenever a case the caller may read changes (the rows of getResignation); ' +
            '`event: dead-letter` with `{ id, subscriber, eventType, reason, deadAt }` for operators; a `: heartbeat` comment every ' +
            `${updates.UPDATES_HEARTBEAT_SECONDS} s; \`retry: ${RETRY_MS}\`. Ask with \`Accept: text/event-stream\` (EventSource does; anything else is 406, so a plain ` +
            `request never hangs). Works with the browser's session cookie and with bearer tokens. At most ${updates.MAX_UPDATE_STREAMS_PER_IDENTITY} open streams per person (429). ` +
            'The stream starts empty: load what you show, then apply what arrives.',
          headers: z.looseObject({ accept: StorableLine.max(1000).optional() }),
          response: {
            200: {
              description: 'A stream of server-sent events (never ends by itself)',
              content: { 'text/event-stream': { schema: z.string().describe('`retry:`, then `event: case` / `event: dead-letter` with one JSON `data:` line each, and `: heartbeat` comments') } },
            },
            400: ProblemSchema,
            401: ProblemSchema,
            403: ProblemSchema,
            406: ProblemSchema,
            429: ProblemSchema,
            503: ProblemSchema,
          },
        },
      },
      async (req, reply) => {
        if (!/\btext\/event-stream\b/i.test(req.headers.accept ?? '')) {
          throw new HttpProblem(406, 'GET /api/updates is a stream of server-sent events: ask for it with Accept: text/event-stream (as EventSource does)', { title: 'Not Acceptable' });
        }
        const { permit } = req;
        const raw = reply.raw;
        // Nothing is written before the stream's own headers: what changes while it is being set up is not sent
        // (a stream starts empty; the client loads what it shows).
        let streaming = false;
        let ended = false;
        let heartbeat: NodeJS.Timeout | undefined = undefined;
        const write = (chunk: string) => {
          if (streaming) raw.write(chunk);
        };
        const opened = hub.open({
          identity: `${permit.principal.kind}:${permit.principal.id}`,
          readsCase: (employeeId) => permit.viewOf(employeeId) !== undefined,
          readsDeadLetters: permit.principal.kind === 'person' && permit.principal.roles.includes('operator'),
          send: (event, data) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
        });
        if (!opened.ok) {
          reply.header('retry-after', String(RETRY_MS / 1000));
          throw new HttpProblem(429, `At most ${updates.MAX_UPDATE_STREAMS_PER_IDENTITY} update streams may be open at once for one person: close one (another tab?) first`, {
            type: 'https://ems.dev/problems/too-many-streams',
            title: 'Too Many Requests',
          });
        }
        const end = () => {
          if (ended) return;
          ended = true;
          streaming = false;
          clearInterval(heartbeat);
          opened.close();
          streams.delete(end);
          if (raw.headersSent && !raw.writableEnded) raw.end();
        };
        // The client gone (at any moment, also while the stream is being set up), an error, or the process stopping.
        streams.add(end);
        raw.on('close', end);
        raw.on('error', end);
        req.raw.socket.on('close', end);

        try {
          // Only once this process is a registered listener do changes reach the stream: say "connected" after that.
          await opened.ready;
        } catch (err) {
          end();
          throw new HttpProblem(503, `Live updates are unavailable for now: ${err instanceof Error ? err.message : String(err)}`, { title: 'Service Unavailable' });
        }
        reply.hijack();
        if (ended) {
          raw.destroy();
          return;
        }
        // The security headers helmet set on the raw response stay; these say: a stream, never cached or transformed.
        raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        raw.flushHeaders();
        streaming = true;
        write(`retry: ${RETRY_MS}\n: connected\n\n`);
        heartbeat = setInterval(() => write(': heartbeat\n\n'), heartbeatMs);
      },
    );
  };
}
