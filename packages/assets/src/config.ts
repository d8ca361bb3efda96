import { parseEnv } from '@ems/platform';
import { z } from 'zod';

const Item = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'each item must be a lower-case name like laptop or security-key');

/**
 * The extension's own settings, read from the process environment it is given (EMS passes its own;
 * nothing else in EMS knows these keys). Invalid values stop the start-up with a message naming the key.
 */
export const AssetsConfigSchema = z.object({
  EMS_ASSETS_ITEMS: z
    .string()
    .default('laptop,badge')
    .transform((v) => v.split(',').map((s) => s.trim()))
    .pipe(
      z
        .array(Item)
        .min(1)
        .max(20)
        .refine((items) => new Set(items).size === items.length, 'items must not repeat'),
    )
    .describe('Comma-separated items to collect from every leaver, e.g. laptop,badge,phone'),
});

/** The variables this extension reads: EMS accepts them (an EMS_* name nobody reads stops start-up). */
export const settings: readonly string[] = Object.keys(AssetsConfigSchema.shape);

export interface AssetsConfig {
  /** What every recovery task asks the leaver to hand back. */
  items: readonly string[];
}

export function assetsConfig(env: NodeJS.ProcessEnv): AssetsConfig {
  const c = parseEnv(AssetsConfigSchema, env);
  return { items: c.EMS_ASSETS_ITEMS };
}
