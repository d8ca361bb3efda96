import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { auditHash, canonicalAuditContent, canonicalJson, chainRows, checkRow, firstBreak, CHAIN_BREAKS, type AuditContent, type ChainedRow } from './chain.ts';

const hrPartner = { id: 'hrp-berlin', kind: 'person', name: 'Hanna Partner', role: 'hr_partner', client: 'ems-web' } as const;
const ems = { id: 'ems', kind: 'service', name: null, role: 'service', client: 'ems-service-ems' } as const;

const row = (over: Partial<AuditContent> = {}): AuditContent => ({
  at: new Date('2026-03-02T09:00:00.000Z'),
  employee_id: 'E1001',
  grant_id: 'g-1',
  system_id: 'vpn',
  from_status: 'active',
  to_status: 'suspended',
  reason: 'resignation submitted',
  hold_id: '0f8b5d2e-7c1a-4c3e-9d2b-6a1f0e9c8b7a',
  actor: ems,
  on_behalf_of: null,
  ...over,
});

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe('canonical JSON', () => {
  it('when keys come in any order, then they are written sorted at every depth, without whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: 'x' }], c: true } })).toBe('{"a":{"c":true,"d":[3,{"y":"x","z":null}]},"b":1}');
    expect(canonicalJson({ role: 'r', client: 'c', name: null, kind: 'person', id: 'E1' })).toBe(canonicalJson({ id: 'E1', kind: 'person', name: null, role: 'r', client: 'c' }));
  });

  it('when a value is a Date, then it is written as ISO 8601 UTC with milliseconds', () => {
    expect(canonicalJson({ at: new Date(Date.UTC(2026, 0, 5, 7, 8, 9, 0)) })).toBe('{"at":"2026-01-05T07:08:09.000Z"}');
  });

  it('when a property is undefined, then it is left out; null stays', () => {
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
  });

  it('when a string has quotes, backslashes, control characters or non-ASCII text, then it is escaped exactly as JSON.stringify does', () => {
    const s = 'say "hi"\\ \n\t\u0001 — Müller 👋';
    expect(canonicalJson({ s })).toBe(`{"s":${JSON.stringify(s)}}`);
    expect(canonicalJson({ s })).toContain('\\u0001');
  });

  it('when a value has no JSON form, then it throws instead of hashing something else', () => {
    expect(() => canonicalJson(() => 1)).toThrow(TypeError);
  });
});

describe('an audit row’s canonical content', () => {
  it('when a row is written, then its canonical form is exactly this string (the form migration 4 builds in SQL)', () => {
    expect(canonicalAuditContent(row({ on_behalf_of: hrPartner }))).toBe(
      '{"actor":{"client":"ems-service-ems","id":"ems","kind":"service","name":null,"role":"service"},' +
        '"at":"2026-03-02T09:00:00.000Z","employee_id":"E1001","from_status":"active","grant_id":"g-1",' +
        '"hold_id":"0f8b5d2e-7c1a-4c3e-9d2b-6a1f0e9c8b7a",' +
        '"on_behalf_of":{"client":"ems-web","id":"hrp-berlin","kind":"person","name":"Hanna Partner","role":"hr_partner"},' +
        '"reason":"resignation submitted","system_id":"vpn","to_status":"suspended"}',
    );
  });

  it('when written field by field, then the form is canonicalJson of the content object, for grant and system rows alike', () => {
    const objectForm = (r: AuditContent) =>
      canonicalJson({ ...r, event: r.event ?? undefined, detail: r.detail ?? undefined, hold_id: r.hold_id === null ? null : r.hold_id.toLowerCase() });
    const rows: AuditContent[] = [
      row(),
      row({ on_behalf_of: hrPartner, hold_id: null, grant_id: null, from_status: null, to_status: null }),
      row({ reason: 'say "hi"\\ \n — Müller 👋', employee_id: 'E"1' }),
      row({ event: 'system_access_changed', detail: { b: [1, { z: 'x', a: null }], a: true }, grant_id: null }),
      row({ event: 'grant_discovered', detail: {}, from_status: null, to_status: 'active' }),
    ];
    for (const r of rows) expect(canonicalAuditContent(r)).toBe(objectForm(r));
  });

  it('when the hold id is in upper case, then the form is the same (PostgreSQL stores uuids in lower case)', () => {
    const lower = row();
    expect(canonicalAuditContent(row({ hold_id: lower.hold_id!.toUpperCase() }))).toBe(canonicalAuditContent(lower));
  });

  it('when the actor object carries its keys in another order, then the form is the same (jsonb keeps no key order)', () => {
    expect(canonicalAuditContent(row({ actor: { client: 'ems-service-ems', role: 'service', name: null, kind: 'service', id: 'ems' } }))).toBe(canonicalAuditContent(row()));
  });

  it('when the id differs, then nothing changes: the id is not content', () => {
    const a: ChainedRow = { ...row(), id: 1, prev_hash: null, hash: auditHash(null, row()) };
    expect(checkRow(null, { ...a, id: 99 })).toBeUndefined();
  });
});

