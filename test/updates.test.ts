/**
 * Live updates (GET /api/updates): a server-sent events stream of the case changes the caller may read —
 * real EMS, real PostgreSQL (the changes reach the stream through the database's NOTIFY), real sign-in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg, type Employee } from '@ems/demo-org';
import { browserSession } from '@ems/identity/testing';
import { waitFor } from '@ems/platform/testing';
import { updates } from '@ems/contracts';
import { HR_LEAD, http, OPERATOR, startAcceptanceEms, tokenFor, type AcceptanceEnv } from './acceptance/harness.ts';

const org = demoOrg();
const admins = new Set(org.roleAssignments.map((a) => a.personId));
const isManager = (id: string) => org.employees.some((e) => e.managerId === id);
const plain = (e: Employee) => e.managerId !== null && !isManager(e.id) && !admins.has(e.id);
/** Three employees of one HR partner (A, a marker, and one for the employee's own stream), one of another partner (B). */
const PARTNER = 'hrp-berlin';
const [A, MARKER, OWN, , LAST] = org.employees.filter((e) => e.hrPartnerId === PARTNER && plain(e));
const B = org.employees.find((e) => e.hrPartnerId !== PARTNER && plain(e))!;

interface SseEvent {
  event: string;
  data: unknown;
}

/** An open stream: the events read so far (parsed as EventSource would), and a way to close it. */
interface Stream {
  status: number;
  contentType: string;
  events: SseEvent[];
  /** Everything received, comments and all. */
  text(): string;
  close(): void;
}

async function openStream(base: string, headers: Record<string, string>): Promise<Stream> {
  const abort = new AbortController();
  const res = await fetch(`${base}${updates.UpdatesPaths.stream}`, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: SseEvent[] = [];
  let raw = '';
  let buffer = '';
  if (res.ok && res.body) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          raw += value;
          buffer += value;
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const lines = block.split('\n');
            const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
            const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
            if (event) events.push({ event, data: JSON.parse(data) as unknown });
          }
        }
      } catch {
        // aborted
      }
    })();
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', events, text: () => raw, close: () => abort.abort() };
}

const caseEvents = (s: Stream, id: string) => s.events.filter((e) => e.event === 'case' && (e.data as updates.CaseUpdate).resignationId === id).map((e) => e.data as updates.CaseUpdate);

