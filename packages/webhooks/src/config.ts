import { envBoolean, parseEnv } from '@ems/platform';
import { z } from 'zod';

/**
 * Settings of the webhook service, for the composition root to read and pass to
 * createWebhookService (the factory itself takes plain values, so tests need no environment).
 */
export const WebhooksConfigSchema = z.object({
  EMS_WEBHOOKS_ALLOW_PRIVATE_TARGETS: envBoolean
    .default(false)
    .describe('Allow webhook URLs on loopback, private, link-local, metadata or other internal addresses and local names (off: a webhook cannot be aimed at internal services, however its URL is written or its name resolves)'),
  EMS_WEBHOOKS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000).describe('How long one delivery may take before it counts as failed'),
});

export interface WebhooksConfig {
  allowPrivateTargets: boolean;
  timeoutMs: number;
}

export function webhooksConfig(env: NodeJS.ProcessEnv): WebhooksConfig {
  const c = parseEnv(WebhooksConfigSchema, env);
  return { allowPrivateTargets: c.EMS_WEBHOOKS_ALLOW_PRIVATE_TARGETS, timeoutMs: c.EMS_WEBHOOKS_TIMEOUT_MS };
}
