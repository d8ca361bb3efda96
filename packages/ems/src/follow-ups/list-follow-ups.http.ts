import { ProblemSchema, type App } from '@ems/platform';
import { followUps as api } from '@ems/contracts';
import { listFollowUps, type FollowUpDeps } from './list-follow-ups.ts';

export function followUpRoutes(deps: FollowUpDeps) {
  return async (app: App): Promise<void> => {
    app.get(
      api.FollowUpPaths.followUps,
      {
        schema: {
          operationId: 'listFollowUps',
          tags: ['resignations'],
          summary: 'Reminders and escalations of the cases awaiting a decision: sent, skipped, due and upcoming, per case (oldest case first)',
          description:
            'The HR inbox: an HR partner sees the cases of the employees assigned to them, the HR lead every case. ' +
            '`state=due` keeps the cases with a deadline passed and nothing recorded yet; `state=sent` those already followed up; ' +
            '`state=skipped` those with a follow-up HR recorded without an email (nobody to send it to, or Notification refused it: its `reason`).',
          querystring: api.FollowUpListQuery,
          response: { 200: api.FollowUpList, 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema },
        },
      },
      async (req) => listFollowUps(deps, req.query, req.permit.employeeIds),
    );
  };
}
