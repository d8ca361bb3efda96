import { useLayoutEffect, useRef, useState } from 'react';

/** One column of the data: drawn as a bar series, or only in the table. */
export interface Column {
  key: string;
  label: string;
  drawn: boolean;
}

export interface Row {
  key: string;
  label: string;
  values: Record<string, number>;
}

/** The chart's width follows its box (text stays at its size instead of scaling with a viewBox). */
function useWidth(initial: number) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(initial);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(240, Math.floor(el.clientWidth)));
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return { ref, width };
}

/** 0, a round step, …: about five gridlines whatever the largest value. */
function ticks(max: number): number[] {
  const rough = Math.max(1, max) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? magnitude * 10);
  const out: number[] = [];
  for (let v = 0; v <= Math.max(max, step); v += step) out.push(v);
  return out;
}

const BAR = 14;
const GAP = 12;
const TOP = 22;
const FONT = 13;

/**
 * A horizontal bar chart drawn by hand in SVG (no chart library: the bundle budget), with its data as a
 * table right after it: the picture is one image with a summary for screen readers, and the table holds
 * every number. Series differ by fill pattern and by the legend's words, never by colour alone; each bar
 * carries its value as text.
 */
export function BarChart({ id, labelledBy, caption, summary, rowHeader, columns, rows }: { id: string; labelledBy: string; caption: string; summary: string; rowHeader: string; columns: readonly Column[]; rows: readonly Row[] }) {
  const { ref, width } = useWidth(640);
  const drawn = columns.filter((c) => c.drawn);
  const max = Math.max(0, ...rows.flatMap((r) => drawn.map((c) => r.values[c.key] ?? 0)));
  const grid = ticks(max);
  const top = grid[grid.length - 1] ?? 1;
  const labelWidth = Math.min(170, Math.round(width * 0.34));
  const plotLeft = labelWidth + 8;
  const plotWidth = Math.max(40, width - plotLeft - 36);
  const rowHeight = drawn.length * BAR + GAP;
  const height = TOP + rows.length * rowHeight + 4;
  const x = (v: number) => plotLeft + (v / top) * plotWidth;
  const maxChars = Math.max(6, Math.floor(labelWidth / 7.2));
  const fit = (s: string) => (s.length > maxChars ? `${s.slice(0, maxChars - 1)}…` : s);

  return (
    <figure className="hr-chart" aria-labelledby={labelledBy}>
      <ul className="hr-legend" aria-hidden="true">
        {drawn.map((c, i) => (
          <li key={c.key}>
            <svg width="18" height="14" focusable="false">
              <rect x="0.75" y="0.75" width="16.5" height="12.5" className={`hr-series-${i}`} fill={i === 1 ? `url(#${id}-hatch)` : undefined} />
            </svg>
            {c.label}
          </li>
        ))}
      </ul>
      <div ref={ref} className="hr-chart-box">
        <svg width={width} height={height} role="img" aria-label={summary} focusable="false">
          <defs>
            <pattern id={`${id}-hatch`} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
              <rect width="6" height="6" fill="#ffffff" />
              <rect width="3" height="6" className="hr-hatch" />
            </pattern>
          </defs>
          {grid.map((t) => (
            <g key={t}>
              <line x1={x(t)} x2={x(t)} y1={TOP - 4} y2={height - 4} className="hr-grid" />
              <text x={x(t)} y={TOP - 8} textAnchor="middle" className="hr-tick">
                {t}
              </text>
            </g>
          ))}
          {rows.map((r, ri) => {
            const y0 = TOP + ri * rowHeight + GAP / 2;
            return (
              <g key={r.key}>
                <text x={labelWidth} y={y0 + (drawn.length * BAR) / 2 + FONT / 2 - 2} textAnchor="end" className="hr-label">
                  {fit(r.label)}
                </text>
                {drawn.map((c, si) => {
                  const v = r.values[c.key] ?? 0;
                  const y = y0 + si * BAR;
                  return (
                    <g key={c.key}>
                      {v > 0 ? <rect x={plotLeft} y={y + 1} width={Math.max(2, x(v) - plotLeft)} height={BAR - 2} className={`hr-series-${si}`} fill={si === 1 ? `url(#${id}-hatch)` : undefined} /> : null}
                      <text x={x(v) + 4} y={y + BAR - 3} className="hr-value">
                        {v}
                      </text>
                    </g>
                  );
                })}
              </g>
            );
          })}
        </svg>
      </div>
      {/* Focusable: at 375 px the table scrolls sideways, and a keyboard must be able to scroll it. */}
      <div className="table-wrap" tabIndex={0} role="region" aria-label={caption}>
        <table>
          <caption>{caption}</caption>
          <thead>
            <tr>
              <th scope="col">{rowHeader}</th>
              {columns.map((c) => (
                <th scope="col" key={c.key} className="num">
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <th scope="row">{r.label}</th>
                {columns.map((c) => (
                  <td key={c.key} className="num">
                    {r.values[c.key] ?? 0}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
