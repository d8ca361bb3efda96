import { notFound, type Permit, type View } from '@ems/platform';
import type { hr } from '@ems/contracts';
import type { HrContext } from '../hr.context.ts';

/** An interview the caller may not see answers exactly like an unknown one. */
export async function requireVisibleInterview(ctx: HrContext, permit: Permit, id: string): Promise<View> {
  const row = await ctx.db.selectFrom('interviews').select('employee_id').where('id', '=', id).executeTakeFirst();
  const view = row && permit.viewOf(row.employee_id);
  if (!view) throw notFound(`No interview ${id}`);
  return view;
}

/** The employee's own view leaves out the notes: they are HR's. */
export function interviewView(interview: hr.Interview, view: View): hr.Interview {
  return view === 'full' ? interview : { ...interview, notes: null };
}
