import { describe, expect, it } from 'vitest';
import { foldByOctets } from './ics-fold.ts';

const lines = (ics: string) => ics.split('\r\n');
const octets = (s: string) => Buffer.byteLength(s, 'utf8');

describe('iCalendar line folding (RFC 5545 §3.1)', () => {
  it('when a line has non-ASCII letters, then no physical line exceeds 75 octets and unfolding gives it back', () => {
    const long = `ATTENDEE;CN="Ådne Ørjasæter-Żółkiewski Ñúñez Çağlar Øvergård":mailto:adne.orjasaeter@acme.example`;
    const folded = foldByOctets(`BEGIN:VCALENDAR\r\n${long}\r\nEND:VCALENDAR`);
    for (const l of lines(folded)) expect(octets(l)).toBeLessThanOrEqual(75);
    expect(folded.replace(/\r\n /g, '')).toBe(`BEGIN:VCALENDAR\r\n${long}\r\nEND:VCALENDAR`);
  });

  it('when a line is folded, then no character is cut in half and continuation lines start with one space', () => {
    const long = `SUMMARY:${'é'.repeat(120)}`;
    const folded = lines(foldByOctets(long));
    expect(folded.length).toBeGreaterThan(1);
    for (const l of folded.slice(1)) expect(l.startsWith(' ')).toBe(true);
    for (const l of folded) expect(l).not.toContain('\uFFFD');
  });

  it('when the library folded by characters (with a tab), then it is refolded by octets', () => {
    const byChars = `DESCRIPTION:${'ü'.repeat(63)}\r\n\t${'ü'.repeat(20)}`;
    for (const l of lines(foldByOctets(byChars))) expect(octets(l)).toBeLessThanOrEqual(75);
  });
});
