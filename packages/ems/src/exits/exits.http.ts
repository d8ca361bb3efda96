import { z } from 'zod';
import { HttpProblem, ProblemSchema, type App } from '@ems/platform';
import { ems, IdempotencyKey, StorableLine, Uuid } from '@ems/contracts';
import { MAX_EXITS_CSV_BYTES, parseExitsCsv } from './exits-csv.ts';
import { refused, startExits, type StartExitsDeps } from './start-exits.ts';

const problems = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 415: ProblemSchema };

/** POST /api/exits (JSON or text/csv), GET /api/exits (the batches) and GET /api/exits/{id}: involuntary and mass exits (hr_lead). */
export function exitRoutes(deps: StartExitsDeps) {
  return async (app: App): Promise<void> => {
    // Its own scope: text/csv is read as a string for these routes only.
    await app.register(async (scope: App) => {
      scope.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: MAX_EXITS_CSV_BYTES }, (_req, body, done) => done(null, body));
      scope.post(
        ems.EmsPaths.exits,
        {
          bodyLimit: MAX_EXITS_CSV_BYTES,
          schema: {
            operationId: 'startInvoluntaryExits',
            tags: ['exits'],
            summary: 'Start involuntary exits: one person, or a mass exit (JSON or a CSV file), one case each',
            description:
              'HR ends employments. Every grant of each person is suspended at once (critical first), and only then are the manager ' +
              'and the employee told; every grant is revoked at revokeAt (default: the end of the last working day — today unless given — in the ' +
              "employee's time zone). JSON: StartExitsRequest. text/csv: a file with the header employee_id[,last_working_day], with reason, revokeAt " +
              'and note as query parameters. Every person is checked first: any unknown, deactivated or with an open case refuses the whole request ' +
              '(422, each by row; nothing started). Idempotency-Key is required: a repeat answers 200 with the same batch. 202: follow Location for progress.',
            consumes: ['application/json', 'text/csv'],
            headers: z.object({
              'idempotency-key': IdempotencyKey,
              traceparent: StorableLine.max(200)
                .optional()
                .transform((v) => (v && /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(v.trim()) ? v.trim() : undefined)),
            }),
            querystring: ems.StartExitsCsvQuery.partial(),
            body: z.union([ems.StartExitsRequest, z.string().meta({ description: 'The CSV file (text/csv, UTF-8, header first)' })]),
            response: { 200: ems.ExitsStarted, 202: ems.ExitsStarted, 422: z.union([ems.ExitRowsRefusedProblem, ProblemSchema]), ...problems },
          },
        },
        async (req, reply) => {
          const actor = req.permit.actor();
          let input: ems.StartExitsRequest;
          let rows: number[] | undefined;
          if (typeof req.body === 'string') {
            const query = ems.StartExitsCsvQuery.safeParse(req.query);
            if (!query.success) {
              throw new HttpProblem(400, 'With a CSV file, give reason (and optionally revokeAt, note) as query parameters', {
                type: 'https://ems.dev/problems/validation',
                title: 'Invalid request',
                extra: { errors: query.error.issues.map((i) => ({ path: `querystring.${i.path.join('.')}`, message: i.message })) },
              });
            }
            const csv = parseExitsCsv(req.body);
            if (!csv.ok) throw refused(csv.errors);
            const parsed = ems.StartExitsRequest.safeParse({ employees: csv.employees, reason: query.data.reason, revokeAt: query.data.revokeAt, note: query.data.note });
            if (!parsed.success) {
              // A bad id or date in the file: name its line.
              throw refused(
                parsed.error.issues.map((i) => {
                  const index = i.path[0] === 'employees' && typeof i.path[1] === 'number' ? i.path[1] : -1;
                  return { row: index >= 0 ? csv.rows[index]! : 1, employeeId: index >= 0 ? (csv.employees[index]?.employeeId ?? null) : null, error: `${i.path.slice(2).join('.') || i.path.join('.')}: ${i.message}` };
                }),
              );
            }
            input = parsed.data;
            rows = csv.rows;
          } else {
            input = req.body;
          }
          const result = await startExits(deps, input, { idempotencyKey: req.headers['idempotency-key'], actor, traceparent: req.headers.traceparent, ...(rows ? { rows } : {}) });
          return reply
            .status(result.kind === 'created' ? 202 : 200)
            .header('location', ems.EmsPaths.exit(result.started.id))
            .send(result.started);
        },
      );
    });

    app.get(
      ems.EmsPaths.exits,
      {
        schema: {
          operationId: 'listExitBatches',
          tags: ['exits'],
          summary: 'List involuntary exit batches, newest first',
          description: "Each batch as its row holds it (no case is counted): who started it, when, why, how many people, whether it has settled. A batch's progress and cases: GET /api/exits/{id}.",
          querystring: ems.ExitBatchListQuery,
          response: { 200: ems.ExitBatchList, 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema },
        },
      },
      async (req) => deps.exits.list(req.query),
    );

    app.get(
      '/api/exits/:id',
      {
        schema: {
          operationId: 'getExitBatch',
          tags: ['exits'],
          summary: "An involuntary exit batch's progress: access suspended, notices sent, revocations scheduled, failed, settled; its cases, a page at a time",
          params: z.object({ id: Uuid }),
          querystring: ems.ExitBatchQuery,
          response: { 200: ems.ExitBatch, 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema },
        },
      },
      async (req) => {
        const progress = await deps.exits.progress(req.params.id, req.query);
        if (!progress) throw new HttpProblem(404, `No exit batch with id ${req.params.id}`);
        return progress;
      },
    );
  };
}
