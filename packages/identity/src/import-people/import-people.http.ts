import { z } from 'zod';
import { HttpProblem, ProblemSchema, type App } from '@ems/platform';
import { identity } from '@ems/contracts';
import { traceContextFromHeaders } from '@ems/eventbus';
import type { IdentityContext } from '../identity.context.ts';
import { importPeople } from './import-people.ts';
import { MAX_IMPORT_BYTES } from './people-csv.ts';

/** POST /api/directory/imports: the body is the CSV file itself (text/csv, UTF-8). */
export async function registerImportPeopleRoute(app: App, ctx: IdentityContext): Promise<void> {
  // Its own scope: text/csv is read (as a string, up to the file limit) for this route only.
  await app.register(async (scope: App) => {
    scope.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: MAX_IMPORT_BYTES }, (_req, body, done) => done(null, body));
    scope.post(
      identity.IdentityPaths.directoryImports,
      {
        bodyLimit: MAX_IMPORT_BYTES,
        // Before the body is validated: a JSON (or any other) body is the wrong media type, not a bad string.
        preValidation: async (req) => {
          const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
          if (type !== 'text/csv') throw new HttpProblem(415, 'Send the file as Content-Type: text/csv (UTF-8)');
        },
        schema: {
          operationId: 'importPeople',
          tags: ['identity'],
          summary: 'Import people from a CSV file (text/csv) into the directory: all or nothing; ?dryRun=true answers what would change',
          description:
            'Columns: id, name, email, title, manager_id, hr_partner_id, department, location, timezone, working_days, work_start, work_end (required in the header; ' +
            'title, manager_id, hr_partner_id, department and location may be empty), roles and active (optional). A refused file answers 422 with every error by row and column.',
          consumes: ['text/csv'],
          querystring: identity.DirectoryImportQuery,
          body: z.string().meta({ description: 'The CSV file (RFC 4180, UTF-8, header first)' }),
          response: { 200: identity.DirectoryImportReport, 201: identity.DirectoryImportReport, 400: ProblemSchema, 413: ProblemSchema, 415: ProblemSchema, 422: identity.DirectoryImportProblem },
        },
      },
      async (req, reply) => {
        const outcome = await importPeople(ctx, req.body, { ...req.query, trace: traceContextFromHeaders(req.headers) }, req.permit.principal.id);
        if (!outcome.ok) {
          const problem: identity.DirectoryImportProblem = {
            type: 'https://ems.dev/problems/import-refused',
            title: 'Import refused',
            status: 422,
            detail: `The file has ${outcome.errors.length} error${outcome.errors.length === 1 ? '' : 's'}; nothing was imported.`,
            errors: outcome.errors,
          };
          return reply.status(422).type('application/problem+json').send(problem);
        }
        return reply.status(req.query.dryRun ? 200 : 201).send(outcome.report);
      },
    );
  });
}
