import { describe, expect, it } from 'vitest';
import { esc, formatDay, formatSlot, prepareEmail, type PreparedEmail } from './templates.ts';

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

describe('helpers', () => {
  it('when text is escaped, then all five HTML-special characters are replaced', () => {
    expect(esc(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('when a day is not an ISO date, then it is shown as given', () => {
    expect(formatDay('end of March')).toBe('end of March');
    expect(formatDay('2025-02-30')).toBe('2025-02-30');
  });

  it('when a slot spans two days, then both days are written out', () => {
    expect(formatSlot('2025-12-16T09:00:00Z', '2025-12-17T09:00:00Z', 'UTC')).toBe(
      'Tuesday, 16 December 2025 at 09:00 – Wednesday, 17 December 2025 at 09:00 (UTC)',
    );
  });
});
