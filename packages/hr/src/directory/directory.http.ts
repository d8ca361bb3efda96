import { ProblemSchema, type App } from '@ems/platform';
import { EmployeeId, hr, StorableLine } from '@ems/contracts';
import { z } from 'zod';
import type { HrContext } from '../hr.context.ts';
import { getEmployee, getHrPartner, listEmployees, listHrPartners } from './directory.ts';

export function registerDirectoryRoutes(app: App, ctx: HrContext): void {
  app.get(
    hr.HrPaths.employees,
    {
      schema: {
        operationId: 'listEmployees',
        tags: ['hr'],
        summary: 'The people directory (filter by department; q searches name and email)',
        querystring: hr.EmployeeListQuery,
        response: { 200: hr.EmployeeList, 400: ProblemSchema },
      },
    },
    async (req) => listEmployees(ctx, req.query),
  );
  app.get(
    '/api/employees/:id',
    {
      schema: {
        operationId: 'getEmployee',
        tags: ['hr'],
        summary: 'One employee with their department, manager and HR partner',
        params: z.object({ id: EmployeeId }),
        response: { 200: hr.Employee, 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req) => getEmployee(ctx, req.params.id),
  );
  app.get(
    hr.HrPaths.hrPartners,
    {
      schema: {
        operationId: 'listHrPartners',
        tags: ['hr'],
        summary: 'The HR partners, with their time zones, working hours and the HR lead they escalate to',
        querystring: hr.HrPartnerListQuery,
        response: { 200: hr.HrPartnerList, 400: ProblemSchema },
      },
    },
    async (req) => listHrPartners(ctx, req.query),
  );
  app.get(
    '/api/hr-partners/:id',
    {
      schema: {
        operationId: 'getHrPartner',
        tags: ['hr'],
        summary: 'One HR partner, with the HR lead they escalate to',
        params: z.object({ id: StorableLine.min(1).max(100) }),
        response: { 200: hr.HrPartner, 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req) => getHrPartner(ctx, req.params.id),
  );
}
