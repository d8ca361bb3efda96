import { z } from 'zod';
import { notification as api } from '@ems/contracts';
import { headerValue } from './header.ts';

/**
 * The involuntary-exit notices (template 'involuntary-exit-notice'): to the employee, and to their manager
 * about their report. Both say what is a fact once Access reported it — every grant suspended — and when
 * access is revoked, in the employee's time zone (with UTC beside it). Neither says more about the reason
 * than its category: the details stay with HR.
 */

// Self-contained on purpose: domain/templates.ts imports this file (its renderer table), so nothing here imports it back.

/** What a renderer returns (domain/templates.ts's RenderedEmail). */
interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const FOOTER = 'This message was sent automatically by EMS, the Exit Management System. Please do not reply to it.';

const CATEGORIES: Record<api.ExitNoticeEmail['data']['reason'], string> = {
  misconduct: 'misconduct',
  redundancy: 'redundancy',
  performance: 'performance',
  end_of_contract: 'end of contract',
  other: 'other reasons',
};

/** Instant formatters per zone, built once (building one costs far more than using it); bounded. */
const formatters = new Map<string, Intl.DateTimeFormat>();
function inZone(timeZone: string): Intl.DateTimeFormat {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    if (formatters.size >= 256) formatters.clear();
    formatters.set(timeZone, fmt);
  }
  return fmt;
}

const isTimeZone = (tz: string): boolean => {
  try {
    inZone(tz);
    return true;
  } catch {
    return false;
  }
};

const at = (timeZone: string, iso: string) => inZone(timeZone).format(new Date(iso)).replace(' at ', ', ');

/** "Thursday, 3 December 2026, 23:59 (Europe/Berlin time; Thursday, 3 December 2026, 22:59 UTC)". */
export function revokedAt(revokeAt: string, timeZone: string): string {
  const utc = `${at('UTC', revokeAt)} UTC`;
  return timeZone === 'UTC' ? utc : `${at(timeZone, revokeAt)} (${timeZone} time; ${utc})`;
}

const DAY = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
/** "Thursday, 3 December 2026" for 2026-12-03 (a calendar day: no zone). */
const formatDay = (day: string): string => DAY.format(new Date(`${day}T00:00:00Z`));

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const schema = api.ExitNoticeData.extend({
  timezone: api.ExitNoticeData.shape.timezone.refine(isTimeZone, 'must be an IANA time zone, e.g. Europe/Berlin'),
  caseUrl: api.ExitNoticeData.shape.caseUrl.refine((u) => u == null || /^https?:\/\//i.test(u), 'must be an http(s) URL'),
});
type ExitNoticeData = z.infer<typeof schema>;

function render(d: ExitNoticeData): RenderedEmail {
  const who = headerValue(d.recipientName);
  const employee = headerValue(d.employeeName);
  const manager = d.managerName ? headerValue(d.managerName) : null;
  const category = CATEGORIES[d.reason];
  const when = revokedAt(d.revokeAt, d.timezone);
  const day = formatDay(d.lastWorkingDay);
  const toEmployee = d.audience === 'employee';

  const title = toEmployee ? 'Your access has been suspended' : `${employee}'s access has been suspended`;
  const lines = toEmployee
    ? [
        `Your employment is ending: an involuntary exit (${category}). Your last working day is ${day}.`,
        'Your access to every company system has been suspended.',
        `It will be revoked on ${when}.`,
        `If you have questions, please contact ${manager ? `your manager, ${manager}, or ` : ''}HR.`,
      ]
    : [
        `${employee}, who reports to you, is leaving: an involuntary exit (${category}). Their last working day is ${day}.`,
        `${employee}'s access to every company system has been suspended.`,
        `It will be revoked on ${when}.`,
        'Please arrange the handover of their work with HR, and direct any questions about this exit to HR.',
      ];
  const caseUrl = d.caseUrl ?? null;
  const text = [`Dear ${who},`, '', ...lines.flatMap((l) => [l, '']), ...(caseUrl ? [`Case details: ${caseUrl}`, ''] : []), '--', FOOTER].join('\n');
  const html = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>${esc(title)}</title></head>`,
    '<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.5;color:#222">',
    `<p>Dear ${esc(who)},</p>`,
    ...lines.map((l) => `<p>${esc(l)}</p>`),
    ...(caseUrl ? [`<p><a href="${esc(caseUrl)}">Case details</a></p>`] : []),
    `<hr style="border:none;border-top:1px solid #ddd;margin-top:2em"><p style="font-size:12px;color:#777">${esc(FOOTER)}</p>`,
    '</body>',
    '</html>',
  ].join('\n');
  return { subject: headerValue(title).slice(0, 250), text, html };
}

/** The renderer domain/templates.ts registers for 'involuntary-exit-notice'. */
export const exitNoticeRenderer = { schema, render } as const;
