import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEvent } from 'ics';
import { calendarInvite, type InviteEvent } from './calendar-invite.ts';
import { foldByOctets } from './ics-fold.ts';

/*
 * EMS writes its invites' iCalendar itself (calendar-invite.ts); the `ics` library, which wrote them before, is
 * the reference: for any invite whose names carry no character a quoted parameter cannot hold (a double quote,
 * a caret or a line break — there `ics` writes an invalid line and EMS RFC 6868's escapes), both write the same
 * bytes, folded by octets.
 */

/** What `ics` wrote for the same invite (calendar-invite.ts before it wrote its own). */
function byIcs(event: InviteEvent): string | undefined {
  const { error, value } = createEvent({
    startInputType: 'utc',
    startOutputType: 'utc',
    endInputType: 'utc',
    endOutputType: 'utc',
    productId: '-//EMS//HR exit interviews//EN',
    method: event.method,
    uid: event.uid,
    sequence: event.sequence,
    // @ts-expect-error `timestamp` (DTSTAMP) is supported by ics but missing from its type declarations.
    timestamp: event.stamp.getTime(),
    start: event.start.getTime(),
    end: event.end.getTime(),
    title: event.summary,
    description: event.description,
    status: event.method === 'CANCEL' ? 'CANCELLED' : 'CONFIRMED',
    busyStatus: 'BUSY',
    organizer: { name: event.organizer.name, email: event.organizer.email },
    attendees: event.attendees.map((a) => ({ name: a.name, email: a.email, rsvp: event.method === 'REQUEST', partstat: 'NEEDS-ACTION', role: 'REQ-PARTICIPANT' })),
  });
  // ics refuses some addresses (its own e-mail rule); those are not compared.
  return error || !value ? undefined : foldByOctets(value);
}

const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).filter((s) => !/["^\r\n]/.test(s));
const person = fc.record({ name, email: fc.emailAddress() });
const instant = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true });
const invite: fc.Arbitrary<InviteEvent> = fc.record({
  method: fc.constantFrom('REQUEST' as const, 'CANCEL' as const),
  uid: fc.uuid().map((u) => `${u}@hr.ems`),
  sequence: fc.nat({ max: 1_000 }),
  start: instant,
  end: instant,
  stamp: instant,
  summary: fc.string({ unit: 'grapheme', maxLength: 200 }),
  description: fc.string({ unit: 'grapheme', maxLength: 400 }),
  organizer: person,
  attendees: fc.array(person, { minLength: 1, maxLength: 3 }),
});

describe('calendar invite, against the ics library', () => {
  it('when any invite is written, then its bytes are those the ics library writes for it', () => {
    let compared = 0;
    fc.assert(
      fc.property(invite, (event) => {
        const reference = byIcs(event);
        if (reference === undefined) return;
        compared++;
        expect(calendarInvite(event)).toBe(reference);
      }),
      { numRuns: 500 },
    );
    // Most generated addresses pass ics' rule: the property compared many invites, not none.
    expect(compared).toBeGreaterThan(250);
  });

  it('when a name holds a double quote, a caret or a line break, then the parameter stays one valid quoted value (RFC 6868)', () => {
    const ics = calendarInvite({
      method: 'REQUEST',
      uid: 'u@hr.ems',
      sequence: 0,
      start: new Date('2026-03-30T07:30:00Z'),
      end: new Date('2026-03-30T08:00:00Z'),
      stamp: new Date('2026-03-26T12:00:00Z'),
      summary: 'Exit interview',
      description: 'x',
      organizer: { name: 'Helga "HR"\nRichter', email: 'helga@acme.example' },
      attendees: [{ name: 'Ada ^ Lovelace', email: 'ada@acme.example' }],
    });
    const unfolded = ics.replace(/\r\n[ \t]/g, '');
    expect(unfolded).toContain(`ORGANIZER;CN="Helga ^'HR^'^nRichter":MAILTO:helga@acme.example\r\n`);
    expect(unfolded).toContain(`;CN="Ada ^^ Lovelace":mailto:ada@acme.example\r\n`);
  });
});
