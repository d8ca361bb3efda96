import { z } from 'zod';

/** Raised when configuration is invalid; the message names every offending key. */
export class ConfigError extends Error {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * Parses environment variables with a zod object schema whose keys are the env names
 * (e.g. `EMS_PORT`). Empty strings count as unset, so `EMS_PORT= npm start` takes the default.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = issue.path.join('.') || '(config)';
        const got = typeof issue.path[0] === 'string' ? input[issue.path[0]] : undefined;
        return `${key}: ${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(redacted(key, got))})`}`;
      }),
    );
  }
  return result.data;
}

/**
 * Edit distance between two names (optimal string alignment: insertions, deletions, substitutions and
 * swaps of two neighbours each cost 1), so `EMS_SMPT_URL` is one edit from `EMS_SMTP_URL`.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate nearest to `name`, when it is near enough to be what was meant (at most a third of the
 * name's characters differ, past the shared prefix); ties go to the first candidate in order.
 */
export function nearestName(name: string, candidates: Iterable<string>, prefix = ''): string | undefined {
  const tail = name.startsWith(prefix) ? name.slice(prefix.length) : name;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(tail, candidate.startsWith(prefix) ? candidate.slice(prefix.length) : candidate);
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  return best && best.distance <= Math.max(1, Math.floor(tail.length / 3)) ? best.name : undefined;
}

/**
 * Refuses variables under `prefix` that no one reads: a misspelt setting would otherwise be ignored and its
 * default used in silence. Variables under a reserved prefix (e.g. `EMS_TEST_`) and empty ones (unset, as
 * everywhere) are let through. Throws a ConfigError naming each unknown variable and the nearest known one.
 */
export function checkEnvNames(env: NodeJS.ProcessEnv, options: { prefix: string; known: Iterable<string>; reservedPrefixes?: readonly string[]; product: string }): void {
  const known = new Set(options.known);
  const unknown = Object.keys(env)
    .filter((key) => key.startsWith(options.prefix) && env[key] !== undefined && env[key] !== '')
    .filter((key) => !known.has(key) && !(options.reservedPrefixes ?? []).some((p) => key.startsWith(p)))
    .sort();
  if (!unknown.length) return;
  throw new ConfigError(
    unknown.map((key) => {
      const near = nearestName(key, [...known].sort(), options.prefix);
      return `${key} is not a setting ${options.product} knows — ${near ? `did you mean ${near}?` : 'see the configuration table in the README'}`;
    }),
  );
}

/** A configuration value as it may appear in an error message: never a secret, never a URL's password. */
export function redacted(key: string, value: string): string {
  if (/SECRET|PASSWORD|_KEY$|TOKEN/.test(key)) return '(hidden)';
  // user:password@ keeps the user; a lone credential before @ is a token (nats://token@host): hidden whole.
  return value.replace(/\/\/([^/@\s:]*):[^/@\s]*@/g, '//$1:(hidden)@').replace(/\/\/[^/@\s:]+@/g, '//(hidden)@');
}

/** `true`/`false`/`1`/`0`/`yes`/`no` from an environment variable. */
export const envBoolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A TCP port; 0 means "pick a free one". */
export const envPort = z.coerce.number().int().min(0).max(65535);

export const envPostgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL');

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** '1500ms', '90s', '15m', '4h', '2d' (or a combination: '1d12h') → milliseconds; null when malformed. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim();
  if (!/^(\d+(ms|s|m|h|d))+$/.test(trimmed)) return null;
  let total = 0;
  for (const [, n, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(n) * DURATION_UNITS[unit!]!;
  return total;
}

/** A duration from an environment variable, e.g. `2d`, `4h`, `90s`, `500ms`; in milliseconds. */
export const envDuration = z.string().transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: "must be a duration like '500ms', '90s', '15m', '4h', '2d' or '1d12h'" });
    return z.NEVER;
  }
  return ms;
});

/** A signed duration (`-2d` allowed), for EMS_CLOCK_OFFSET. */
export const envSignedDuration = z.string().transform((v, ctx) => {
  const negative = v.trim().startsWith('-');
  const ms = parseDuration(negative ? v.trim().slice(1) : v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: "must be a duration like '90s', '-4h' or '2d12h'" });
    return z.NEVER;
  }
  return negative ? -ms : ms;
});
