/**
 * The HTTP fuzz suite: requests derived from /openapi.json for every operation, property-based
 * (fast-check), sent to a running EMS on real PostgreSQL. Valid-shaped and malformed bodies, path and
 * query parameters and headers — wrong types, huge and deeply nested values, control characters and
 * malformed Unicode, impossible dates, negative and huge paging, wrong content types, invalid JSON,
 * duplicate keys, invalid UTF-8 — with a credential that may call the operation (so they reach
 * validation), and some without. It fails on any 5xx, on a refusal that is not problem+json, on any request
 * that gets no answer (a hang), and if the server stops answering. It ends by printing how many requests it sent, by answer status.
 *
 * Deterministic: EMS_FUZZ_SEED (default 12026) fixes every request. EMS_FUZZ_RUNS (default 60) is the
 * number of requests per operation; raise it for a longer search, e.g. EMS_FUZZ_RUNS=1000. EMS runs in
 * orchestration; EMS_FUZZ_MODE=choreography runs it coordinated by events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { request } from 'node:http';
import { demoOrg } from '@ems/demo-org';
import { POLICY, type OperationPolicy } from '@ems/contracts/policy';
import { createSecrets } from '@ems/identity';
import { serviceToken, TEST_SECRETS_KEY } from '@ems/identity/testing';
import { waitFor } from '@ems/platform/testing';
import { ACCESS_ADMIN, employeePicker, HR_LEAD, http, OPERATOR, startAcceptanceEms, tokenFor, type AcceptanceEnv } from './acceptance/harness.ts';

const SEED = Number(process.env.EMS_FUZZ_SEED ?? 12026);
const RUNS = Number(process.env.EMS_FUZZ_RUNS ?? 60);
const MODE = process.env.EMS_FUZZ_MODE === 'choreography' ? 'choreography' : 'orchestration';
/** Hang detector, not a timed assertion: a request with no answer in this long has hung. */
const NO_ANSWER_MS = 20_000;

const org = demoOrg();
const secrets = createSecrets(Buffer.from(TEST_SECRETS_KEY, 'base64'));

// ── The OpenAPI document, as far as the fuzz reads it ───────────────────────────────────────────────
interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  pattern?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  default?: unknown;
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}
interface OpenApiOperation {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}
interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}
interface Operation {
  method: string;
  template: string;
  operationId: string;
  params: Parameter[];
  body: JsonSchema | undefined;
}

/** One request as sent: everything needed to repeat it by hand. */
interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
  /** Which credential it carries. */
  auth: 'caller' | 'none' | 'garbage';
  what: string;
}

// ── Hostile values ──────────────────────────────────────────────────────────────────────────────────
const HOSTILE_STRINGS = [
  '', ' ', '\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\udc00\ud800', '\ud83d', '\ufffe', '\uffff', '\u202eevil', '\u200b', 'e\u0301',
  '\u0001\u0002\u0003\u001b[31m', 'line\r\nInjected: header', '\t', '\u007f', '\u0085', '😀'.repeat(100), 'x'.repeat(5_000), 'y'.repeat(70_000),
  '2026-02-30', '2026-13-01', '0000-01-01', '2026-00-10', '999999-12-31', '+275760-09-14', '2026-02-29', '2026-1-1', '2026-02-28T25:00:00Z',
  '2026-02-30T10:00:00Z', '0000-01-01T00:00:00Z', '+275760-09-14T00:00:00.000Z', '9999-12-31T23:59:60Z', '2026-06-01T10:00:00+24:00', '1970-01-01T00:00:00',
  'NaN', 'Infinity', '-Infinity', '1e309', '-1', '0', '-0', '1.5', '9007199254740993', '0x10', '1_000', '١٢٣',
  'null', 'true', '[]', '{}', '__proto__', 'constructor', 'prototype', '../../../etc/passwd', "' OR 1=1 --", '"; DROP TABLE x; --', '${jndi:ldap://x}',
  '%00', '%', '%zz', '<script>alert(1)</script>', 'http://169.254.169.254/latest/meta-data', 'mailto:x@y', 'a@b', '@', 'x'.repeat(64) + '@example.com',
  '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', 'not-a-uuid',
];
const HOSTILE_NUMBERS = [-1, 0, 1, -0, 0.5, -2_147_483_649, 2_147_483_648, 2 ** 53 + 2, -(2 ** 53) - 2, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER];

const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

