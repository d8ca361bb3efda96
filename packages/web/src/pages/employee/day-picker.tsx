import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { addDays, isoWeekday } from '../../api/directory.ts';

/**
 * A month calendar that offers only the days one may pick — the employee's working days between `min` and
 * `max` — so a day off cannot be chosen in the first place (the date field beside it still takes typing).
 * The grid pattern of the WAI-ARIA date picker: one cell in the tab order; arrows move by day and week,
 * Page Up/Down by month, Home/End to the week's ends; Enter or Space picks. Days off and days out of range
 * are announced as unavailable and cannot be picked.
 */
export function DayPicker({ value, min, max, workingDays, onPick, label }: { value: string; min: string; max: string; workingDays: readonly number[]; onPick: (day: string) => void; label: string }) {
  const titleId = useId();
  const [focus, setFocus] = useState(() => clamp(value || firstAvailable(min, max, workingDays) || min, min, max));
  const [month, setMonth] = useState(focus.slice(0, 7));
  const grid = useRef<HTMLTableElement>(null);
  const moved = useRef(false);
  useEffect(() => {
    if (!value) return;
    setFocus(value);
    setMonth(value.slice(0, 7));
  }, [value]);
  useEffect(() => {
    // Keyboard moves keep focus on the focused day (not on first render).
    if (!moved.current) return;
    moved.current = false;
    grid.current?.querySelector<HTMLElement>(`[data-day="${focus}"]`)?.focus();
  }, [focus]);

  const available = (d: string) => d >= min && d <= max && workingDays.includes(isoWeekday(d));
  const go = (d: string) => {
    const next = clamp(d, min, max);
    moved.current = true;
    setFocus(next);
    setMonth(next.slice(0, 7));
  };
  /** Another month shown by its button: the focus follows to the same day there (focus stays on the button). */
  const turn = (n: number) => {
    const base = focus.startsWith(month) ? focus : `${month}-01`;
    setMonth(addMonths(`${month}-01`, n).slice(0, 7));
    setFocus(clamp(addMonths(base, n), min, max));
  };
  const onKey = (e: KeyboardEvent<HTMLTableElement>) => {
    const steps: Record<string, () => string> = {
      ArrowLeft: () => addDays(focus, -1),
      ArrowRight: () => addDays(focus, 1),
      ArrowUp: () => addDays(focus, -7),
      ArrowDown: () => addDays(focus, 7),
      PageUp: () => addMonths(focus, -1),
      PageDown: () => addMonths(focus, 1),
      Home: () => addDays(focus, 1 - isoWeekday(focus)),
      End: () => addDays(focus, 7 - isoWeekday(focus)),
    };
    const step = steps[e.key];
    if (step) {
      e.preventDefault();
      go(step());
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      if (available(focus)) onPick(focus);
    }
  };

  const weeks = monthWeeks(month);
  const prevMonth = addMonths(`${month}-01`, -1).slice(0, 7);
  const nextMonth = addMonths(`${month}-01`, 1).slice(0, 7);
  return (
    <div className="day-picker">
      <div className="day-picker-head">
        <button type="button" className="secondary" aria-label={`Previous month, ${monthName(prevMonth)}`} disabled={`${prevMonth}-31` < min} onClick={() => turn(-1)}>
          ‹
        </button>
        <p id={titleId} aria-live="polite">
          <span className="visually-hidden">{label}: </span>
          {monthName(month)}
        </p>
        <button type="button" className="secondary" aria-label={`Next month, ${monthName(nextMonth)}`} disabled={`${nextMonth}-01` > max} onClick={() => turn(1)}>
          ›
        </button>
      </div>
      <table role="grid" aria-labelledby={titleId} ref={grid} onKeyDown={onKey}>
        <thead>
          <tr>
            {WEEKDAYS.map((d) => (
              <th key={d} scope="col" abbr={d}>
                {d.slice(0, 2)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {weeks.map((week) => (
            <tr key={week[0]}>
              {week.map((d) => {
                const inMonth = d.startsWith(month);
                const ok = available(d);
                const chosen = d === value;
                // The focusable day: the focused one when shown, else the month's first available (or first) day.
                const tabbable = d === (focus.startsWith(month) ? focus : (weeks.flat().find((x) => x.startsWith(month) && available(x)) ?? `${month}-01`));
                return (
                  <td
                    key={d}
                    data-day={d}
                    tabIndex={tabbable ? 0 : -1}
                    aria-selected={chosen}
                    aria-disabled={!ok || undefined}
                    aria-label={`${longDay(d)}${ok ? '' : d < min || d > max ? ', not available' : ', not a working day'}${chosen ? ', chosen' : ''}`}
                    className={['day', inMonth ? '' : 'other-month', ok ? 'available' : 'unavailable', chosen ? 'chosen' : ''].filter(Boolean).join(' ')}
                    onFocus={() => setFocus(d)}
                    onClick={() => {
                      moved.current = true;
                      setFocus(d);
                      if (ok) onPick(d);
                    }}
                  >
                    {Number(d.slice(8))}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">Days you cannot pick are struck through. Arrow keys move, Enter picks.</p>
    </div>
  );
}

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

function clamp(d: string, min: string, max: string): string {
  return d < min ? min : d > max ? max : d;
}

function firstAvailable(min: string, max: string, days: readonly number[]): string | undefined {
  for (let d = min; d <= max; d = addDays(d, 1)) if (days.includes(isoWeekday(d))) return d;
  return undefined;
}

/** The same day of another month (the month's last day when it has fewer). */
function addMonths(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const first = new Date(Date.UTC(y, m - 1 + n, 1));
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  first.setUTCDate(Math.min(d, last));
  return first.toISOString().slice(0, 10);
}

/** The weeks (Monday first) that show a month, each seven 'YYYY-MM-DD' days. */
function monthWeeks(month: string): string[][] {
  const first = `${month}-01`;
  let d = addDays(first, 1 - isoWeekday(first));
  const weeks: string[][] = [];
  do {
    const week: string[] = [];
    for (let i = 0; i < 7; i++, d = addDays(d, 1)) week.push(d);
    weeks.push(week);
  } while (d.startsWith(month));
  return weeks;
}

function monthName(month: string): string {
  return new Date(`${month}-01T00:00:00Z`).toLocaleDateString(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' });
}

function longDay(day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
}
