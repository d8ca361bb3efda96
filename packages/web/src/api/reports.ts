import type { reports } from '@ems/contracts';
import { ReportPaths } from '@ems/contracts/paths';
import { get } from './client.ts';

/** The HR lead's exit report (packages/contracts/src/reports.ts): counts by month, department and reason category. */
export type ExitReport = reports.ExitReport;
export type ExitCounts = reports.ExitCounts;
export type ExitReportQuery = reports.ExitReportQuery;

/** From and to are calendar days (UTC), both counted; left out, the server takes the last twelve months. */
export const getExitReport = (query: ExitReportQuery, signal?: AbortSignal) => get<ExitReport>(ReportPaths.exits, { from: query.from, to: query.to }, signal);
