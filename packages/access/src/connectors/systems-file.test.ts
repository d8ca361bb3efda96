import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSystemsFile, parseSystemsFile, readSecretFile, SystemsFileError } from './systems-file.ts';

const issuesOf = (text: string): string[] => {
  try {
    parseSystemsFile(text, '/etc/ems');
  } catch (err) {
    if (err instanceof SystemsFileError) return [...err.issues];
    throw err;
  }
  throw new Error('expected the file to be refused');
};

const scim = { baseUrl: 'https://idp.example.com/scim/v2', token: 'the-token-itself', userFilter: 'userName eq "{email}"' };

describe('the systems file', () => {
  it('when it lists a builtin and a SCIM system, then each is parsed, settings by the connector’s own schema', () => {
    const systems = parseSystemsFile(
      JSON.stringify({
        systems: [
          { id: 'wiki', name: 'Wiki', critical: false, connector: { type: 'builtin' } },
          { id: 'idp', name: 'Identity provider', critical: true, connector: { type: 'scim', settings: scim } },
        ],
      }),
      '/etc/ems',
    );
    expect(systems.map((s) => [s.id, s.type, s.critical, s.baseDir])).toEqual([
      ['wiki', 'builtin', false, '/etc/ems'],
      ['idp', 'scim', true, '/etc/ems'],
    ]);
    expect(systems[1]!.settings).toMatchObject({ baseUrl: 'https://idp.example.com/scim/v2' });
  });

  it('when a system misses a field or has one it does not know, then the problem names the system’s index and the field', () => {
    const issues = issuesOf(JSON.stringify({ systems: [{ id: 'ok', name: 'Ok', critical: true, connector: { type: 'builtin' } }, { id: 'x', name: 'X', connector: { type: 'builtin' }, colour: 'red' }] }));
    expect(issues.some((i) => i.startsWith('systems[1].critical:'))).toBe(true);
    expect(issues.some((i) => i.startsWith('systems[1]') && i.includes('colour'))).toBe(true);
    expect(issues.every((i) => !i.startsWith('systems[0]'))).toBe(true);
  });

  it('when a system\u2019s name holds a NUL or another control character, then it is refused naming the field (it would fail start-up in the database instead)', () => {
    const issues = issuesOf(JSON.stringify({ systems: [{ id: 'wiki', name: 'Wiki\u0000', critical: false, connector: { type: 'builtin' } }, { id: 'crm', name: 'CRM\nline', critical: false, connector: { type: 'builtin' } }] }));
    expect(issues.filter((i) => i.startsWith('systems[0].name:'))).toHaveLength(1);
    expect(issues.filter((i) => i.startsWith('systems[1].name:'))).toHaveLength(1);
  });

  it('when a connector type is unknown, then it is refused, naming the types EMS knows', () => {
    const [issue] = issuesOf(JSON.stringify({ systems: [{ id: 'k', name: 'K', critical: true, connector: { type: 'kerberos', settings: {} } }] }));
    expect(issue).toMatch(/^systems\[0\]\.connector\.type: unknown connector type "kerberos" \(known: builtin, ldap, scim, http\)/);
  });

  it('when two systems share an id, then the second is refused naming the first', () => {
    const entry = { id: 'dup', name: 'D', critical: true, connector: { type: 'builtin' } };
    expect(issuesOf(JSON.stringify({ systems: [entry, entry] }))).toEqual(['systems[1].id: "dup" is already the id of systems[0]']);
  });

  it('when a connector’s settings are wrong, then the problem names the setting and never echoes a secret', () => {
    const issues = issuesOf(JSON.stringify({ systems: [{ id: 'idp', name: 'IdP', critical: true, connector: { type: 'scim', settings: { ...scim, baseUrl: 'ftp://idp.example.com' } } }] }));
    expect(issues.some((i) => i.startsWith('systems[0].connector.settings.baseUrl:'))).toBe(true);
    expect(issues.join('\n')).not.toContain('the-token-itself');
  });

  it('when the file is not JSON, or the top level is not { systems: [...] }, then it says so', () => {
    expect(issuesOf('{ systems: ')[0]).toMatch(/^not JSON/);
    expect(issuesOf(JSON.stringify({ system: [] }))).toEqual(expect.arrayContaining([expect.stringMatching(/systems/)]));
  });

  it('when a secret written inline breaks the JSON (no quotes around it), then the error says where, never a piece of the secret', () => {
    const text = `{ "systems": [ { "id": "corp-ldap", "name": "Directory", "critical": true,\n  "connector": { "type": "ldap", "settings": { "bindPassword": s3cr3t-Pa55w0rd } } } ] }`;
    const [issue] = issuesOf(text);
    expect(issue).toMatch(/^not JSON/);
    expect(issue).toMatch(/line 2, column \d+/);
    for (const piece of ['s3cr3t', 'Pa55', "'s'"]) expect(issue).not.toContain(piece);
  });

  it('when the file cannot be read, then the error names why, not its content', () => {
    expect(() => loadSystemsFile('/nonexistent/ems-systems.json')).toThrow(/cannot read it: ENOENT/);
  });

  it('when a secret file is named relative to the systems file, then it is read from the systems file’s folder, trimmed; a missing one is named, never its content', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ems-systems-'));
    writeFileSync(path.join(dir, 'bind.secret'), 's3cret\n');
    expect(readSecretFile('bind.secret', dir)).toBe('s3cret');
    expect(() => readSecretFile('missing.secret', dir)).toThrow(`secret file ${path.join(dir, 'missing.secret')} cannot be read: ENOENT`);
  });
});