const hostileString = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 3 }) },
);
/** Ordinary text with a NUL, a lone surrogate or a control character somewhere in it. */
const unstorableText = fc
  .tuple(fc.string({ maxLength: 12 }), fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\u0001', '\u001b', '\u007f'), fc.string({ maxLength: 12 }))
  .map(([before, bad, after]) => `${before}${bad}${after}`);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileString },
  { weight: 3, arbitrary: fc.constantFrom<unknown>(...HOSTILE_NUMBERS) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], { '': '' }, JSON.parse('{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}}') as unknown) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(JSON.parse(deepArray(500)) as unknown, JSON.parse(deepObject(500)) as unknown, Array.from({ length: 5_000 }, (_, i) => i)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Raw request bodies no JSON serializer would produce. */
const RAW_BODIES: Array<string | Uint8Array> = [
  '', ' ', '{', '}', '{"a":1,}', '{"a":1}{"b":2}', "{'a':1}", '{a:1}', '[1,2', 'nul', 'null', 'true', '0', '-1', '"text"', '[]', '{}', '\ufeff{}',
  '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"admin":true}}}', '{"a":"\\ud800"}', '{"a":"\\u0000"}', '{"a":"\u0000"}', '{"a":"\\x41"}',
  '{"a":1e999}', '{"a":-1e999}', '{"a":NaN}', '{"a":Infinity}', '{"a":0x10}', '{"a":01}', '{"a":"\\uZZZZ"}', '{"a":"\\u12"}',
  deepArray(50_000), deepObject(20_000), `[${'1,'.repeat(60_000)}1]`, JSON.stringify({ a: 'z'.repeat(300_000) }),
  new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0x80, 0x22, 0x7d]), // {"a":"<overlong NUL>"}
  new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), // {"a":"<UTF-8 of a lone surrogate>"}
  new Uint8Array([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]), // UTF-16LE with BOM
  new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), // invalid UTF-8 byte
];
const CONTENT_TYPES = [
  'application/json; charset=utf-8', 'application/json; charset=latin1', 'application/json;charset=utf-16', 'text/plain', 'text/json',
  'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/problem+json', 'application/cloudevents+json',
  'application/merge-patch+json', 'application/xml', '*/*', 'application/json, text/plain', 'a;;;b=', 'application/', 'APPLICATION/JSON',
];

/** Query and path text as it goes on the wire: percent-encoded UTF-8, and raw forms no encoder produces. */
const RAW_URL_TEXT = ['%00', '%ED%A0%80', '%C0%80', '%FF', '%', '%zz', '%2F', '%2e%2e', '..', '.', '%E2%80%AE', '%0D%0AX-Injected:%201', '%20', '+', 'a%26b%3Dc', '%F0%9F%98%80'];
const urlText = fc.oneof(
  { weight: 3, arbitrary: hostileString.filter((s) => s.isWellFormed()).map((s) => encodeURIComponent(s)) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_URL_TEXT) },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(3_000), '9'.repeat(400), encodeURIComponent('x'.repeat(20_000))) },
);

