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

/** A configuration value as it may appear in an error message: never a secret, never a URL's password. */
export function redacted(key: string, value: string): string {
  if (/SECRET|PASSWORD|_KEY$|TOKEN/.test(key)) return '(hidden)';
  return value.replace(/\/\/([^/@\s:]*):[^/@\s]*@/g, '//$1:(hidden)@');
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
