import { z } from 'zod';
import { HttpProblem, ProblemSchema, type App, type Permit } from '@ems/platform';
import { ems, IdempotencyKey, StorableLine, Uuid } from '@ems/contracts';
import type { CaseStore } from './case-store.ts';
import { submitResignation, type SubmitDeps } from './submit-resignation.ts';
import { decideResignation, type DecideDeps } from './decide-resignation.ts';
import { resignationView, timelineView } from './views.ts';

const problems = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };
const IdParams = z.object({ id: Uuid });

const Accepted = z.object({ id: Uuid, status: z.literal('accepted') });
const IdempotencyHeaders = z.object({ 'idempotency-key': IdempotencyKey.optional() });

/** A case the caller may not see answers exactly like an unknown one. */
const noCase = (id: string) => new HttpProblem(404, `No resignation with id ${id}`);

/** The rows of a case this permit reaches, as the use cases ask it. */
const rowsOf = (permit: Permit) => ({ allowed: (employeeId: string) => permit.viewOf(employeeId) !== undefined, actor: (employeeId: string) => permit.actor(employeeId) });

export function resignationRoutes(deps: SubmitDeps & DecideDeps & { store: CaseStore }) {
  return async (app: App): Promise<void> => {
    const visible = async (permit: Permit, id: string) => {
      const found = await deps.store.get(id);
      const view = found && permit.viewOf(found.employeeId);
      if (!found || !view) throw noCase(id);
      return { found, view };
    };

    app.post(
      '/api/resignations/:id/decision',
      {
        schema: {
          operationId: 'decideResignation',
          tags: ['resignations'],
          summary: 'Record the decision after the exit interview: retained, or exit confirmed with the final last working day',
          description:
            'Allowed once the first reactions have settled (awaiting_decision or action_required). `retained` lifts the hold ' +
            '(restoring exactly the grants it suspended), cancels an interview not yet held and tells manager and employee; ' +
            '`exit_confirmed` tells them and revokes every remaining grant at the end of the last working day in the ' +
            "employee's time zone. Confirming again with another lastWorkingDay moves that moment (until it has passed). " +
            'Repeating a decision that took effect answers 200 and changes nothing; anything else the status does not allow is 409.',
          params: IdParams,
          headers: IdempotencyHeaders,
          body: ems.DecisionRequest,
          response: { 200: ems.Resignation, 202: Accepted, ...problems },
        },
      },
      async (req, reply) => {
        const result = await decideResignation(deps, req.params.id, { kind: req.body.decision, lastWorkingDay: req.body.lastWorkingDay, note: req.body.note }, { idempotencyKey: req.headers['idempotency-key'], ...rowsOf(req.permit) });
        if (result.kind === 'accepted') return reply.status(202).header('location', ems.EmsPaths.resignation(result.id)).send({ id: result.id, status: 'accepted' as const });
        return reply.status(200).send(resignationView(result.resignation, req.permit.viewOf(result.resignation.employeeId) ?? 'summary'));
      },
    );

    app.post(
      '/api/resignations/:id/withdrawal',
      {
        schema: {
          operationId: 'withdrawResignation',
          tags: ['resignations'],
          summary: 'The employee withdraws the resignation (before a decision)',
          description: 'Same consequences as retained. Repeating it answers 200; after a decision it is 409.',
          params: IdParams,
          headers: IdempotencyHeaders,
          body: ems.WithdrawalRequest.nullish(),
          response: { 200: ems.Resignation, 202: Accepted, ...problems },
        },
      },
      async (req, reply) => {
        const result = await decideResignation(deps, req.params.id, { kind: 'withdrawn', note: req.body?.note }, { idempotencyKey: req.headers['idempotency-key'], ...rowsOf(req.permit) });
        if (result.kind === 'accepted') return reply.status(202).header('location', ems.EmsPaths.resignation(result.id)).send({ id: result.id, status: 'accepted' as const });
        return reply.status(200).send(resignationView(result.resignation, req.permit.viewOf(result.resignation.employeeId) ?? 'summary'));
      },
    );

    app.post(
      ems.EmsPaths.resignations,
      {
        schema: {
          operationId: 'submitResignation',
          tags: ['resignations'],
          summary: 'Submit a resignation',
          description:
            'Opens a case and starts the three reactions (manager email, exit interview, critical access hold). ' +
            'Send an Idempotency-Key header to make retries safe: a repeat answers 200 with the same case (422 if the key ' +
            'was used with a different body). Optional X-Correlation-Id and traceparent headers are carried by every event of the case.',
          headers: z.object({
            'idempotency-key': IdempotencyKey.optional(),
            // Empty means absent: the case id then correlates everything.
            'x-correlation-id': z
              .string()
              .max(200)
              .regex(/^[\x20-\x7e]*$/, 'must be printable ASCII')
              .transform((v) => v.trim() || undefined)
              .optional(),
            // W3C trace context; a malformed one is ignored (a new trace starts), as the spec asks.
            traceparent: StorableLine.max(200)
              .optional()
              .transform((v) => (v && /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(v.trim()) ? v.trim() : undefined)),
          }),
          body: ems.SubmitResignationRequest,
          response: { 200: ems.Resignation, 201: ems.Resignation, 422: ProblemSchema, ...problems },
        },
      },
      async (req, reply) => {
        const result = await submitResignation(deps, req.body, {
          idempotencyKey: req.headers['idempotency-key'],
          correlationId: req.headers['x-correlation-id'],
          traceparent: req.headers.traceparent,
          ...rowsOf(req.permit),
        });
        return reply
          .status(result.kind === 'created' ? 201 : 200)
          .header('location', ems.EmsPaths.resignation(result.resignation.id))
          .send(resignationView(result.resignation, req.permit.viewOf(result.resignation.employeeId) ?? 'summary'));
      },
    );

    app.get(
      ems.EmsPaths.resignations,
      {
        schema: {
          operationId: 'listResignations',
          tags: ['resignations'],
          summary: 'List resignations, newest first',
          querystring: ems.ResignationListQuery,
          response: { 200: ems.ResignationList, 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema },
        },
      },
      async (req) => {
        const page = await deps.store.list({ ...req.query, employeeIds: req.permit.employeeIds });
        return { ...page, items: page.items.map((r) => resignationView(r, req.permit.viewOf(r.employeeId) ?? 'summary')) };
      },
    );

    app.get(
      '/api/resignations/:id',
      {
        schema: { operationId: 'getResignation', tags: ['resignations'], summary: 'One resignation with the status of each step', params: IdParams, response: { 200: ems.Resignation, ...problems } },
      },
      async (req) => {
        const { found, view } = await visible(req.permit, req.params.id);
        return resignationView(found, view);
      },
    );

    app.get(
      '/api/resignations/:id/timeline',
      {
        schema: {
          operationId: 'getResignationTimeline',
          tags: ['resignations'],
          summary: 'What happened to a case, in order: which service, when, who, with which correlation id',
          params: IdParams,
          response: { 200: ems.Timeline, ...problems },
        },
      },
      async (req) => {
        const { found, view } = await visible(req.permit, req.params.id);
        return { resignationId: found.id, items: (await deps.store.timeline(found.id)).map((e) => timelineView(e, view)) };
      },
    );
  };
}