describe('live updates', () => {
  let env: AcceptanceEnv;
  let base: string;
  const streams: Stream[] = [];
  const track = (s: Stream) => (streams.push(s), s);

  beforeAll(async () => {
    env = await startAcceptanceEms('orchestration', 'updates');
    base = env.base;
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await env?.stop();
  });

  it("when an HR partner follows the stream in the browser and two employees resign — one theirs, one another partner's — then they see exactly their own employee's case", async () => {
    const partner = track(await openStream(base, { cookie: await browserSession(base, PARTNER) }));
    expect(partner.status).toBe(200);
    expect(partner.contentType).toContain('text/event-stream');
    await waitFor(() => (partner.text().includes(': connected') ? true : undefined), 'the stream to open');
    expect(partner.text()).toMatch(/^retry: \d+\n/);

    // B first: its notification is committed (and delivered) before A's.
    const b = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: B.id, reason: 'other partner' });
    const a = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: A!.id, reason: 'mine' });
    expect([b.status, a.status]).toEqual([201, 201]);

    // A's case as it goes: opened, then settled once its three reactions are done.
    await waitFor(() => (caseEvents(partner, a.body.id).some((e) => e.status === 'awaiting_decision') ? true : undefined), "A's case to reach awaiting_decision on the stream", 60_000);
    expect(caseEvents(partner, a.body.id)[0]).toMatchObject({ resignationId: a.body.id, status: 'in_progress' });
    for (const e of caseEvents(partner, a.body.id)) expect(Number.isNaN(Date.parse(e.updatedAt))).toBe(false);

    // B's case settles too; then a marker case of the partner's: once the marker is on the stream, every change of B's made before it would be too.
    await waitFor(async () => ((await http<{ status: string }>(base, 'GET', `/api/resignations/${b.body.id}`)).body.status !== 'in_progress' ? true : undefined), "B's case to settle", 60_000);
    const marker = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: MARKER!.id });
    await waitFor(() => (caseEvents(partner, marker.body.id).length ? true : undefined), 'the marker case on the stream');
    expect(caseEvents(partner, b.body.id)).toEqual([]);
    expect(partner.text()).not.toContain(b.body.id);

    // Task 1 by the way: the manager's email links to the app's page of the case, on the public URL.
    const publicUrl = env.ems.auth.settings.publicUrl;
    const notice = env.smtp.messages.find((m) => m.text?.includes(a.body.id));
    expect(notice?.text).toContain(`${publicUrl}/cases/${a.body.id}`);
    expect(notice?.text).not.toContain('/api/resignations/');
  }, 120_000);

  it('when an employee follows the stream with a bearer token, then they see their own case and not the others', async () => {
    const own = track(await openStream(base, { authorization: `Bearer ${await tokenFor(base, OWN!.id)}` }));
    expect(own.status).toBe(200);
    await waitFor(() => (own.text().includes(': connected') ? true : undefined), 'the stream to open');
    const other = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: org.employees.find((e) => e.hrPartnerId === PARTNER && plain(e) && ![A, MARKER, OWN].includes(e))!.id });
    const mine = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: OWN!.id });
    await waitFor(() => (caseEvents(own, mine.body.id).length ? true : undefined), 'their own case on the stream');
    expect(caseEvents(own, other.body.id)).toEqual([]);
    expect(own.events.every((e) => e.event === 'case' && caseEvents(own, mine.body.id).includes(e.data as updates.CaseUpdate))).toBe(true);
  }, 60_000);

  it('when an event is dead-lettered, then the operator hears of it on the stream and the HR lead does not', async () => {
    const operator = track(await openStream(base, { authorization: `Bearer ${await tokenFor(base, OPERATOR)}` }));
    const lead = track(await openStream(base, { authorization: `Bearer ${await tokenFor(base, HR_LEAD)}` }));
    await waitFor(() => (operator.text().includes(': connected') && lead.text().includes(': connected') ? true : undefined), 'both streams to open');
    const subscriber = env.ems.bus.subscribers()[0]!;
    await env.ems.bus.injectRaw(subscriber, 'not a cloud event');
    const letter = await waitFor(() => operator.events.find((e) => e.event === 'dead-letter')?.data as updates.DeadLetterUpdate | undefined, 'the dead letter on the operator\'s stream');
    expect(letter).toMatchObject({ subscriber });
    expect(letter.reason.length).toBeGreaterThan(0);
    // A case change after it: once the HR lead's stream shows that, it would have shown the dead letter before it.
    const marker = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: LAST!.id });
    await waitFor(() => (caseEvents(lead, marker.body.id).length ? true : undefined), "the marker case on the HR lead's stream");
    expect(lead.events.filter((e) => e.event === 'dead-letter')).toEqual([]);
  }, 60_000);

  it('when the last stream closes, then the process stops asking the database to announce changes (a NOTIFY costs every commit)', async () => {
    const listeners = async () => (await env.ems.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM ems.live_listeners WHERE expires_at > now()')).rows[0]!.n;
    const s = track(await openStream(base, { authorization: `Bearer ${await tokenFor(base, HR_LEAD)}` }));
    await waitFor(() => (s.text().includes(': connected') ? true : undefined), 'the stream to open');
    expect(await listeners()).toBe(1);
    for (const open of streams) open.close();
    await waitFor(async () => ((await listeners()) === 0 ? true : undefined), 'the process to stop listening once no stream is open');
  });

  it('when the API document describes it, then as a text/event-stream answer', async () => {
    const doc = (await http<{ paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> }>(base, 'GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths['/api/updates']!.get!.responses['200']!.content ?? {})).toEqual(['text/event-stream']);
  });

  it('when a client does not ask for an event stream, has no credential, or opens too many, then it is refused in problem+json and nothing hangs', async () => {
    const json = await http(base, 'GET', '/api/updates');
    expect(json.status).toBe(406);
    expect(json.contentType).toContain('application/problem+json');

    const anonymous = await fetch(`${base}/api/updates`, { headers: { accept: 'text/event-stream' } });
    expect(anonymous.status).toBe(401);

    const token = await tokenFor(base, B.id);
    const five = await Promise.all(Array.from({ length: updates.MAX_UPDATE_STREAMS_PER_IDENTITY }, async () => track(await openStream(base, { authorization: `Bearer ${token}` }))));
    expect(five.map((s) => s.status)).toEqual(five.map(() => 200));
    const sixth = await fetch(`${base}/api/updates`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` } });
    expect(sixth.status).toBe(429);
    expect(sixth.headers.get('content-type')).toContain('application/problem+json');
    expect(sixth.headers.get('retry-after')).toBeTruthy();
    await sixth.body?.cancel();

    // Closing one frees its place.
    five[0]!.close();
    await waitFor(async () => {
      const again = await openStream(base, { authorization: `Bearer ${token}` });
      if (again.status === 200) return track(again);
      return undefined;
    }, 'a place to be free once a stream closed');
  }, 60_000);
});