describe('a system-level row (migration 6)', () => {
  const system = (over: Partial<AuditContent> = {}): AuditContent =>
    row({ grant_id: null, from_status: null, to_status: null, event: 'system_access_changed', detail: { changeId: 'c-1', action: 'suspend', entitlements: ['cn=vpn'] }, ...over });

  it('when event and detail are null or absent, then the canonical form is the one rows had before them: existing hashes hold', () => {
    expect(canonicalAuditContent(row({ event: null, detail: null }))).toBe(canonicalAuditContent(row()));
    expect(canonicalAuditContent(row())).not.toContain('"event"');
    expect(canonicalAuditContent(row())).not.toContain('"detail"');
  });

  it('when event and detail are set, then both enter the canonical form, detail with sorted keys, and the hash covers them', () => {
    expect(canonicalAuditContent(system())).toContain('"detail":{"action":"suspend","changeId":"c-1","entitlements":["cn=vpn"]},"employee_id":"E1001","event":"system_access_changed","from_status":null,"grant_id":null');
    expect(auditHash(null, system({ detail: { changeId: 'c-1', action: 'restore', entitlements: ['cn=vpn'] } }))).not.toBe(auditHash(null, system()));
    expect(auditHash(null, system({ event: 'system_access_change_failed' }))).not.toBe(auditHash(null, system()));
  });
});

describe('the hash chain', () => {
  it('when a row is hashed, then the hash is the hex SHA-256 of the previous hash followed by the canonical content', () => {
    const prev = 'a'.repeat(64);
    expect(auditHash(prev, row())).toBe(sha256(prev + canonicalAuditContent(row())));
    expect(auditHash(null, row())).toBe(sha256(canonicalAuditContent(row())));
    expect(auditHash(null, row())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('when any content field changes (actor and on-behalf-of included), then the hash changes', () => {
    const base = auditHash(null, row());
    const variants: Array<Partial<AuditContent>> = [
      { at: new Date('2026-03-02T09:00:00.001Z') },
      { employee_id: 'E1002' },
      { grant_id: 'g-2' },
      { system_id: 'mail' },
      { from_status: 'suspended' },
      { to_status: 'revoked' },
      { reason: 'resignation submitted.' },
      { hold_id: null },
      { actor: { ...ems, client: 'ems-cli' } },
      { on_behalf_of: hrPartner },
    ];
    for (const v of variants) expect(auditHash(null, row(v)), JSON.stringify(v)).not.toBe(base);
  });

  it('when rows are chained, then each names the previous hash and the first names the given start', () => {
    const [a, b, c] = chainRows('f'.repeat(64), [row(), row({ grant_id: 'g-2' }), row({ grant_id: 'g-3' })]);
    expect(a!.prev_hash).toBe('f'.repeat(64));
    expect(b!.prev_hash).toBe(a!.hash);
    expect(c!.prev_hash).toBe(b!.hash);
    expect(c!.hash).toBe(auditHash(b!.hash, row({ grant_id: 'g-3' })));
    expect(chainRows(null, [row()])[0]!.prev_hash).toBeNull();
  });

  it('when a stored row is checked, then an intact one passes, altered content breaks its hash, and a wrong predecessor breaks its link', () => {
    const [a, b] = chainRows(null, [row(), row({ grant_id: 'g-2' })]).map((r, i) => ({ ...r, id: i + 1 }));
    expect(checkRow(null, a!)).toBeUndefined();
    expect(checkRow(a!.hash, b!)).toBeUndefined();
    expect(checkRow(null, { ...a!, reason: 'nothing to see' })).toBe(CHAIN_BREAKS.content);
    // a was removed: b is now the first row, yet it names a predecessor.
    expect(checkRow(null, b!)).toBe(CHAIN_BREAKS.link);
    expect(checkRow('0'.repeat(64), b!)).toBe(CHAIN_BREAKS.link);
  });
});

/** Arbitrary audit contents: grant changes and system-level rows, with awkward strings. */
const contentArb: fc.Arbitrary<AuditContent> = fc.record({
  at: fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }).map((ms) => new Date(ms)),
  employee_id: fc.string({ minLength: 1, maxLength: 8 }),
  grant_id: fc.option(fc.string({ maxLength: 8 })),
  system_id: fc.constantFrom('vpn', 'mail', 'corp-ldap'),
  from_status: fc.option(fc.constantFrom('active', 'suspended', 'revoked')),
  to_status: fc.option(fc.constantFrom('active', 'suspended', 'revoked')),
  reason: fc.string({ maxLength: 20 }),
  hold_id: fc.option(fc.uuid()),
  actor: fc.constantFrom<AuditContent['actor']>(ems, hrPartner),
  on_behalf_of: fc.option(fc.constant<AuditContent['on_behalf_of']>(hrPartner)),
  event: fc.option(fc.constantFrom('system_access_changed', 'grant_discovered')),
  detail: fc.option(fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean()))),
});

