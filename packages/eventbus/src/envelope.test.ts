import { describe, expect, it } from 'vitest';
import { childTraceparent, createEvent, newTraceparent } from './envelope.ts';

const W3C = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('trace context of the events', () => {
  it('when many traces are started (more than one pool of random bytes), then each is W3C-shaped, and no trace or span id repeats or is all zeros', () => {
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const m = W3C.exec(newTraceparent());
      expect(m).not.toBeNull();
      const [, trace, span] = m!;
      expect(trace).not.toMatch(/^0+$/);
      expect(span).not.toMatch(/^0+$/);
      traces.add(trace!);
      spans.add(span!);
    }
    expect(traces.size).toBe(2_000);
    expect(spans.size).toBe(2_000);
  });

  it('when an event continues a trace, then it keeps the trace id and flags with a span id of its own; a malformed parent starts a new trace', () => {
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const children = Array.from({ length: 300 }, () => childTraceparent(parent));
    for (const child of children) expect(child).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(new Set(children.map((c) => c.split('-')[2])).size).toBe(300);
    expect(children.map((c) => c.split('-')[2])).not.toContain('b7ad6b7169203331');

    const fresh = childTraceparent('not a traceparent');
    expect(fresh).toMatch(W3C);
    expect(createEvent({ type: 't', source: 's', subject: 'x', correlationId: 'c', data: {}, traceparent: parent }).traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-/);
    expect(createEvent({ type: 't', source: 's', subject: 'x', correlationId: 'c', data: {} }).traceparent).toMatch(W3C);
  });
});
