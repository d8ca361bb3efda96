import { useState, type FormEvent } from 'react';
import { AppPaths } from '@ems/contracts/app-paths';
import { getExitReport, type ExitCounts, type ExitReport } from '../../api/reports.ts';
import { caseChanged } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { ErrorMessage, Field, formatDay, Loading, Page } from '../../components/ui.tsx';
import { navigate, useLocation } from '../../components/router.tsx';
import { BarChart, type Column, type Row } from './bar-chart.tsx';
import { fieldError } from './submit.ts';

/** A decision anywhere changes the counts. */
const live = caseChanged();

const COLUMNS: readonly Column[] = [
  { key: 'submitted', label: 'Resigned', drawn: true },
  { key: 'exits', label: 'Exit confirmed', drawn: true },
  { key: 'retained', label: 'Retained', drawn: false },
  { key: 'withdrawn', label: 'Withdrawn', drawn: false },
  { key: 'involuntary', label: 'Involuntary exit', drawn: true },
];
/** A reason category is the employee's, given when resigning: involuntary exits have HR's reason instead (their own table). */
const RESIGNATION_COLUMNS = COLUMNS.filter((c) => c.key !== 'involuntary');

const EXIT_REASON_WORDS: Record<ExitReport['byExitReason'][number]['reason'], string> = {
  misconduct: 'Misconduct',
  redundancy: 'Redundancy',
  performance: 'Performance',
  end_of_contract: 'End of contract',
  other: 'Other',
};

const REASON_WORDS: Record<string, string> = {
  career: 'Career',
  compensation: 'Pay and benefits',
  management: 'Management',
  relocation: 'Relocation',
  personal: 'Personal',
  other: 'Other',
  uncategorised: 'No category given',
};

const values = (c: ExitCounts): Record<string, number> => ({ submitted: c.submitted, exits: c.exits, retained: c.retained, withdrawn: c.withdrawn, involuntary: c.involuntary });

function monthWords(month: string): string {
  const [y, m] = month.split('-').map(Number);
  if (!y || !m) return month;
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString(undefined, { month: 'short', year: 'numeric', timeZone: 'UTC' });
}

/** One sentence for the picture: what it shows and where the most exits are. */
function summaryOf(what: string, rows: readonly Row[], involuntary = true): string {
  const top = [...rows].sort((a, b) => (b.values.exits ?? 0) - (a.values.exits ?? 0))[0];
  const most = top && (top.values.exits ?? 0) > 0 ? ` Most exits confirmed: ${top.label} (${top.values.exits}).` : ' No exit confirmed in this period.';
  return `Bar chart of resignations and confirmed exits${involuntary ? ', and of involuntary exits,' : ''} ${what}, ${rows.length} ${rows.length === 1 ? 'bar group' : 'bar groups'}.${most} Every number is in the table after the chart.`;
}

/** The HR lead's report: exits by month, department and reason, as charts with their numbers. */
export function ReportsPage(_props: { params: Record<string, string> }) {
  const { search } = useLocation();
  const from = search.get('from') ?? '';
  const to = search.get('to') ?? '';
  const report = useResource((signal) => getExitReport({ ...(from ? { from } : {}), ...(to ? { to } : {}) }, signal), [from, to], live);
  return (
    <Page title="Reports">
      <p className="muted">Exits across the organisation: who resigned, whose exit was confirmed, who stayed or withdrew, and the involuntary exits HR started — by month, department and reason. Each case counts when it happened.</p>
      <PeriodForm from={from} to={to} shown={report.data} error={report.error} />
      {report.data === undefined ? report.error ? null : <Loading what="Loading the report" /> : <Report report={report.data} />}
    </Page>
  );
}