/** Seals `rows` the way the sealer does: batch after batch (cut at `cuts`), each batch after the last one's hash. */
function sealInBatches(rows: readonly AuditContent[], cuts: readonly number[]): ChainedRow[] {
  const bounds = [...new Set([0, ...cuts.map((c) => c % (rows.length + 1)), rows.length])].sort((a, b) => a - b);
  const sealed: ChainedRow[] = [];
  for (let i = 1; i < bounds.length; i++) {
    const batch = chainRows(sealed.at(-1)?.hash ?? null, rows.slice(bounds[i - 1], bounds[i]));
    sealed.push(...batch.map((r, j) => ({ ...r, id: sealed.length + j + 1 })));
  }
  return sealed;
}

describe('the chain sealed in batches (properties)', () => {
  it('when entries are sealed in batches of any sizes, then the chain is the one sealing them all at once, and the walk finds no break', () => {
    fc.assert(
      fc.property(fc.array(contentArb, { maxLength: 25 }), fc.array(fc.nat(), { maxLength: 6 }), (rows, cuts) => {
        const batched = sealInBatches(rows, cuts);
        expect(batched.map((r) => r.hash)).toEqual(chainRows(null, rows).map((r) => r.hash));
        expect(firstBreak(null, batched)).toBeUndefined();
      }),
    );
  });

  it('when one sealed entry’s content is altered, then the walk breaks exactly there, on its content', () => {
    fc.assert(
      fc.property(fc.array(contentArb, { minLength: 1, maxLength: 20 }), fc.nat(), fc.string({ minLength: 1, maxLength: 5 }), (rows, pick, extra) => {
        const sealed = sealInBatches(rows, [pick]);
        const at = pick % sealed.length;
        const tampered = sealed.map((r, i) => (i === at ? { ...r, reason: r.reason + extra } : r));
        expect(firstBreak(null, tampered)).toEqual({ index: at, reason: CHAIN_BREAKS.content });
      }),
    );
  });

  it('when one sealed entry is removed (not the last) or two are swapped, then the walk breaks at the entry that follows the gap, on its link', () => {
    fc.assert(
      fc.property(fc.array(contentArb, { minLength: 2, maxLength: 20 }), fc.nat(), (rows, pick) => {
        const sealed = sealInBatches(rows, []);
        const at = pick % (sealed.length - 1);
        const removed = sealed.filter((_, i) => i !== at);
        expect(firstBreak(null, removed)).toEqual({ index: at, reason: CHAIN_BREAKS.link });
        const swapped = [...sealed];
        [swapped[at], swapped[at + 1]] = [swapped[at + 1]!, swapped[at]!];
        expect(firstBreak(null, swapped)).toEqual({ index: at, reason: CHAIN_BREAKS.link });
      }),
    );
  });
});