/** Header values a client can send (bytes 0x20–0xFF and tab; a fetch refuses CR, LF and NUL). */
const headerText = fc.oneof(
  fc.constantFrom('', 'x'.repeat(300), 'x'.repeat(10_000), '\u00ff\u00fe', 'a\tb', '   ', 'wait=99999999999999999999', 'wait=-1', 'wait=NaN', 'Bearer', 'Bearer ', 'Basic Og==', '00-' + '0'.repeat(32) + '-' + '0'.repeat(16) + '-00', 'eyJ9', '=', '%00'),
  fc.string({ unit: fc.integer({ min: 0x21, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 60 }),
);

// ── Values of the right shape ───────────────────────────────────────────────────────────────────────
interface Known {
  uuids: string[];
  /** Real ids by the collection they name (the path prefix; `resignationId` fields name cases). */
  ids: Record<string, string[]>;
  employeeIds: string[];
  hrPartnerIds: string[];
  eventTypes: string[];
}

function shapeOf(doc: OpenApiDocument, known: Known) {
  const resolve = (s: JsonSchema): JsonSchema => {
    let out = s;
    for (let i = 0; out.$ref && i < 10; i++) out = doc.components?.schemas?.[out.$ref.replace('#/components/schemas/', '')] ?? {};
    return out;
  };
  // Mostly days a case may name (the weeks ahead), some far off, some impossible.
  const DAY = 86_400_000;
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  const dates = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 90 }).map((d) => new Date(today + d * DAY).toISOString().slice(0, 10)) },
    { weight: 1, arbitrary: fc.integer({ min: -800, max: 800 }).map((d) => new Date(today + d * DAY).toISOString().slice(0, 10)) },
    { weight: 1, arbitrary: fc.constantFrom('2026-02-30', '2026-13-01', '0000-01-01', '2026-02-29', '9999-12-31', '1900-01-01', '2028-02-29') },
  );
  const instants = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: -30 * 24, max: 90 * 24 }).map((h) => new Date(today + h * 3_600_000).toISOString()) },
    { weight: 1, arbitrary: fc.constantFrom('2026-02-30T10:00:00Z', '0000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '2026-12-03T10:00:00+14:00', '2026-12-03T10:00:00.123456789Z') },
  );
  const value = (schema: JsonSchema, depth: number, collection?: string): fc.Arbitrary<unknown> => {
    const s = resolve(schema);
    if (s.const !== undefined) return fc.constant(s.const);
    if (s.enum) return fc.constantFrom(...s.enum);
    const alternatives = s.anyOf ?? s.oneOf;
    if (alternatives?.length) return fc.oneof(...alternatives.map((a) => value(a, depth, collection)));
    if (s.allOf?.length) return value(s.allOf[0]!, depth, collection);
    const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
    if (types.length > 1) return fc.oneof(...types.map((t) => value({ ...s, type: t }, depth, collection)));
    switch (types[0]) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
      case 'number': {
        const min = s.minimum ?? -1_000;
        const max = Math.min(s.maximum ?? 1_000, min + 1_000_000);
        return fc.oneof({ weight: 4, arbitrary: fc.integer({ min: Math.ceil(min), max: Math.floor(max) }) }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS) });
      }
      case 'string':
        return stringOf(s, collection);
      case 'array':
        return depth > 4 ? fc.constant([]) : fc.array(value(s.items ?? {}, depth + 1), { maxLength: Math.min(s.maxItems ?? 3, 3) });
      case 'object':
        return objectOf(s, depth);
      default:
        return s.properties ? objectOf(s, depth) : fc.jsonValue({ maxDepth: 2 });
    }
  };
  const objectOf = (s: JsonSchema, depth: number): fc.Arbitrary<unknown> => {
    const props = Object.entries(s.properties ?? {});
    if (!props.length || depth > 4) return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
    const collectionOf = (k: string) => (k === 'resignationId' ? '/api/resignations' : k === 'interviewId' ? '/api/interviews' : k === 'holdId' ? '/api/access-holds' : undefined);
    return fc.record(Object.fromEntries(props.map(([k, v]) => [k, value(v, depth + 1, collectionOf(k))])), { requiredKeys: (s.required ?? []).filter((k) => s.properties?.[k]) });
  };
  const stringOf = (s: JsonSchema, collection?: string): fc.Arbitrary<string> => {
    const real = collection ? known.ids[collection] : undefined;
    if (s.format === 'uuid' && real?.length) return fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...real) }, { weight: 1, arbitrary: fc.constantFrom(...known.uuids) }, { weight: 1, arbitrary: fc.uuid() });
    if (real?.length && !s.format) return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...real) }, { weight: 1, arbitrary: stringOf(s) });
    const free = fc.string({ unit: 'grapheme', minLength: Math.min(s.minLength ?? 0, 20), maxLength: Math.min(s.maxLength ?? 40, 40) });
    if (s.format === 'uuid') return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known.uuids) }, { weight: 1, arbitrary: fc.uuid() });
    if (s.format === 'date') return dates;
    if (s.format === 'date-time') return instants;
    if (s.format === 'email') return fc.oneof(fc.emailAddress(), fc.constantFrom(...org.employees.slice(0, 5).map((e) => e.email)));
    if (s.format === 'uri' || s.format === 'url') return fc.oneof(fc.webUrl(), fc.constant('http://127.0.0.1:9/hook'));
    if (s.pattern === '^\\d{4}-\\d{2}-\\d{2}$') return dates;
    if (s.pattern?.includes('A-Za-z0-9._-')) return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known.employeeIds) }, { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/) });
    if (s.pattern) return fc.oneof(fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length <= (s.maxLength ?? 200)), free);
    return fc.oneof({ weight: 3, arbitrary: free }, { weight: 1, arbitrary: fc.constantFrom(...known.hrPartnerIds, ...known.eventTypes) });
  };
  return value;
}

