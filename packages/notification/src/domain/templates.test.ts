import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { accessEnds, esc, formatDay, formatInstantUtc, formatSlot, prepareEmail, type PreparedEmail } from './templates.ts';

const notice = {
  managerName: 'Dana Boss',
  employeeName: 'Alice <script>alert(1)</script> & "Co"',
  employeeId: 'E-1001',
  lastWorkingDay: '2025-12-12',
  reason: "New job\n<b>bigger</b> 'role'",
  caseUrl: 'https://ems.acme.example/cases/1?a=1&b=2',
};

const invite = {
  recipientName: 'Alice',
  employeeName: 'Alice Leaver',
  hrPartnerName: 'Hanna HR',
  start: '2025-12-16T09:00:00Z',
  end: '2025-12-16T09:45:00Z',
  timezone: 'Europe/Berlin',
};

function ok(p: PreparedEmail) {
  if (!p.ok) throw new Error(`expected ok, got ${JSON.stringify(p.issues)}`);
  return p;
}

describe('prepareEmail: resignation-manager-notice', () => {
  it('when names and reason contain markup, then the HTML shows them escaped and the text shows them verbatim', () => {
    const { rendered } = ok(prepareEmail('resignation-manager-notice', notice));
    expect(rendered.html).not.toContain('<script>');
    expect(rendered.html).toContain('Alice &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;');
    expect(rendered.html).toContain('New job<br>&lt;b&gt;bigger&lt;/b&gt; &#39;role&#39;');
    expect(rendered.html).toContain('href="https://ems.acme.example/cases/1?a=1&amp;b=2"');
    expect(rendered.text).toContain('Alice <script>alert(1)</script> & "Co" (employee ID E-1001) has resigned.');
    expect(rendered.text).toContain('Friday, 12 December 2025');
    expect(rendered.text).toContain('Dear Dana Boss,');
  });

  it('when a name holds a line break, then the subject stays one line', () => {
    const { rendered } = ok(prepareEmail('resignation-manager-notice', { ...notice, employeeName: 'Eve\r\nBcc: x@y' }));
    expect(rendered.subject).toBe('Resignation: Eve Bcc: x@y, last working day Friday, 12 December 2025');
  });

  it('when the optional reason and link are absent, then their lines are left out', () => {
    const { rendered } = ok(prepareEmail('resignation-manager-notice', { ...notice, reason: null, caseUrl: undefined }));
    expect(rendered.text).not.toContain('Reason given');
    expect(rendered.html).not.toContain('<a ');
  });

  it('when a field is missing or the link is not http(s), then the issues name the data path', () => {
    const { managerName: _omit, ...rest } = notice;
    const missing = prepareEmail('resignation-manager-notice', rest);
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.issues.map((i) => i.path)).toEqual(['data.managerName']);

    const script = prepareEmail('resignation-manager-notice', { ...notice, caseUrl: 'javascript:alert(1)' });
    expect(!script.ok && script.issues.map((i) => i.path)).toEqual(['data.caseUrl']);
  });
});

describe('prepareEmail: exit interview', () => {
  it('when the invite goes to the employee, the HR partner or someone else, then the first line fits the reader', () => {
    const line = (recipientName: string) => {
      const { rendered } = ok(prepareEmail('exit-interview-invite', { ...invite, recipientName }));
      return rendered.text.split('\n')[2];
    };
    expect(line('Alice Leaver')).toBe('Your exit interview with Hanna HR (HR) has been scheduled.');
    expect(line('Hanna HR')).toBe('An exit interview with Alice Leaver has been scheduled for you.');
    expect(line('Dana Boss')).toBe('An exit interview for Alice Leaver has been scheduled with Hanna HR (HR).');
  });

  it('when the HR partner <b>name</b> holds markup, then the invite HTML escapes it', () => {
    const { rendered } = ok(prepareEmail('exit-interview-invite', { ...invite, hrPartnerName: '<b>Hanna</b>' }));
    expect(rendered.html).toContain('with &lt;b&gt;Hanna&lt;/b&gt; (HR)');
    expect(rendered.html).not.toContain('<b>Hanna</b>');
  });

  it('when an invite is rendered, then the time is shown in the recipient zone', () => {
    const { rendered } = ok(prepareEmail('exit-interview-invite', invite));
    expect(rendered.text).toContain('When: Tuesday, 16 December 2025, 10:00–10:45 (Europe/Berlin)');
    expect(rendered.subject).toBe('Exit interview: Alice Leaver, Tue, 16 Dec 2025, 10:00–10:45');
  });

  it('when a cancellation is rendered, then the subject says so', () => {
    const { rendered } = ok(prepareEmail('exit-interview-cancelled', { ...invite, timezone: 'America/New_York' }));
    expect(rendered.subject).toBe('Cancelled: exit interview for Alice Leaver');
    expect(rendered.text).toContain('The exit interview for Alice Leaver with Hanna HR (HR), planned for Tuesday, 16 December 2025, 04:00–04:45 (America/New_York), has been cancelled.');
  });

  it('when the zone is unknown or the end is not after the start, then the data is refused', () => {
    const zone = prepareEmail('exit-interview-invite', { ...invite, timezone: 'Mars/Olympus' });
    expect(!zone.ok && zone.issues.map((i) => i.path)).toEqual(['data.timezone']);
    const backwards = prepareEmail('exit-interview-invite', { ...invite, end: invite.start });
    expect(!backwards.ok && backwards.issues.map((i) => i.path)).toEqual(['data.end']);
  });
});

