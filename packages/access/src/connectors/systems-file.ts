import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { StorableLine } from '@ems/contracts';
import { connectorFactory, type SystemConfig } from './registry.ts';

/**
 * The systems file (EMS_ACCESS_SYSTEMS_FILE): the systems Access carries its decisions to, each with its
 * connector and that connector's own settings.
 *
 *   { "systems": [ { "id": "corp-ldap", "name": "Corporate directory", "critical": true,
 *                    "connector": { "type": "ldap", "settings": { … the connector's strict schema … } } } ] }
 *
 * Everything is checked at start-up; a mistake stops it with every problem named by its place in the
 * file (`systems[1].connector.settings.url: …`). Secrets stay in the settings' `…File` paths (resolved
 * from the file's folder) and are read by the connector, never echoed in an error.
 */

const SystemId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be 1-100 letters, digits, . _ - (starting with a letter or digit)');

const SystemEntry = z.strictObject({
  id: SystemId,
  // One line, storable: a NUL would fail start-up in the database rather than here, naming the field.
  name: StorableLine.trim().min(1).max(200),
  critical: z.boolean(),
  connector: z.strictObject({
    type: z.string().min(1),
    settings: z.unknown().optional(),
  }),
});

const SystemsFile = z.strictObject({ systems: z.array(z.unknown()).max(1000) });

/** The problems found in a systems file, each naming where (file, index, field). */
export class SystemsFileError extends Error {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(issues.join('; '));
    this.name = 'SystemsFileError';
    this.issues = issues;
  }
}

const where = (pathParts: ReadonlyArray<PropertyKey>): string =>
  pathParts.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}${acc ? '.' : ''}${String(p)}`), '');

const zodIssues = (prefix: string, error: z.ZodError): string[] => error.issues.map((i) => `${[prefix, where(i.path)].filter(Boolean).join('.')}: ${i.message}`);

/** Parses the file's text; `baseDir` is where relative secret paths resolve. Throws SystemsFileError. */
export function parseSystemsFile(text: string, baseDir: string): SystemConfig[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SystemsFileError([`not JSON: ${jsonErrorWithoutSource((err as Error).message, text)}`]);
  }
  const file = SystemsFile.safeParse(json);
  if (!file.success) throw new SystemsFileError(zodIssues('', file.error));

  const issues: string[] = [];
  const systems: SystemConfig[] = [];
  const seen = new Map<string, number>();
  file.data.systems.forEach((raw, index) => {
    const at = `systems[${index}]`;
    const entry = SystemEntry.safeParse(raw);
    if (!entry.success) {
      issues.push(...zodIssues(at, entry.error));
      return;
    }
    const { id, name, critical, connector } = entry.data;
    const first = seen.get(id);
    if (first !== undefined) issues.push(`${at}.id: "${id}" is already the id of systems[${first}]`);
    else seen.set(id, index);

    if (connector.type === 'builtin') {
      if (connector.settings !== undefined) issues.push(`${at}.connector.settings: the builtin connector takes no settings`);
      systems.push({ id, name, critical, type: 'builtin', settings: undefined, baseDir });
      return;
    }
    const factory = connectorFactory(connector.type);
    if ('refused' in factory) {
      issues.push(`${at}.connector.type: ${factory.refused}`);
      return;
    }
    try {
      const settings: unknown = factory.parseSettings(connector.settings ?? {});
      systems.push({ id, name, critical, type: factory.type, settings, baseDir });
    } catch (err) {
      if (err instanceof z.ZodError) issues.push(...zodIssues(`${at}.connector.settings`, err));
      else issues.push(`${at}.connector.settings: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  if (issues.length > 0) throw new SystemsFileError(issues);
  return systems;
}

/** Line and column (1-based) of a position in `text`. */
function lineColumn(text: string, position: number): string {
  const before = text.slice(0, position).split('\n');
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

/**
 * JSON.parse's message without the piece of the file it may quote — `Unexpected token 'h', ..."assword":
 * hunter2-ve"... is not valid JSON` repeats a secret written inline without quotes — but with where it is.
 * V8 quotes up to 10 characters either side of the position.
 */
export function jsonErrorWithoutSource(message: string, text: string): string {
  const quoted = /^(Unexpected token) '[\s\S]*?', (\.\.\.)?"([\s\S]*)"(\.\.\.)? is not valid JSON$/.exec(message);
  if (quoted) {
    const [, what, lead, window, trail] = quoted as unknown as [string, string, string | undefined, string, string | undefined];
    const start = lead ? text.indexOf(window) : 0;
    const position = lead && start >= 0 ? start + 10 : !lead && trail ? window.length - 10 : undefined;
    return position === undefined ? `${what.toLowerCase()}` : `${what.toLowerCase()} at ${lineColumn(text, position)}`;
  }
  const positioned = /^([\s\S]*?) in JSON at position (\d+)/.exec(message);
  if (positioned) return `${positioned[1]!} at ${lineColumn(text, Number(positioned[2]))}`;
  // Any other wording: said without whatever it might quote.
  return message.replace(/(\.\.\.)?"[\s\S]*"(\.\.\.)?/, '(…)').replace(/'[\s\S]*?'/, '');
}

/** Reads and parses the systems file at `file`. Throws SystemsFileError (a file that cannot be read included). */
export function loadSystemsFile(file: string): SystemConfig[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SystemsFileError([`cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  return parseSystemsFile(text, path.dirname(path.resolve(file)));
}

/** A connector's secret file, read at start (trimmed); a relative path resolves from the systems file's folder. Errors name the file, never its content. */
export function readSecretFile(file: string, baseDir: string): string {
  const full = path.resolve(baseDir, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new Error(`secret file ${full} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const secret = text.trim();
  if (!secret) throw new Error(`secret file ${full} is empty`);
  return secret;
}
