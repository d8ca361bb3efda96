import { useEffect, useId, useRef, useState, type DragEvent } from 'react';
import { importErrors, importPeople, IMPORT_COLUMNS, MAX_IMPORT_BYTES, type ImportError, type ImportReport } from '../../api/directory-import.ts';
import { ConfirmDialog } from '../../components/confirm.tsx';
import { DataTable } from '../../components/data-table.tsx';
import { ErrorMessage, Page } from '../../components/ui.tsx';

/**
 * The directory import: HR's CSV export in, in three steps the page walks through.
 *
 *   choose a file (or drop it) ──► dry run ──► the report: who would be created / updated / deactivated
 *          ▲   option "missing → inactive"         or every error by row and column
 *          └──────── fix it, choose again ◄────────┘
 *   report with changes ──► "Apply" ──► confirmation ──► the applied report
 *
 * The file's bytes are read once, when chosen: the import applied is exactly the file the dry run showed.
 * Nothing is written without the confirmation; a failed apply keeps the file and the option.
 */

/** A table shows at most this many people (a full export may have 50,000); the counts are always complete. */
const SHOWN = 500;

interface Chosen {
  name: string;
  size: number;
  bytes: ArrayBuffer;
  /** Counts up with each file chosen: a dry run's answer is for one file and one option. */
  serial: number;
}

type Check =
  | { state: 'checking'; key: string }
  | { state: 'report'; key: string; report: ImportReport }
  | { state: 'refused'; key: string; detail: string; errors: ImportError[]; onApply: boolean }
  | { state: 'failed'; key: string; error: unknown };