const decision = {
  recipientName: 'Dana Boss',
  audience: 'manager',
  employeeName: 'Alice Leaver',
  decision: 'exit_confirmed',
  lastWorkingDay: '2025-12-12',
  // The midnight that ends 12 December in Europe/Berlin (UTC+01:00 in winter).
  revokeAt: '2025-12-12T23:00:00.000Z',
  note: null,
  caseUrl: 'https://ems.acme.example/cases/1',
};

const followUp = {
  recipientName: 'Hanna HR',
  level: 'reminder',
  milestone: 'interview_scheduled',
  employeeName: 'Alice Leaver',
  hrPartnerName: 'Hanna HR',
  dueAt: '2025-12-16T09:00:00Z',
  caseUrl: 'https://ems.acme.example/cases/1',
};

describe('prepareEmail: resignation-decision-notice', () => {
  it('when the exit is confirmed, then the manager is told the last working day, that access ends at the end of it, and to plan the handover', () => {
    const { rendered } = ok(prepareEmail('resignation-decision-notice', decision));
    expect(rendered.subject).toBe('Exit confirmed: Alice Leaver, last working day Friday, 12 December 2025');
    expect(rendered.text).toContain('Dear Dana Boss,');
    expect(rendered.text).toContain('HR has confirmed the exit of Alice Leaver. Their last working day is Friday, 12 December 2025.');
    expect(rendered.text).toContain("Alice Leaver's access to company systems ends at the end of that day (midnight, UTC+01:00).");
    expect(rendered.text).toContain("Please make sure Alice Leaver's work is handed over before then.");
    expect(rendered.text).toContain('Case details: https://ems.acme.example/cases/1');
    expect(rendered.html).toContain('<a href="https://ems.acme.example/cases/1">View the case</a>');
  });

  it('when the exit is confirmed, then the employee is addressed in the second person', () => {
    const { rendered } = ok(prepareEmail('resignation-decision-notice', { ...decision, audience: 'employee', recipientName: 'Alice Leaver' }));
    expect(rendered.subject).toBe('Your exit is confirmed: last working day Friday, 12 December 2025');
    expect(rendered.text).toContain('Dear Alice Leaver,');
    expect(rendered.text).toContain('HR has confirmed your exit. Your last working day is Friday, 12 December 2025.');
    expect(rendered.text).toContain('Your access to company systems ends at the end of that day (midnight, UTC+01:00).');
    expect(rendered.text).not.toContain('Their last working day');
  });

  it('when the employee is retained or withdrew, then each audience reads its own wording and nothing about a last day', () => {
    const render = (d: string, audience: string) => ok(prepareEmail('resignation-decision-notice', { ...decision, decision: d, audience, lastWorkingDay: null, revokeAt: null })).rendered;
    const retainedManager = render('retained', 'manager');
    const retainedEmployee = render('retained', 'employee');
    const withdrawnManager = render('withdrawn', 'manager');
    const withdrawnEmployee = render('withdrawn', 'employee');
    expect([retainedManager.subject, retainedEmployee.subject, withdrawnManager.subject, withdrawnEmployee.subject]).toEqual([
      'Resignation retained: Alice Leaver stays',
      'Your resignation: you are staying',
      'Resignation withdrawn: Alice Leaver',
      'Your resignation has been withdrawn',
    ]);
    expect(retainedManager.text).toContain('Alice Leaver is staying: HR has recorded the decision to retain them');
    expect(retainedEmployee.text).toContain('HR has recorded that you are staying with us: your resignation is closed.');
    expect(withdrawnManager.text).toContain('Alice Leaver has withdrawn their resignation');
    expect(withdrawnEmployee.text).toContain('Your resignation has been withdrawn, as you asked');
    expect(retainedManager.text).toContain("Alice Leaver's access to critical systems, suspended during the exit process, is being restored");
    expect(withdrawnEmployee.text).toContain('Your access to critical systems, suspended during the exit process, is being restored');
    for (const r of [retainedManager, retainedEmployee, withdrawnManager, withdrawnEmployee]) expect(r.text).not.toMatch(/last working day/i);
  });

  it('when names and the note hold markup, then the HTML escapes them and the text keeps them verbatim', () => {
    const { rendered } = ok(
      prepareEmail('resignation-decision-notice', { ...decision, employeeName: 'Eve <script>x</script>', recipientName: 'Dana "D" & Co', note: "Thanks\n<b>for</b> 'all'" }),
    );
    expect(rendered.html).not.toContain('<script>');
    expect(rendered.html).not.toContain('<b>for</b>');
    expect(rendered.html).toContain('Eve &lt;script&gt;x&lt;/script&gt;');
    expect(rendered.html).toContain('Dear Dana &quot;D&quot; &amp; Co,');
    expect(rendered.html).toContain('Thanks<br>&lt;b&gt;for&lt;/b&gt; &#39;all&#39;');
    expect(rendered.text).toContain("Note from HR:\nThanks\n<b>for</b> 'all'");
    expect(rendered.subject).toBe('Exit confirmed: Eve <script>x</script>, last working day Friday, 12 December 2025');
  });

  it('when the exit is confirmed without a last working day, or with a link that is not http(s), then the data is refused', () => {
    const noDay = prepareEmail('resignation-decision-notice', { ...decision, lastWorkingDay: null });
    expect(!noDay.ok && noDay.issues.map((i) => i.path)).toEqual(['data.lastWorkingDay']);
    const link = prepareEmail('resignation-decision-notice', { ...decision, caseUrl: 'javascript:alert(1)' });
    expect(!link.ok && link.issues.map((i) => i.path)).toEqual(['data.caseUrl']);
    const audience = prepareEmail('resignation-decision-notice', { ...decision, audience: 'hr' });
    expect(!audience.ok && audience.issues.map((i) => i.path)).toEqual(['data.audience']);
  });
});