/** Every leaf path of a JSON value (the value itself first). */
function leaves(v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const out = [at];
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...leaves(x, [...at, Array.isArray(v) ? Number(k) : k]));
  return out;
}
function replaceAt(v: unknown, at: Array<string | number>, next: unknown): unknown {
  if (!at.length) return next;
  const [head, ...rest] = at;
  if (Array.isArray(v)) return (v as unknown[]).map((x, i) => (i === head ? replaceAt(x, rest, next) : x));
  if (v && typeof v === 'object') return { ...v, [head!]: replaceAt((v as Record<string, unknown>)[head!], rest, next) };
  return next;
}
/** `{"k":first,"k":second,...rest}`: a duplicate key, only sendable as raw text. */
function withDuplicateKey(v: unknown, second: unknown): string {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return `{"a":1,"a":${JSON.stringify(second) ?? 'null'}}`;
  const keys = Object.keys(v);
  if (!keys.length) return `{"a":1,"a":2}`;
  const json = JSON.stringify(v);
  return `{${JSON.stringify(keys[0])}:${JSON.stringify(second) ?? 'null'},${json.slice(1)}`;
}

/** Routes the document leaves out (the browser's sign-in, the built-in provider, the landing page): fuzzed too. */
const text = { type: 'string' } as const;
const query = (...names: string[]): Parameter[] => names.map((name) => ({ name, in: 'query', schema: text }));
const HIDDEN_OPERATIONS: Operation[] = [
  { method: 'GET', template: '/', operationId: 'landing page', params: [], body: undefined },
  { method: 'GET', template: '/asyncapi.json', operationId: 'AsyncAPI', params: [], body: undefined },
  { method: 'GET', template: '/auth/callback', operationId: 'sign-in callback', params: query('code', 'state', 'iss', 'error', 'error_description'), body: undefined },
  { method: 'GET', template: '/signin/{uid}', operationId: 'sign-in page', params: [{ name: 'uid', in: 'path', schema: text }, ...query('q')], body: undefined },
  { method: 'POST', template: '/signin/{uid}', operationId: 'sign-in form', params: [{ name: 'uid', in: 'path', schema: text }], body: { type: 'object', properties: { person: text, cancel: text } } },
  { method: 'GET', template: '/oidc/.well-known/openid-configuration', operationId: 'provider discovery', params: [], body: undefined },
  { method: 'GET', template: '/oidc/jwks', operationId: 'provider keys', params: [], body: undefined },
  { method: 'GET', template: '/oidc/auth', operationId: 'provider authorization', params: query('client_id', 'response_type', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'resource', 'prompt'), body: undefined },
  { method: 'POST', template: '/oidc/token', operationId: 'provider token', params: [], body: { type: 'object', properties: { grant_type: text, code: text, client_id: text, refresh_token: text, device_code: text, resource: text } } },
  { method: 'POST', template: '/oidc/device/auth', operationId: 'provider device authorization', params: [], body: { type: 'object', properties: { client_id: text, scope: text } } },
  { method: 'GET', template: '/oidc/me', operationId: 'provider userinfo', params: [], body: undefined },
];

/** The collections whose real ids the suite collects before it starts. */
const KNOWN_COLLECTIONS = {
  '/api/resignations': 'cases',
  '/api/interviews': 'interviews',
  '/api/access-holds': 'holds',
  '/api/access-revocations': 'revocations',
  '/api/emails': 'emails',
  '/api/webhooks': 'webhooks',
  '/api/api-tokens': 'API tokens',
  '/api/asset-recovery-tasks': 'asset recovery tasks',
  '/api/employees': 'employees',
  '/api/hr-partners': 'HR partners',
} as const;

