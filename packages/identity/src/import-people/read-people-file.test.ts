import { describe, expect, it } from 'vitest';
import { readPeopleFile, REQUIRED_COLUMNS } from './people-csv.ts';
import { READ_INLINE_BYTES, readPeopleFileOffThread } from './read-people-file.ts';

const HEADER = REQUIRED_COLUMNS.join(',');
const rowOf = (i: number) => `E${i},Person ${i},p${i}@acme.example,Engineer,${i > 1 ? 'E1' : ''},P1,Engineering,London,Europe/London,Mon-Fri,09:00,17:00`;
/** A file over the inline limit: read in a worker thread. */
const large = (bad?: number) =>
  `${HEADER}\r\nP1,Helga Richter,helga@acme.example,HR Partner,,,People,Berlin,Europe/Berlin,Mon-Fri,09:00,17:00\r\n${Array.from({ length: 3_000 }, (_, k) => (k + 1 === bad ? rowOf(k + 1).replace('Europe/London', 'Europe/Londn') : rowOf(k + 1))).join('\r\n')}\r\n`;

// A worker thread loads the contracts before it reads: seconds on a busy 2-core machine.
describe('reading a large people file off the event loop', { timeout: 120_000 }, () => {
  it('when a file over the inline limit is read, then the server thread stays free meanwhile (a timer set before fires before the answer) and the answer is what readPeopleFile says', async () => {
    const text = large();
    expect(text.length).toBeGreaterThan(READ_INLINE_BYTES);
    let timerFired = false;
    setTimeout(() => (timerFired = true), 0);
    const file = await readPeopleFileOffThread(text);
    // Read on this thread, the answer would be ready before any timer could run.
    expect(timerFired).toBe(true);
    expect(file).toEqual(readPeopleFile(text));
    expect(file.ok && file.people.length).toBe(3_001);
  });

  it('when a large file has an error, then it is named by row and column as on the server thread', async () => {
    const text = large(1_234);
    const file = await readPeopleFileOffThread(text);
    expect(file).toEqual({ ok: false, errors: [{ row: 1_236, column: 'timezone', message: expect.stringContaining('is not an IANA time zone') as string }] });
  });

  it('when two large files are read at once, then each gets its own answer', async () => {
    const [a, b] = await Promise.all([readPeopleFileOffThread(large()), readPeopleFileOffThread(large(7))]);
    expect(a.ok).toBe(true);
    expect(b).toMatchObject({ ok: false, errors: [{ row: 9, column: 'timezone' }] });
  });
});
