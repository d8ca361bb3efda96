import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { COMPARE_OPS, parseFilter, parsePatchPath, printFilter, printPatchPath, ScimSyntaxError, type AttrPath, type Filter, type PatchPath } from './filter.ts';
import { checkFilter, matches } from './evaluate.ts';
import { RESOURCE_TYPES } from './schemas.ts';
import { ScimError } from './scim-error.ts';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const USER = RESOURCE_TYPES.find((t) => t.id === 'User')!;

describe('SCIM filter parser (RFC 7644 §3.4.2.2)', () => {
  it('when the RFC\'s examples are parsed, then each gives its tree', () => {
    expect(parseFilter('userName Eq "john"')).toEqual({ op: 'eq', path: { attr: 'userName' }, value: 'john' });
    expect(parseFilter('name.familyName co "O\'Malley"')).toEqual({ op: 'co', path: { attr: 'name', sub: 'familyName' }, value: "O'Malley" });
    expect(parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"')).toEqual({
      op: 'sw',
      path: { uri: 'urn:ietf:params:scim:schemas:core:2.0:User', attr: 'userName' },
      value: 'J',
    });
    expect(parseFilter('title pr')).toEqual({ op: 'pr', path: { attr: 'title' } });
    expect(parseFilter('meta.lastModified gt "2011-05-13T04:42:34Z"')).toEqual({ op: 'gt', path: { attr: 'meta', sub: 'lastModified' }, value: '2011-05-13T04:42:34Z' });
    expect(parseFilter('title pr and userType eq "Employee"')).toEqual({
      op: 'and',
      left: { op: 'pr', path: { attr: 'title' } },
      right: { op: 'eq', path: { attr: 'userType' }, value: 'Employee' },
    });
    expect(parseFilter('userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")')).toEqual({
      op: 'and',
      left: { op: 'eq', path: { attr: 'userType' }, value: 'Employee' },
      right: { op: 'or', left: { op: 'co', path: { attr: 'emails' }, value: 'example.com' }, right: { op: 'co', path: { attr: 'emails', sub: 'value' }, value: 'example.org' } },
    });
    expect(parseFilter('userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")').op).toBe('and');
    expect(parseFilter('emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]')).toEqual({
      op: 'or',
      left: { op: 'valuePath', path: { attr: 'emails' }, filter: { op: 'and', left: { op: 'eq', path: { attr: 'type' }, value: 'work' }, right: { op: 'co', path: { attr: 'value' }, value: '@example.com' } } },
      right: { op: 'valuePath', path: { attr: 'ims' }, filter: { op: 'and', left: { op: 'eq', path: { attr: 'type' }, value: 'xmpp' }, right: { op: 'co', path: { attr: 'value' }, value: '@foo.com' } } },
    });
    expect(parseFilter(`${ENTERPRISE}:manager.value eq "E1" and active eq true and workingDays ge -1.5e2`)).toEqual({
      op: 'and',
      left: {
        op: 'and',
        left: { op: 'eq', path: { uri: ENTERPRISE, attr: 'manager', sub: 'value' }, value: 'E1' },
        right: { op: 'eq', path: { attr: 'active' }, value: true },
      },
      right: { op: 'ge', path: { attr: 'workingDays' }, value: -150 },
    });
  });

  it('when and and or mix without parentheses, then and binds tighter, and not binds tightest', () => {
    const f = parseFilter('a eq 1 or b eq 2 and not (c pr) or d eq null');
    expect(printFilter(f)).toBe('a eq 1 or b eq 2 and not (c pr) or d eq null');
    expect(f).toMatchObject({ op: 'or', left: { op: 'or', right: { op: 'and', right: { op: 'not' } } }, right: { op: 'eq', value: null } });
  });

  it.each([
    ['', 'expected an attribute path'],
    ['userName', 'expected an operator'],
    ['userName eq', 'expected a value'],
    ['userName eq john', 'expected a value'],
    ['userName like "x"', 'unknown operator'],
    ['userName eq "x" and', 'expected an attribute path'],
    ['(userName eq "x"', 'expected ")"'],
    ['userName eq "x")', 'unexpected'],
    ['emails[type eq "work"', 'expected "]"'],
    ['emails[type eq "work"].value eq "x"', 'PATCH path'],
    ['emails[addresses[type eq "x"]]', 'inside another'],
    ['name.givenName[type eq "x"]', 'not to a sub-attribute'],
    ['userName eq "unterminated', 'not closed'],
    ['userName eq "bad \\x escape"', 'not closed'],
    ['a.b.c eq 1', 'not an attribute path'],
    ['userName eq 01', 'unexpected'],
    ['userName eq "x" # comment', 'unexpected character'],
    ['not userName eq "x"', 'unknown operator'],
    [`${'('.repeat(40)}a pr${')'.repeat(40)}`, 'nested deeper'],
  ])('when the filter is %j, then it is refused: %s', (text, message) => {
    expect(() => parseFilter(text)).toThrow(ScimSyntaxError);
    expect(() => parseFilter(text)).toThrow(message);
  });

  it('when a filter is longer than the limit, then it is refused before it is read', () => {
    expect(() => parseFilter(`userName eq "${'x'.repeat(5000)}"`)).toThrow(/longer than/);
  });

  it('when PATCH paths are parsed, then attribute, value filter and sub-attribute come back', () => {
    expect(parsePatchPath('members[value eq "2819c223-7f76-453a-919d-413861904646"]')).toEqual({
      path: { attr: 'members' },
      filter: { op: 'eq', path: { attr: 'value' }, value: '2819c223-7f76-453a-919d-413861904646' },
    });
    expect(parsePatchPath('emails[type eq "work"].value')).toEqual({ path: { attr: 'emails' }, filter: { op: 'eq', path: { attr: 'type' }, value: 'work' }, sub: 'value' });
    expect(parsePatchPath(`${ENTERPRISE}:manager`)).toEqual({ path: { uri: ENTERPRISE, attr: 'manager' } });
    expect(parsePatchPath('name.formatted')).toEqual({ path: { attr: 'name', sub: 'formatted' } });
    expect(() => parsePatchPath('members[value eq "x"] extra')).toThrow(ScimSyntaxError);
    expect(() => parsePatchPath('members eq "x"')).toThrow(ScimSyntaxError);
  });
});