// ── Requests per operation ──────────────────────────────────────────────────────────────────────────
function requestsFor(op: Operation, value: (s: JsonSchema, depth: number, collection?: string) => fc.Arbitrary<unknown>): fc.Arbitrary<FuzzRequest> {
  const collection = Object.keys(KNOWN_COLLECTIONS).find((prefix) => op.template.startsWith(`${prefix}/`));
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const headerParams = op.params.filter((p) => p.in === 'header');
  const fill = (values: string[]) => pathParams.reduce((t, p, i) => t.replace(`{${p.name}}`, values[i]!), op.template);
  const queryString = (parts: ReadonlyArray<readonly string[] | undefined>) => {
    const all = parts.flatMap((x) => x ?? []);
    return all.length ? `?${all.join('&')}` : '';
  };

  // Each request is well-formed but for one part (or, now and then, every part at once), so that what is wrong reaches validation.
  const validPath = fc.tuple(...pathParams.map((p) => value(p.schema ?? {}, 0, collection).map((x) => encodeURIComponent(String(x))))).map(fill);
  const hostilePath = fc.tuple(...pathParams.map((p) => fc.oneof(value(p.schema ?? {}, 0, collection).map((x) => encodeURIComponent(String(x))), urlText))).map(fill);

  const validOne = (p: Parameter) => value(p.schema ?? {}, 0, p.name === 'resignationId' ? '/api/resignations' : undefined).map((x) => [`${p.name}=${encodeURIComponent(typeof x === 'string' ? x : JSON.stringify(x) ?? '')}`]);
  const hostileOne = (p: Parameter) =>
    fc.oneof(
      { weight: 2, arbitrary: validOne(p) },
      { weight: 3, arbitrary: urlText.map((x) => [`${p.name}=${x}`]) },
      { weight: 2, arbitrary: fc.constantFrom('-1', '0', '1e9', '99999999999999999999999', 'NaN', 'Infinity', '1.5', '-0', '', '0x1F', '%2D1').map((x) => [`${p.name}=${x}`]) },
      { weight: 1, arbitrary: fc.constant([`${p.name}=1`, `${p.name}=2`]) }, // repeated: an array
      { weight: 1, arbitrary: fc.constant([`${p.name}`, `${p.name}[]=1`]) },
    );
  const validQuery = fc.tuple(...queryParams.map((p) => fc.option(validOne(p), { nil: undefined, freq: 2 }))).map(queryString);
  const hostileQuery = fc
    .tuple(...queryParams.map((p) => fc.option(hostileOne(p), { nil: undefined, freq: 3 })), fc.option(fc.constantFrom(['unknown=1'], ['__proto__[x]=1'], ['&&&'], ['='], ['a=%00'], ['limit=1&limit=-1']), { nil: undefined, freq: 2 }))
    .map(queryString);

  const idempotent = headerParams.some((p) => p.name === 'idempotency-key');
  const validHeaders = idempotent ? fc.option(fc.uuid().map((key) => ({ 'idempotency-key': key })), { nil: {} }) : fc.constant({});
  const hostileHeaders = fc
    .tuple(
      ...headerParams.map((p) => fc.option(headerText, { nil: undefined, freq: 2 }).map((v) => [p.name, v] as const)),
      fc.option(fc.constantFrom('x-request-id', 'x-correlation-id', 'traceparent', 'idempotency-key', 'x-ems-on-behalf-of', 'prefer', 'accept', 'origin', 'host', 'x-csrf-token', 'cookie', 'accept-encoding', 'expect').chain((h) => headerText.map((v) => [h, v] as const)), { nil: undefined, freq: 2 }),
    )
    .map((entries) => Object.fromEntries(entries.filter((e): e is readonly [string, string] => e !== undefined && e[1] !== undefined && /^[\t\x20-\x7e\x80-\xff]*$/.test(e[1]))));

  type Body = { body: string | Uint8Array | undefined; what: string };
  const valid = op.body ? value(op.body, 0) : fc.constant(undefined);
  const validBody: fc.Arbitrary<Body> = valid.map((v) => ({ body: v === undefined ? undefined : JSON.stringify(v), what: 'valid-shaped body' }));
  const hostileBody: fc.Arbitrary<Body> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.tuple(valid, fc.nat(), hostileValue).map(([v, i, h]) => {
        const all = leaves(v);
        const at = all[i % all.length]!;
        return { body: JSON.stringify(replaceAt(v, at, h)), what: `body with ${at.length ? at.join('.') : 'the whole body'} hostile` };
      }),
    },
    {
      // Text a database cannot store, inside an otherwise well-formed body: it must be refused, never reach storage.
      weight: 4,
      arbitrary: fc.tuple(valid, fc.nat(), unstorableText).map(([v, i, text]) => {
        const strings = leaves(v).filter((at) => typeof at.reduce<unknown>((x, k) => (x as Record<string | number, unknown>)[k], v) === 'string');
        if (!strings.length) return { body: JSON.stringify(v), what: 'valid-shaped body' };
        const at = strings[i % strings.length]!;
        return { body: JSON.stringify(replaceAt(v, at, text)), what: `body with unstorable text in ${at.join('.')}` };
      }),
    },
    { weight: 1, arbitrary: fc.tuple(valid, hostileValue).map(([v, h]) => ({ body: withDuplicateKey(v, h), what: 'body with a duplicate key' })) },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_BODIES).map((b) => ({ body: b, what: 'raw body' })) },
    { weight: 1, arbitrary: fc.constant({ body: undefined, what: 'no body' }) },
  );
  const hostileContentType = fc.oneof(fc.constantFrom(...CONTENT_TYPES), fc.constant(undefined));

  const wrong = fc.oneof(
    { weight: 3, arbitrary: fc.constant('nothing' as const) },
    { weight: pathParams.length ? 2 : 0, arbitrary: fc.constant('path' as const) },
    { weight: queryParams.length ? 2 : 1, arbitrary: fc.constant('query' as const) },
    { weight: 2, arbitrary: fc.constant('headers' as const) },
    { weight: op.body ? 6 : 1, arbitrary: fc.constant('body' as const) },
    { weight: 1, arbitrary: fc.constant('content type' as const) },
    { weight: 1, arbitrary: fc.constant('credential' as const) },
    { weight: 1, arbitrary: fc.constant('everything' as const) },
  );
  return fc
    .record({ wrong, validPath, hostilePath, validQuery, hostileQuery, validHeaders, hostileHeaders, validBody, hostileBody, hostileContentType, badAuth: fc.constantFrom('none' as const, 'garbage' as const) })
    .map((r) => {
      const is = (part: typeof r.wrong) => r.wrong === part || r.wrong === 'everything';
      const b = is('body') ? r.hostileBody : r.validBody;
      const sendsBody = b.body !== undefined;
      const headers: Record<string, string> = { ...(is('headers') ? r.hostileHeaders : r.validHeaders) };
      const contentType = is('content type') ? r.hostileContentType : 'application/json';
      // A body gets its content type; an operation that takes a body gets one even when it is missing (an empty body declared as JSON).
      if (contentType !== undefined && (sendsBody || op.body)) headers['content-type'] = contentType;
      return {
        method: op.method,
        path: `${is('path') ? r.hostilePath : r.validPath}${is('query') ? r.hostileQuery : r.validQuery}`,
        headers,
        body: b.body,
        auth: is('credential') ? r.badAuth : ('caller' as const),
        what: r.wrong === 'everything' ? `everything wrong, ${b.what}` : r.wrong === 'body' ? b.what : `${r.wrong} wrong`,
      };
    });
}