describe('prepareEmail: exit-follow-up', () => {
  it('when a reminder goes to the HR partner, then it names what is missing, when it was due (UTC) and what to do', () => {
    const { rendered } = ok(prepareEmail('exit-follow-up', followUp));
    expect(rendered.subject).toBe('Reminder: exit interview of Alice Leaver not yet scheduled');
    expect(rendered.text).toContain('Dear Hanna HR,');
    expect(rendered.text).toContain('This is a reminder: the exit interview of Alice Leaver is not yet scheduled. It was due by Tuesday, 16 December 2025, 09:00 UTC.');
    expect(rendered.text).toContain('Please schedule the exit interview with Alice Leaver as soon as possible.');
  });

  it('when an escalation goes to the HR lead, then it says the reminder to the HR partner was not acted on', () => {
    const { rendered } = ok(prepareEmail('exit-follow-up', { ...followUp, level: 'escalation', milestone: 'decision', recipientName: 'Lena Lead' }));
    expect(rendered.subject).toBe('Escalation: no decision yet on the resignation of Alice Leaver');
    expect(rendered.text).toContain('Dear Lena Lead,');
    expect(rendered.text).toContain(
      'No decision has been recorded yet on the resignation of Alice Leaver. It was due by Tuesday, 16 December 2025, 09:00 UTC, and a reminder to Hanna HR (HR partner) was not acted on.',
    );
    expect(rendered.text).not.toContain('This is a reminder');
  });

  it('when the milestone is the interview being held, then the wording says so', () => {
    const { rendered } = ok(prepareEmail('exit-follow-up', { ...followUp, milestone: 'interview_held' }));
    expect(rendered.subject).toBe('Reminder: exit interview of Alice Leaver not yet held');
    expect(rendered.text).toContain('the exit interview of Alice Leaver has not been held yet');
  });

  it('when names hold markup, then the HTML escapes them; an unknown level is refused', () => {
    const { rendered } = ok(prepareEmail('exit-follow-up', { ...followUp, hrPartnerName: '<i>Hanna</i>', level: 'escalation' }));
    expect(rendered.html).toContain('a reminder to &lt;i&gt;Hanna&lt;/i&gt; (HR partner)');
    expect(rendered.html).not.toContain('<i>Hanna</i>');
    const level = prepareEmail('exit-follow-up', { ...followUp, level: 'final-warning' });
    expect(!level.ok && level.issues.map((i) => i.path)).toEqual(['data.level']);
  });
});

