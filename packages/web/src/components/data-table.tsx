import type { ReactNode } from 'react';

/**
 * A table of rows in its own scrolling region: on a narrow screen it scrolls sideways inside the region (which
 * a keyboard can focus), not the page. The region is named by `label`, the table by a caption read by screen
 * readers only (`caption`, the label unless given). `columns` are the header cells; a null one is left out.
 */
export function DataTable({
  label,
  caption,
  columns,
  className,
  children,
}: {
  label: string;
  caption?: ReactNode;
  columns: ReadonlyArray<string | null>;
  /** Besides table-wrap (e.g. wrap-anywhere). */
  className?: string;
  /** The body's rows. */
  children: ReactNode;
}) {
  return (
    <div className={className ? `table-wrap ${className}` : 'table-wrap'} tabIndex={0} role="region" aria-label={label}>
      <table>
        <caption className="visually-hidden">{caption ?? label}</caption>
        <thead>
          <tr>
            {columns.map((c) =>
              c === null ? null : (
                <th key={c} scope="col">
                  {c}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