// ── The suite ───────────────────────────────────────────────────────────────────────────────────────
describe('the HTTP fuzz suite', () => {
  let env: AcceptanceEnv;
  let base: string;
  const known: Known = { uuids: [], ids: {}, employeeIds: [], hrPartnerIds: org.hrPartners.map((p) => p.id), eventTypes: ['com.ems.resignation.submitted.v1', 'com.ems.resignation.exit-confirmed.v1'] };

  beforeAll(async () => {
    env = await startAcceptanceEms(MODE, 'fuzz');
    base = env.base;
    // Real rows for valid-shaped requests to reach: cases (one decided), interviews, holds, emails, a webhook, a token.
    const { takeEmployee } = employeePicker(org);
    const people = [takeEmployee(), takeEmployee(), takeEmployee()];
    known.employeeIds = [...new Set([...people.map((e) => e.id), ...org.employees.map((e) => e.id), HR_LEAD, OPERATOR, ACCESS_ADMIN])];
    for (const person of people) {
      const c = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: person.id, reason: 'fuzz' });
      expect(c.status).toBe(201);
      known.uuids.push(c.body.id);
      await waitFor(async () => ((await http<{ status: string }>(base, 'GET', `/api/resignations/${c.body.id}`)).body.status === 'awaiting_decision' ? true : undefined), 'the case awaits a decision', 60_000);
    }
    const ids = async (path: string, as = HR_LEAD) =>
      (await http<{ items: Array<{ id: string }> }>(base, 'GET', `${path}?limit=100`, undefined, { authorization: `Bearer ${await tokenFor(base, as)}` })).body.items.map((x) => x.id);
    const hook = await http<{ id: string }>(base, 'POST', '/api/webhooks', { url: 'http://127.0.0.1:9/hook', eventTypes: known.eventTypes });
    const token = await http<{ id: string }>(base, 'POST', '/api/api-tokens', { name: 'fuzz', personId: HR_LEAD }, { authorization: `Bearer ${await tokenFor(base, OPERATOR)}` });
    expect([hook.status, token.status]).toEqual([201, 201]);
    known.ids = {
      '/api/resignations': [...known.uuids],
      '/api/interviews': await ids('/api/interviews'),
      '/api/access-holds': await ids('/api/access-holds'),
      '/api/access-revocations': await ids('/api/access-revocations'),
      '/api/emails': await ids('/api/emails', OPERATOR),
      '/api/webhooks': [hook.body.id],
      '/api/api-tokens': [token.body.id],
      '/api/asset-recovery-tasks': await ids('/api/asset-recovery-tasks', ACCESS_ADMIN),
      '/api/employees': known.employeeIds,
      '/api/hr-partners': known.hrPartnerIds,
    };
    known.uuids = Object.values(known.ids).flat().filter((id) => /^[0-9a-f-]{36}$/.test(id));
  });
  afterAll(async () => {
    await env?.stop();
  });

  /** The credential of a caller the policy lets call the operation (an administrator's, or the service's). */
  const credentials = new Map<string, string>();
  async function credentialFor(operationId: string): Promise<string | undefined> {
    const policy = (POLICY as Record<string, OperationPolicy | undefined>)[operationId];
    // An extension's operations (asset recovery) are IT's: its access administrator may call them.
    if (!policy) return operationId.startsWith('get ') || operationId.startsWith('post ') ? undefined : `Bearer ${await tokenFor(base, ACCESS_ADMIN)}`;
    if (!credentials.has(operationId)) {
      const admin = policy.roles.find((g) => g.rows === 'all' && ['hr_lead', 'operator', 'access_admin'].includes(g.role));
      const person = admin ? { hr_lead: HR_LEAD, operator: OPERATOR, access_admin: ACCESS_ADMIN }[admin.role as 'hr_lead' | 'operator' | 'access_admin'] : policy.anyAuthenticated ? HR_LEAD : undefined;
      const token = person ? await tokenFor(base, person) : policy.services?.[0] ? await serviceToken(base, secrets, policy.services[0], policy.service) : await tokenFor(base, HR_LEAD);
      credentials.set(operationId, `Bearer ${token}`);
    }
    return credentials.get(operationId);
  }

  it(`when every operation of /openapi.json gets ${RUNS} generated requests (seed ${SEED}, ${MODE}), then none is answered 5xx, none hangs, and EMS keeps serving`, { timeout: 900_000 }, async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as OpenApiDocument;
    const operations: Operation[] = Object.entries(doc.paths).flatMap(([template, methods]) =>
      Object.entries(methods)
        .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, o]) => ({ method: method.toUpperCase(), template, operationId: o.operationId ?? `${method} ${template}`, params: o.parameters ?? [], body: o.requestBody?.content?.['application/json']?.schema })),
    );
    expect(operations.length).toBeGreaterThan(30);
    operations.push(...HIDDEN_OPERATIONS);
    const value = shapeOf(doc, known);

    const byStatus = new Map<string, number>();
    const failures: string[] = [];
    /** With EMS_FUZZ_VERBOSE=1, every request and its answer; else only the connections closed without an answer. */
    const verbose = process.env.EMS_FUZZ_VERBOSE === '1';
    const perOperation: string[] = [];
    let sent = 0;
    for (const [index, op] of operations.entries()) {
      const requests = fc.sample(requestsFor(op, value), { seed: SEED + index, numRuns: RUNS });
      for (const req of requests) {
        const headers = { ...req.headers };
        if (req.auth === 'caller') {
          const credential = await credentialFor(op.operationId);
          if (credential) headers.authorization = credential;
        } else if (req.auth === 'garbage') headers.authorization = 'Bearer not.a.token';
        sent++;
        let status: string;
        try {
          const res = await send(base, req.method, req.path, headers, req.body);
          status = String(res.status);
          if (verbose) perOperation.push(`${status} ${op.operationId} ${req.auth} ${req.what}: ${req.method} ${req.path.slice(0, 120)} → ${res.text.slice(0, 160)}`);
          // EMS refuses in problem+json (RFC 9457); the built-in provider answers in OAuth's format, its sign-in page in HTML, and
          // Node's HTTP parser (a header section too large, an Expect it cannot meet) with no body at all.
          const ownRoute = !/^\/(oidc|signin)\b/.test(req.path);
          // …and under /scim in SCIM's own error format (RFC 7644 §3.12), which SCIM clients read — except what the HTTP layer
          // refuses before any route is known (a malformed URL, a URI or headers too large, a foreign Host, a rate limit).
          const beforeRouting = [414, 421, 429, 431].includes(res.status) || (res.status === 400 && res.text.includes('"path":"url"'));
          const refusalType = req.path.startsWith('/scim/') && !beforeRouting ? 'application/scim+json' : 'application/problem+json';
          if (res.status >= 400 && res.status < 500 && ownRoute && res.text !== '' && !res.contentType.startsWith(refusalType)) {
            failures.push(`${res.status} not ${refusalType} ${op.operationId}: ${req.method} ${req.path.slice(0, 300)} (${req.what}) → ${res.contentType} ${res.text.slice(0, 200)}`);
          }
          if (res.status >= 500) failures.push(`${res.status} ${op.operationId}: ${req.method} ${req.path.slice(0, 300)} (${req.what}; headers ${JSON.stringify(req.headers).slice(0, 300)}; body ${describeBody(req.body)}) → ${res.text.slice(0, 300)}`);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          status = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'no answer' : `connection ${e.code ?? e.message}`;
          // No answer within the hang detector's time is a hang; a connection the server closed is reported in the table.
          if (status === 'no answer') failures.push(`hang ${op.operationId}: ${req.method} ${req.path.slice(0, 300)} (${req.what}; body ${describeBody(req.body)})`);
          else perOperation.push(`${status} ${op.operationId} ${req.auth} ${req.what}: ${req.method} ${req.path.slice(0, 300)} headers ${JSON.stringify(req.headers).slice(0, 300)} body ${describeBody(req.body)}`);
        }
        byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      }
    }

    const table = [...byStatus.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([status, n]) => ({ status, requests: n }));
    console.log(`HTTP fuzz (seed ${SEED}, ${RUNS} requests × ${operations.length} operations): ${sent} requests, by answer status`);
    console.table(table);
    if (perOperation.length) console.log(perOperation.join('\n'));

    expect(failures, failures.join('\n')).toEqual([]);
    // Still serving: health, and an ordinary authenticated read.
    expect((await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(NO_ANSWER_MS) })).status).toBe(200);
    expect((await http(base, 'GET', '/api/resignations?limit=1')).status).toBe(200);
    // Nothing accepted failed later because of its content: no step of any case, no dead letter, blames text PostgreSQL could not store.
    const unstorable = /invalid byte sequence|unsupported Unicode escape|cannot be converted to text|null character not permitted/i;
    const cases = await http<{ items: Array<{ id: string; steps: Record<string, { lastError: string | null } | undefined> }> }>(base, 'GET', '/api/resignations?limit=500');
    const blamed = cases.body.items.flatMap((c) => Object.entries(c.steps).filter(([, step]) => step?.lastError && unstorable.test(step.lastError)).map(([name, step]) => `${c.id} ${name}: ${step!.lastError}`));
    const deadLetters = await http<{ items: Array<{ subscriber: string; reason: string }> }>(base, 'GET', '/api/dead-letters?limit=500&includeReplayed=true');
    blamed.push(...deadLetters.body.items.filter((d) => unstorable.test(d.reason)).map((d) => `dead letter of ${d.subscriber}: ${d.reason}`));
    expect(blamed).toEqual([]);
  });
});

/**
 * One request over node:http (unlike fetch, it sends a body with GET too) on a connection of its own (a kept-alive
 * one the server closed after refusing a body would show as a reset of the next request), with the hang detector's abort.
 */
function send(base: string, method: string, path: string, headers: Record<string, string>, body: string | Uint8Array | undefined): Promise<{ status: number; text: string; contentType: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = request(
      { host: url.hostname, port: url.port, method, path, agent: false, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal: AbortSignal.timeout(NO_ANSWER_MS) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), contentType: res.headers['content-type'] ?? '' }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function describeBody(body: string | Uint8Array | undefined): string {
  if (body === undefined) return 'none';
  if (typeof body !== 'string') return `bytes ${Buffer.from(body).toString('hex')}`;
  return JSON.stringify(body.length > 200 ? `${body.slice(0, 200)}… (${body.length} chars)` : body);
}
