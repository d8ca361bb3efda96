/** Reads an iCalendar invite (RFC 5545) far enough to say what it is: the event, when, who, and the method. */
export interface Invite {
  method: string | null;
  summary: string | null;
  description: string | null;
  start: string | null;
  end: string | null;
  status: string | null;
  sequence: number | null;
  organizer: string | null;
  attendees: string[];
}

interface Line {
  name: string;
  params: Record<string, string>;
  value: string;
}

function lines(ics: string): Line[] {
  // Unfold: a line starting with a space or tab continues the previous one.
  const unfolded = ics.replace(/\r?\n[ \t]/g, '').split(/\r?\n/);
  return unfolded.flatMap((raw) => {
    const colon = findValueColon(raw);
    if (colon < 0) return [];
    const [name = '', ...paramParts] = raw.slice(0, colon).split(';');
    const params: Record<string, string> = {};
    for (const p of paramParts) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).toUpperCase()] = p.slice(eq + 1).replace(/^"|"$/g, '');
    }
    return [{ name: name.toUpperCase(), params, value: raw.slice(colon + 1) }];
  });
}

/** The colon that starts the value: the first one outside a quoted parameter. */
function findValueColon(s: string): number {
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '"') quoted = !quoted;
    else if (s[i] === ':' && !quoted) return i;
  }
  return -1;
}

const unescape = (v: string) => v.replace(/\\n/gi, '\n').replace(/\\([,;\\])/g, '$1');

/** 20261208T090000Z → an ISO instant; a floating or zoned local time is returned as written (no zone data here). */
function instant(v: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/.exec(v);
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', z] = m;
  return z ? `${y}-${mo}-${d}T${h}:${mi}:${s}Z` : `${y}-${mo}-${d}T${h}:${mi}:${s}`;
}

const person = (l: Line) => {
  const mail = l.value.replace(/^mailto:/i, '');
  return l.params.CN ? `${l.params.CN} <${mail}>` : mail;
};

export function readInvite(ics: string): Invite {
  const all = lines(ics);
  const begin = all.findIndex((l) => l.name === 'BEGIN' && l.value.toUpperCase() === 'VEVENT');
  const endAt = all.findIndex((l, i) => i > begin && l.name === 'END' && l.value.toUpperCase() === 'VEVENT');
  const event = begin >= 0 ? all.slice(begin + 1, endAt < 0 ? undefined : endAt) : [];
  const one = (name: string) => event.find((l) => l.name === name);
  const seq = one('SEQUENCE')?.value;
  return {
    method: all.find((l) => l.name === 'METHOD')?.value ?? null,
    summary: one('SUMMARY') ? unescape(one('SUMMARY')!.value) : null,
    description: one('DESCRIPTION') ? unescape(one('DESCRIPTION')!.value) : null,
    start: one('DTSTART') ? instant(one('DTSTART')!.value) : null,
    end: one('DTEND') ? instant(one('DTEND')!.value) : null,
    status: one('STATUS')?.value ?? null,
    sequence: seq !== undefined && /^\d+$/.test(seq) ? Number(seq) : null,
    organizer: one('ORGANIZER') ? person(one('ORGANIZER')!) : null,
    attendees: event.filter((l) => l.name === 'ATTENDEE').map(person),
  };
}