const keyOf = (chosen: Chosen, deactivateMissing: boolean) => `${chosen.serial}|${deactivateMissing}`;
const changes = (r: ImportReport) => r.created.length + r.updated.length + r.deactivated.length;
const people = (n: number) => `${n} ${n === 1 ? 'person' : 'people'}`;
const sizeWords = (bytes: number) => (bytes < 1024 ? `${bytes} bytes` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`);

export function DirectoryImportPage(_props: { params: Record<string, string> }) {
  const [chosen, setChosen] = useState<Chosen>();
  const [deactivateMissing, setDeactivateMissing] = useState(false);
  const [pickError, setPickError] = useState<string>();
  const [check, setCheck] = useState<Check>();
  const [confirming, setConfirming] = useState(false);
  const [applying, setApplying] = useState(false);
  const [applyError, setApplyError] = useState<unknown>();
  const [applied, setApplied] = useState<{ name: string; report: ImportReport }>();
  const [dragging, setDragging] = useState(false);
  const serial = useRef(0);
  /** The latest dry run asked for: an older answer arriving late is dropped. */
  const latest = useRef('');
  const appliedHeading = useRef<HTMLHeadingElement>(null);
  const resultHeading = useRef<HTMLHeadingElement>(null);
  const inputId = useId();
  const warningId = useId();

  const dryRun = (file: Chosen, deactivate: boolean) => {
    const key = keyOf(file, deactivate);
    latest.current = key;
    setCheck({ state: 'checking', key });
    setApplied(undefined);
    importPeople(file.bytes, { dryRun: true, deactivateMissing: deactivate }).then(
      (report) => {
        if (latest.current === key) setCheck({ state: 'report', key, report });
      },
      (err: unknown) => {
        if (latest.current !== key) return;
        const errors = importErrors(err);
        setCheck(errors ? { state: 'refused', key, detail: err instanceof Error ? err.message : '', errors, onApply: false } : { state: 'failed', key, error: err });
      },
    );
  };

  const choose = (file: File | undefined) => {
    setPickError(undefined);
    if (!file) return;
    if (file.size === 0) {
      setPickError(`${file.name} is empty.`);
      return;
    }
    if (file.size > MAX_IMPORT_BYTES) {
      setPickError(`${file.name} is ${sizeWords(file.size)}; a file may be up to ${sizeWords(MAX_IMPORT_BYTES)}. Split it, or use the API.`);
      return;
    }
    file.arrayBuffer().then(
      (bytes) => {
        const next = { name: file.name, size: file.size, bytes, serial: ++serial.current };
        setChosen(next);
        setApplyError(undefined);
        dryRun(next, deactivateMissing);
      },
      (err: unknown) => setPickError(`${file.name} could not be read (${err instanceof Error ? err.message : String(err)}). Choose it again.`),
    );
  };

  const toggleDeactivate = (on: boolean) => {
    setDeactivateMissing(on);
    if (chosen) dryRun(chosen, on);
  };

  const apply = () => {
    if (!chosen) return;
    const file = chosen;
    const deactivate = deactivateMissing;
    setApplying(true);
    setApplyError(undefined);
    importPeople(file.bytes, { dryRun: false, deactivateMissing: deactivate }).then(
      (report) => {
        setApplying(false);
        setConfirming(false);
        // What the page showed is no longer what would change: the next check is asked for anew.
        latest.current = '';
        setCheck(undefined);
        setApplied({ name: file.name, report });
      },
      (err: unknown) => {
        setApplying(false);
        const errors = importErrors(err);
        if (errors) {
          // The directory changed since the dry run (someone else imported): the errors go where the dry run's did.
          setConfirming(false);
          setCheck({ state: 'refused', key: keyOf(file, deactivate), detail: err instanceof Error ? err.message : '', errors, onApply: true });
        } else setApplyError(err);
      },
    );
  };

  // The applied report takes the focus once shown (the dialog gave it back to its opener first).
  useEffect(() => {
    if (applied) appliedHeading.current?.focus();
  }, [applied]);
  // A refusal on apply: its errors take the focus (the dialog is gone).
  useEffect(() => {
    if (check?.state === 'refused' && check.onApply) resultHeading.current?.focus();
  }, [check]);

  const current = chosen ? keyOf(chosen, deactivateMissing) : '';
  const shown = check && check.key === current ? check : undefined;
  const ready = shown?.state === 'report' && changes(shown.report) > 0 ? shown.report : undefined;

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setDragging(false);
    choose(e.dataTransfer.files[0]);
  };

  return (
    <Page title="Import people">
      <p>
        Load your organisation from HR’s export as a CSV file. EMS first shows what the file would change — nothing is written then. You apply it after a confirmation, all rows or none. Importing the same file
        again changes nothing.
      </p>

      <section aria-labelledby="import-file-h">
        <h2 id="import-file-h">The file</h2>
        <div
          className={dragging ? 'import-drop dragging' : 'import-drop'}
          onDragOver={(e) => {
            e.preventDefault();
            e.dataTransfer.dropEffect = 'copy';
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          <div className={pickError ? 'field invalid' : 'field'}>
            <label htmlFor={inputId}>CSV file</label>
            <p className="hint" id={`${inputId}-hint`}>
              Choose it, or drop it here. UTF-8, the header first, up to 5 MB; <a href="#import-columns">the columns</a> are listed below.
            </p>
            <input
              id={inputId}
              type="file"
              accept=".csv,text/csv"
              aria-describedby={[`${inputId}-hint`, pickError ? `${inputId}-error` : ''].filter(Boolean).join(' ')}
              aria-invalid={Boolean(pickError)}
              onClick={(e) => {
                // The same file chosen again (fixed in the spreadsheet meanwhile) must be read again: a change, even with the same name.
                e.currentTarget.value = '';
              }}
              onChange={(e) => choose(e.target.files?.[0])}
            />
            {pickError ? (
              <p className="field-error" id={`${inputId}-error`} role="alert">
                {pickError}
              </p>
            ) : null}
          </div>
          {chosen ? (
            <p className="import-chosen">
              Chosen: <strong className="wrap-anywhere">{chosen.name}</strong> <span className="muted">({sizeWords(chosen.size)})</span>
            </p>
          ) : null}
        </div>

        <div className="import-option">
          <label>
            <input type="checkbox" checked={deactivateMissing} onChange={(e) => toggleDeactivate(e.target.checked)} aria-describedby={warningId} />
            <span>People missing from the file become inactive</span>
          </label>
          <p id={warningId} className={deactivateMissing ? 'import-warning on' : 'import-warning'}>
            <strong>Only for HR’s complete export.</strong> Everyone active in the directory who is not in the file becomes inactive and can no longer sign in. Nobody is deleted. The dry run lists them first.
          </p>
        </div>

        {chosen ? (
          <p>
            <button type="button" className="secondary" onClick={() => dryRun(chosen, deactivateMissing)} disabled={shown?.state === 'checking'}>
              Check the file again<span className="visually-hidden"> (dry run of {chosen.name})</span>
            </button>
          </p>
        ) : null}
      </section>

      <div role="status" className="import-status">
        {shown?.state === 'checking' && chosen ? `Checking ${chosen.name}…` : null}
        {shown?.state === 'report' && chosen ? `Dry run of ${chosen.name}: ${changes(shown.report) === 0 ? 'nothing to change' : summary(shown.report, true)}.` : null}
        {shown?.state === 'refused' && chosen ? `${chosen.name} was refused: ${shown.errors.length} ${shown.errors.length === 1 ? 'error' : 'errors'}.` : null}
        {applied ? `Imported ${applied.name}: ${summary(applied.report, false)}.` : null}
      </div>

      {shown?.state === 'failed' ? <ErrorMessage error={shown.error} /> : null}

      {shown?.state === 'refused' ? (
        <section aria-labelledby="import-errors-h" className="import-result">
          <h2 id="import-errors-h" ref={resultHeading} tabIndex={-1}>
            {shown.onApply ? 'The import was refused' : 'The file has errors'}
          </h2>
          <p>
            {shown.detail} Fix {shown.errors.length === 1 ? 'it' : 'them'} in the file and choose it again. Rows are numbered as in a spreadsheet: the header is row 1.
          </p>
          <DataTable label="Errors in the file, by row and column" columns={['Row', 'Column', 'Error']}>
            {shown.errors.map((e, i) => (
              <tr key={i}>
                <td>{e.row}</td>
                <td>{e.column ? <code>{e.column}</code> : <span className="muted">{e.row === 1 ? 'the whole file' : 'the whole row'}</span>}</td>
                <td className="wrap-anywhere">{e.message}</td>
              </tr>
            ))}
          </DataTable>
        </section>
      ) : null}

      {shown?.state === 'report' && chosen ? (
        <section aria-labelledby="import-dry-h" className="import-result">
          <h2 id="import-dry-h" ref={resultHeading} tabIndex={-1}>
            What the file would change
          </h2>
          <p>
            Dry run of <strong className="wrap-anywhere">{chosen.name}</strong> ({people(shown.report.rows)}): nothing was changed.
          </p>
          <ReportView report={shown.report} dry />
          {ready ? (
            <p>
              <button
                type="button"
                onClick={() => {
                  setApplyError(undefined);
                  setConfirming(true);
                }}
              >
                Apply the import…
              </button>
            </p>
          ) : (
            <p className="notice">Nothing to change: every person in the file is already in the directory as the file says.</p>
          )}
        </section>
      ) : null}

      {applied ? (
        <section aria-labelledby="import-applied-h" className="import-result">
          <h2 id="import-applied-h" ref={appliedHeading} tabIndex={-1}>
            Imported
          </h2>
          <p>
            <strong className="wrap-anywhere">{applied.name}</strong> ({people(applied.report.rows)}) is in the directory. Every service that keeps part of it follows within moments.
          </p>
          <ReportView report={applied.report} dry={false} />
        </section>
      ) : null}

      <ConfirmDialog
        open={confirming && ready !== undefined}
        title="Apply this import?"
        confirmLabel="Apply the import"
        danger={(ready?.deactivated.length ?? 0) > 0}
        busy={applying}
        error={applyError}
        onConfirm={apply}
        onCancel={() => setConfirming(false)}
      >
        {ready && chosen ? (
          <>
            <p>
              <strong className="wrap-anywhere">{chosen.name}</strong> changes the directory: {summary(ready, false)}. All of it, or nothing if anything fails.
            </p>
            {ready.deactivated.length > 0 ? (
              <p className="import-warning on">
                <strong>{people(ready.deactivated.length)} become inactive</strong> and can no longer sign in.
              </p>
            ) : null}
          </>
        ) : null}
      </ConfirmDialog>

      <section aria-labelledby="import-columns" className="import-columns">
        <h2 id="import-columns" tabIndex={-1}>
          The file’s columns
        </h2>
        <p>
          The header names the columns, in any order; an unknown column is refused. <em>Required</em>: the column and a value in every row. <em>Column</em>: the header must name it; a cell may be
          empty. The same file works with <code>ems import</code> and the API (<a href="/docs">API documentation</a>).
        </p>
        <DataTable label="The file's columns" caption="The file’s columns" columns={['Column', 'Needed', 'Example', 'Meaning']}>
          {IMPORT_COLUMNS.map((c) => (
            <tr key={c.name}>
              <th scope="row">
                <code>{c.name}</code>
              </th>
              <td>{c.required === 'yes' ? 'Required' : c.required === 'column' ? 'Column' : 'Optional'}</td>
              <td>{c.example}</td>
              <td>{c.meaning}</td>
            </tr>
          ))}
        </DataTable>
      </section>
    </Page>
  );
}

/** "1 to create, 1 to update, 0 to deactivate, 3 unchanged" (dry) or "1 created, …" (applied). */
function summary(r: ImportReport, dry: boolean): string {
  return dry
    ? `${r.created.length} to create, ${r.updated.length} to update, ${r.deactivated.length} to deactivate, ${r.unchanged.length} unchanged`
    : `${r.created.length} created, ${r.updated.length} updated, ${r.deactivated.length} deactivated, ${r.unchanged.length} unchanged`;
}

/** A report: the counts, then who is created, updated (each changed column, before → after) and deactivated. */
function ReportView({ report, dry }: { report: ImportReport; dry: boolean }) {
  const words = dry ? { created: 'To create', updated: 'To update', deactivated: 'To deactivate' } : { created: 'Created', updated: 'Updated', deactivated: 'Deactivated' };
  return (
    <>
      <ul className="import-counts" aria-label={dry ? 'What would change' : 'What changed'}>
        <li>
          {words.created} <strong>{report.created.length}</strong>
        </li>
        <li>
          {words.updated} <strong>{report.updated.length}</strong>
        </li>
        <li className={report.deactivated.length > 0 ? 'import-count-warn' : undefined}>
          {words.deactivated} <strong>{report.deactivated.length}</strong>
        </li>
        <li>
          Unchanged <strong>{report.unchanged.length}</strong>
        </li>
      </ul>
      {report.created.length > 0 ? <PeopleTable title={words.created} people={report.created} /> : null}
      {report.updated.length > 0 ? (
        <>
          <h3>
            {words.updated} ({report.updated.length})
          </h3>
          <DataTable label={`${words.updated}: each changed column, before and after`} columns={['Id', 'Name', 'Changes']}>
            {report.updated.slice(0, SHOWN).map((u) => (
              <tr key={u.id}>
                <td>{u.id}</td>
                <td>{u.name}</td>
                <td>
                  <ul className="plain import-changes">
                    {u.changes.map((c) => (
                      <li key={c.column}>
                        <code>{c.column}</code>: <Value value={c.from} /> <span aria-hidden="true">→</span>
                        <span className="visually-hidden"> becomes</span> <Value value={c.to} />
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </DataTable>
          <More total={report.updated.length} />
        </>
      ) : null}
      {report.deactivated.length > 0 ? <PeopleTable title={words.deactivated} people={report.deactivated} /> : null}
      {report.unchanged.length > 0 ? (
        <details>
          <summary>
            Unchanged ({report.unchanged.length}): their rows match the directory
          </summary>
          <p className="wrap-anywhere">
            {report.unchanged.slice(0, SHOWN).join(', ')}
            {report.unchanged.length > SHOWN ? `, and ${report.unchanged.length - SHOWN} more` : ''}
          </p>
        </details>
      ) : null}
    </>
  );
}

function PeopleTable({ title, people: list }: { title: string; people: ReadonlyArray<{ id: string; name: string }> }) {
  return (
    <>
      <h3>
        {title} ({list.length})
      </h3>
      <DataTable label={title} columns={['Id', 'Name']}>
        {list.slice(0, SHOWN).map((p) => (
          <tr key={p.id}>
            <td>{p.id}</td>
            <td>{p.name}</td>
          </tr>
        ))}
      </DataTable>
      <More total={list.length} />
    </>
  );
}

function More({ total }: { total: number }) {
  return total > SHOWN ? (
    <p className="muted">
      The first {SHOWN} of {total} are shown; the counts are complete.
    </p>
  ) : null;
}

/** A cell's value as the file writes it; an empty one says so. */
function Value({ value }: { value: string }) {
  return value === '' ? <em className="muted">empty</em> : <span className="wrap-anywhere">“{value}”</span>;
}