describe('helpers', () => {
  it('when access ends at the midnight closing the last day, then the offset is read back; any other instant is shown in UTC', () => {
    expect(accessEnds('2026-07-31', '2026-07-31T22:00:00Z')).toBe('at the end of that day (midnight, UTC+02:00)');
    expect(accessEnds('2026-07-31', '2026-08-01T04:00:00Z')).toBe('at the end of that day (midnight, UTC-04:00)');
    expect(accessEnds('2026-07-31', '2026-07-31T18:30:00Z')).toBe('at the end of that day (midnight, UTC+05:30)');
    expect(accessEnds('2026-07-31', '2026-08-01T00:00:00Z')).toBe('at the end of that day (midnight, UTC)');
    expect(accessEnds('2026-07-31', '2026-07-31T12:34:00Z')).toBe('on Friday, 31 July 2026, 12:34 UTC');
    expect(accessEnds('2026-07-31', null)).toBe('at the end of that day');
    expect(formatInstantUtc('2025-12-16T09:00:00+01:00')).toBe('Tuesday, 16 December 2025, 08:00 UTC');
  });

  it('when text is escaped, then all five HTML-special characters are replaced', () => {
    expect(esc(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('when a day is not an ISO date, then it is shown as given', () => {
    expect(formatDay('end of March')).toBe('end of March');
    expect(formatDay('2025-02-30')).toBe('2025-02-30');
  });

  it('when the same slots are written again and again, in several zones and both styles, then each reads as ICU writes it afresh', () => {
    // Few instants and zones, so that keys repeat and differ by one part only: a remembered slot must never
    // answer for another zone, style or instant.
    const zones = ['UTC', 'Europe/Berlin', 'Asia/Kolkata', 'America/New_York', 'Pacific/Chatham'];
    const instants = ['2025-12-16T09:00:00Z', '2025-12-16T10:00:00+01:00', '2025-12-16T09:45:00Z', '2026-03-29T00:30:00Z', '2026-03-29T23:15:00Z', '2026-11-01T05:00:00Z'];
    const fresh = (start: string, end: string, timeZone: string, short: boolean): string => {
      const range = new Intl.DateTimeFormat('en-GB', {
        timeZone,
        weekday: short ? 'short' : 'long',
        day: 'numeric',
        month: short ? 'short' : 'long',
        year: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      })
        .formatRange(new Date(start), new Date(end))
        .replace(/[\u2009\u202f]/g, ' ');
      return short ? range : `${range} (${timeZone})`;
    };
    fc.assert(
      fc.property(
        fc.array(fc.record({ start: fc.constantFrom(...instants), minutes: fc.constantFrom(30, 45, 60, 24 * 60), zone: fc.constantFrom(...zones), short: fc.boolean() }), { minLength: 1, maxLength: 30 }),
        (slots) => {
          for (const { start, minutes, zone, short } of slots) {
            const end = new Date(Date.parse(start) + minutes * 60_000).toISOString();
            expect(formatSlot(start, end, zone, short)).toBe(fresh(start, end, zone, short));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('when a slot spans two days, then both days are written out', () => {
    expect(formatSlot('2025-12-16T09:00:00Z', '2025-12-17T09:00:00Z', 'UTC')).toBe(
      'Tuesday, 16 December 2025 at 09:00 – Wednesday, 17 December 2025 at 09:00 (UTC)',
    );
  });
});
