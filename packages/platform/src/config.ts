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
        return `${key}: ${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`;
      }),
    );
  }
  return result.data;
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
