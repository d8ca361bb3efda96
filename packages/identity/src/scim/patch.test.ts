import { describe, expect, it } from 'vitest';
import { applyPatch, parsePatchBody } from './patch.ts';
import { RESOURCE_TYPES, SCIM } from './schemas.ts';
import { ScimError } from './scim-error.ts';

const USER = RESOURCE_TYPES.find((t) => t.id === 'User')!;
const GROUP = RESOURCE_TYPES.find((t) => t.id === 'Group')!;

const user = () => ({
  schemas: [SCIM.user, SCIM.enterprise, SCIM.ems],
  id: 'E1',
  userName: 'ada@example.com',
  name: { formatted: 'Ada Lovelace' },
  displayName: 'Ada Lovelace',
  active: true,
  emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
  [SCIM.enterprise]: { employeeNumber: 'E1', department: 'Engineering', manager: { value: 'E9', displayName: 'Bob' } },
  [SCIM.ems]: { workingDays: [1, 2, 3, 4, 5], workStart: '09:00', workEnd: '17:00' },
});
const group = () => ({ schemas: [SCIM.group], id: 'operator', displayName: 'operator', members: [{ value: 'E1' }, { value: 'E2' }] });

const ops = (...operations: unknown[]) => parsePatchBody({ schemas: [SCIM.patch], Operations: operations });
const refusal = (f: () => unknown): ScimError => {
  try {
    f();
  } catch (err) {
    if (err instanceof ScimError) return err;
    throw err;
  }
  throw new Error('not refused');
};

describe('SCIM PATCH on a resource', () => {
  it('when operations come the way Entra ID sends them (capitalised ops, a bare manager id, "False"), then they apply', () => {
    const out = applyPatch(USER, user(), ops({ op: 'Replace', path: 'active', value: 'False' }, { op: 'Add', path: `${SCIM.enterprise}:manager`, value: 'E7' }, { op: 'Replace', path: 'emails[type eq "work"].value', value: 'ada@new.example' }));
    expect(out).toMatchObject({ active: 'False', emails: [{ value: 'ada@new.example', type: 'work', primary: true }], [SCIM.enterprise]: { manager: 'E7', department: 'Engineering' } });
  });

  it('when there is no path, then the value is an object of attributes, extension URNs and URN-prefixed names included', () => {
    const out = applyPatch(USER, user(), ops({ op: 'replace', value: { Title: 'CTO', [`${SCIM.ems}:workEnd`]: '18:00', [SCIM.enterprise]: { department: 'Board' } } }));
    expect(out).toMatchObject({ title: 'CTO', [SCIM.ems]: { workEnd: '18:00', workStart: '09:00' }, [SCIM.enterprise]: { department: 'Board', employeeNumber: 'E1' } });
  });

  it('when a new primary email is added, then the old one is no longer primary', () => {
    const out = applyPatch(USER, user(), ops({ op: 'add', path: 'emails', value: [{ value: 'new@example.com', type: 'work', primary: true }] }));
    expect(out.emails).toEqual([
      { value: 'ada@example.com', type: 'work', primary: false },
      { value: 'new@example.com', type: 'work', primary: true },
    ]);
  });

  it('when a sub-attribute or a whole extension is removed, then it is gone and the rest stays', () => {
    const out = applyPatch(USER, user(), ops({ op: 'remove', path: `${SCIM.enterprise}:manager` }, { op: 'remove', path: SCIM.ems }));
    expect(out[SCIM.enterprise]).toEqual({ employeeNumber: 'E1', department: 'Engineering' });
    expect(out[SCIM.ems]).toEqual({});
  });

  it('when members are added and removed, then the Group has exactly those; a removal of someone absent changes nothing', () => {
    const added = applyPatch(GROUP, group(), ops({ op: 'add', path: 'members', value: [{ value: 'E3' }, { value: 'E1' }] }));
    expect(added.members).toEqual([{ value: 'E1' }, { value: 'E2' }, { value: 'E3' }]);
    const removed = applyPatch(GROUP, added, ops({ op: 'remove', path: 'members[value eq "E2"]' }, { op: 'remove', path: 'members', value: [{ value: 'E3' }] }, { op: 'remove', path: 'members[value eq "E404"]' }));
    expect(removed.members).toEqual([{ value: 'E1' }]);
    expect(applyPatch(GROUP, removed, ops({ op: 'remove', path: 'members[value eq "E1"]' })).members).toBeUndefined();
  });

  it('when an operation is wrong, then the refusal names it with the RFC keyword and the resource is untouched', () => {
    const before = user();
    expect(refusal(() => applyPatch(USER, before, ops({ op: 'replace', path: 'title', value: 'x' }, { op: 'replace', path: 'emails[type eq "home"].value', value: 'x' }))).scimType).toBe('noTarget');
    expect(refusal(() => applyPatch(USER, before, ops({ op: 'replace', path: 'meta.version', value: 'x' }))).scimType).toBe('mutability');
    expect(refusal(() => applyPatch(USER, before, ops({ op: 'replace', path: 'groups', value: [] }))).scimType).toBe('mutability');
    expect(refusal(() => applyPatch(USER, before, ops({ op: 'replace', path: 'nickName', value: 'x' }))).scimType).toBe('invalidPath');
    expect(refusal(() => applyPatch(USER, before, ops({ op: 'replace', path: 'title[value eq "x"]', value: 'x' }))).scimType).toBe('invalidPath');
    expect(refusal(() => applyPatch(GROUP, group(), ops({ op: 'replace', path: 'displayName', value: 'admins' }))).scimType).toBe('mutability');
    expect(before).toEqual(user());
  });

  it('when the body is not a PatchOp, then it is refused before anything is looked at', () => {
    expect(refusal(() => parsePatchBody({ Operations: [] })).scimType).toBe('invalidValue');
    expect(refusal(() => parsePatchBody({ schemas: [SCIM.patch], Operations: [] })).scimType).toBe('invalidValue');
    expect(refusal(() => parsePatchBody({ schemas: [SCIM.patch], Operations: [{ op: 'move', path: 'title' }] })).scimType).toBe('invalidValue');
    expect(refusal(() => parsePatchBody({ schemas: [SCIM.patch], Operations: [{ op: 'remove' }] })).scimType).toBe('noTarget');
    expect(refusal(() => parsePatchBody({ schemas: [SCIM.patch], Operations: [{ op: 'add', path: 'title' }] })).scimType).toBe('invalidValue');
    expect(refusal(() => parsePatchBody({ schemas: [SCIM.patch], Operations: [{ op: 'add', path: 'a[b eq', value: 1 }] })).scimType).toBe('invalidPath');
    expect(refusal(() => parsePatchBody([])).scimType).toBe('invalidSyntax');
  });
});