// ── Properties ───────────────────────────────────────────────────────────────────────────────────────

const KEYWORDS = new Set(['and', 'or', 'not', 'pr', 'true', 'false', 'null', ...COMPARE_OPS]);
const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,8}$/).filter((n) => !KEYWORDS.has(n.toLowerCase()));
const subName = fc.oneof(name, fc.constant('$ref'));
const uri = fc.constantFrom(undefined, ENTERPRISE, 'urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ems:params:scim:schemas:extension:ems:2.0:User');
const attrPath: fc.Arbitrary<AttrPath> = fc
  .record({ uri, attr: name, sub: fc.option(subName, { nil: undefined }) })
  .map(({ uri: u, attr, sub }) => ({ ...(u ? { uri: u } : {}), attr, ...(sub !== undefined ? { sub } : {}) }));
const simplePath: fc.Arbitrary<AttrPath> = name.map((attr) => ({ attr }));
const value = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.integer({ min: -1e9, max: 1e9 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).filter((d) => !Object.is(d, -0)), fc.boolean(), fc.constant(null));

function filterArb(path: fc.Arbitrary<AttrPath>, withValuePath: boolean): fc.Arbitrary<Filter> {
  return fc.letrec<{ f: Filter }>((tie) => ({
    f: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({ op: fc.constantFrom(...COMPARE_OPS), path, value }) as fc.Arbitrary<Filter>,
      fc.record({ op: fc.constant('pr' as const), path }),
      fc.record({ op: fc.constantFrom('and' as const, 'or' as const), left: tie('f'), right: tie('f') }),
      fc.record({ op: fc.constant('not' as const), filter: tie('f') }),
      ...(withValuePath ? [fc.record({ op: fc.constant('valuePath' as const), path: name.map((attr) => ({ attr })), filter: filterArb(simplePath, false) })] : []),
    ),
  })).f;
}

