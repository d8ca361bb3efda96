import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { events } from '@ems/contracts';
import { buildAsyncApi } from './asyncapi.ts';

const CHECKED_IN = path.resolve(import.meta.dirname, '../../../../docs/asyncapi.json');

describe('AsyncAPI document', () => {
  const doc = buildAsyncApi() as {
    asyncapi: string;
    channels: Record<string, { address: string }>;
    operations: Record<string, { action: string; channel: { $ref: string } }>;
    components: { messages: Record<string, { payload: { properties: Record<string, unknown>; required?: string[] } }> };
  };

  it('when generated, then every event type has a channel at its type name, a sender and a CloudEvents payload', () => {
    expect(doc.asyncapi).toBe('3.0.0');
    const addresses = Object.values(doc.channels).map((c) => c.address);
    expect(addresses.sort()).toEqual(Object.values(events.EventTypes).sort());
    for (const [name, channel] of Object.entries(doc.channels)) {
      const sends = Object.values(doc.operations).filter((o) => o.action === 'send' && o.channel.$ref === `#/channels/${name}`);
      expect(sends, channel.address).toHaveLength(1);
      const payload = doc.components.messages[name]!.payload;
      expect(payload.required).toEqual(expect.arrayContaining(['specversion', 'id', 'source', 'type', 'subject', 'time', 'correlationid', 'traceparent']));
      expect(payload.properties.data).toBeTypeOf('object');
    }
    const receivers = Object.keys(doc.operations).filter((k) => k.includes('.receive.ResignationSubmittedV1'));
    expect(receivers.map((r) => r.split('.')[0]).sort()).toEqual(['access', 'hr', 'notification']);
  });

  it('when the schemas change, then docs/asyncapi.json must be regenerated (npm run docs:asyncapi)', () => {
    const checkedIn: unknown = JSON.parse(readFileSync(CHECKED_IN, 'utf8'));
    expect(checkedIn).toEqual(JSON.parse(JSON.stringify(doc)));
  });
});