function PeriodForm({ from, to, shown, error }: { from: string; to: string; shown: ExitReport | undefined; error: unknown }) {
  const [draftFrom, setFrom] = useState(from);
  const [draftTo, setTo] = useState(to);
  const fromError = fieldError(error, 'query.from');
  const toError = fieldError(error, 'query.to');
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (draftFrom) q.set('from', draftFrom);
    if (draftTo) q.set('to', draftTo);
    const s = q.toString();
    navigate(`${AppPaths.reports}${s ? `?${s}` : ''}`, { replace: true });
  };
  return (
    <form className="hr-period" onSubmit={onSubmit} aria-label="Period">
      <Field label="From" hint={shown ? `Now: ${formatDay(shown.from)}` : 'Empty: twelve months back'} error={fromError}>
        {({ id, describedBy, invalid }) => <input id={id} type="date" value={draftFrom} onChange={(e) => setFrom(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid} />}
      </Field>
      <Field label="To" hint={shown ? `Now: ${formatDay(shown.to)}` : 'Empty: today'} error={toError}>
        {({ id, describedBy, invalid }) => <input id={id} type="date" value={draftTo} onChange={(e) => setTo(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid} />}
      </Field>
      <div className="hr-actions">
        <button type="submit">Show</button>
      </div>
      {fromError || toError ? null : <ErrorMessage error={error} />}
    </form>
  );
}

function Report({ report }: { report: ExitReport }) {
  const months: Row[] = report.byMonth.map((m) => ({ key: m.month, label: monthWords(m.month), values: values(m) }));
  const departments: Row[] = report.byDepartment.map((d) => ({ key: d.department ?? '(none)', label: d.department ?? 'Not known', values: values(d) }));
  const reasons: Row[] = report.byReason.map((r) => ({ key: r.reasonCategory, label: REASON_WORDS[r.reasonCategory] ?? r.reasonCategory, values: values(r) }));
  const t = report.totals;
  return (
    <>
      <h2 id="report-totals">
        {formatDay(report.from)} to {formatDay(report.to)}
      </h2>
      <ul className="hr-counts" aria-labelledby="report-totals">
        <li>
          <strong>{t.submitted}</strong> resigned
        </li>
        <li>
          <strong>{t.exits}</strong> exit{t.exits === 1 ? '' : 's'} confirmed
        </li>
        <li>
          <strong>{t.retained}</strong> retained
        </li>
        <li>
          <strong>{t.withdrawn}</strong> withdrew
        </li>
        <li>
          <strong>{t.involuntary}</strong> involuntary exit{t.involuntary === 1 ? '' : 's'}
        </li>
      </ul>
      <section aria-labelledby="report-month">
        <h2 id="report-month">By month</h2>
        <BarChart id="chart-month" labelledBy="report-month" caption="By month, in numbers" summary={summaryOf('by month', months)} rowHeader="Month" columns={COLUMNS} rows={months} />
      </section>
      <section aria-labelledby="report-department">
        <h2 id="report-department">By department</h2>
        {departments.length === 0 ? (
          <p>Nobody resigned in this period.</p>
        ) : (
          <BarChart id="chart-department" labelledBy="report-department" caption="By department, in numbers" summary={summaryOf('by department', departments)} rowHeader="Department" columns={COLUMNS} rows={departments} />
        )}
      </section>
      <section aria-labelledby="report-reason">
        <h2 id="report-reason">By reason</h2>
        <BarChart id="chart-reason" labelledBy="report-reason" caption="By reason, in numbers" summary={summaryOf('by reason', reasons, false)} rowHeader="Reason" columns={RESIGNATION_COLUMNS} rows={reasons} />
      </section>
      <section aria-labelledby="report-exit-reason">
        <h2 id="report-exit-reason">Involuntary exits by HR's reason</h2>
        {t.involuntary === 0 ? (
          <p>No involuntary exit in this period.</p>
        ) : (
          <table className="data">
            <caption className="visually-hidden">Involuntary exits by HR's reason, in numbers</caption>
            <thead>
              <tr>
                <th scope="col">Reason</th>
                <th scope="col">Involuntary exits</th>
              </tr>
            </thead>
            <tbody>
              {report.byExitReason.map((r) => (
                <tr key={r.reason}>
                  <th scope="row">{EXIT_REASON_WORDS[r.reason]}</th>
                  <td>{r.involuntary}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