describe('SCIM filter properties', () => {
  it('printing any filter and parsing the text gives the same filter back', () => {
    fc.assert(
      fc.property(filterArb(attrPath, true), (f) => {
        expect(parseFilter(printFilter(f))).toEqual(f);
      }),
      { numRuns: 500 },
    );
  });

  it('printing any PATCH path and parsing it gives it back', () => {
    const patchPath: fc.Arbitrary<PatchPath> = fc.oneof(
      attrPath.map((path) => ({ path })),
      fc.record({ path: name.map((attr) => ({ attr })), filter: filterArb(simplePath, false), sub: fc.option(name, { nil: undefined }) }).map((p) => ({ path: p.path, filter: p.filter, ...(p.sub !== undefined ? { sub: p.sub } : {}) })),
    );
    fc.assert(
      fc.property(patchPath, (p) => {
        expect(parsePatchPath(printPatchPath(p))).toEqual(p);
      }),
      { numRuns: 300 },
    );
  });

  it('any text either parses or is refused with a ScimSyntaxError — never another error', () => {
    const alphabet = fc.constantFrom(...'ab ()[]."\\:eqnotrpc0123-_urn'.split(''), ' and ', ' or ', 'not (', ' eq ', ' pr', '"x"', 'emails[', ']');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 30 }).map((a) => a.join('')), (text) => {
        try {
          parseFilter(text);
        } catch (err) {
          expect(err).toBeInstanceOf(ScimSyntaxError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('SCIM filters checked against the User schema and evaluated in memory', () => {
  const user = {
    schemas: [],
    id: 'E1',
    userName: 'Ada@Example.com',
    name: { formatted: 'Ada Lovelace' },
    active: true,
    emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
    groups: [{ value: 'operator', display: 'operator' }],
    [ENTERPRISE]: { department: 'Engineering', manager: { value: 'E9', displayName: 'Bob' } },
    meta: { lastModified: '2026-01-02T03:04:05.000Z' },
  };
  const is = (text: string) => matches(USER, checkFilter(USER, parseFilter(text)), user);

  it('when filters name the user\'s attributes, then they match as the RFC says (case-insensitive names and strings)', () => {
    expect(is('USERNAME eq "ada@example.com"')).toBe(true);
    expect(is('userName sw "ADA"')).toBe(true);
    expect(is('emails[type eq "work" and value ew "example.com"]')).toBe(true);
    expect(is('emails co "example"')).toBe(true);
    expect(is(`${ENTERPRISE}:manager.value eq "E9"`)).toBe(true);
    expect(is('manager.value eq "e9"')).toBe(false);
    expect(is('department eq "engineering" and not (title pr)')).toBe(true);
    expect(is('groups[value eq "operator"]')).toBe(true);
    expect(is('meta.lastModified gt "2026-01-01T00:00:00Z"')).toBe(true);
    expect(is('title eq null and active ne false')).toBe(true);
  });

  it.each([
    ['nickName eq "x"', 'no attribute'],
    ['active co "t"', 'boolean'],
    ['active eq "true"', 'boolean'],
    ['meta.lastModified gt "yesterday"', 'dateTime'],
    ['userName gt 3', 'string'],
    ['emails[nope eq "x"]', 'no sub-attribute'],
    ['userName[value eq "x"]', 'not a complex attribute'],
  ])('when the filter is %j, then it is refused as invalidFilter (%s)', (text, message) => {
    let err: unknown;
    try {
      checkFilter(USER, parseFilter(text));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScimError);
    expect((err as ScimError).scimType).toBe('invalidFilter');
    expect((err as ScimError).message).toContain(message);
  });
});
