import { checkWebhookTarget, parseDuration } from '@ems/platform';
import { z } from 'zod';

/**
 * The signed HTTP connector's settings, as a system in the systems file carries them:
 *
 *   { "type": "http", "settings": { "url": "https://payroll.example.com/ems/access", "secretFile": "payroll.secret",
 *     "timeout": "10s" } }
 *
 * The URL is held to the webhooks' policy (@ems/platform outbound-target.ts): http(s), no credentials,
 * and no internal address or local name unless `allowPrivateTargets` is true — checked here, and again
 * on every request against what the name resolves to.
 */

const Duration = z.string().transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === null || ms < 100 || ms > 300_000) {
    ctx.addIssue({ code: 'custom', message: "must be a duration between 100ms and 5m, like '500ms', '10s' or '1m'" });
    return z.NEVER;
  }
  return ms;
});

export const HttpSettingsSchema = z
  .strictObject({
    url: z.string().min(1),
    /** The signing secret itself (prefer secretFile). Any string of 16 characters or more; `whsec_…` as webhooks use is fine. */
    secret: z.string().min(16).optional(),
    /** A file holding the signing secret (read at start, trimmed; relative to the systems file). */
    secretFile: z.string().min(1).optional(),
    /** How long the receiver has to acknowledge a change (2xx). */
    timeout: Duration.default(10_000),
    /** Allow a URL on a private network, loopback or a local name (refused by default, like webhooks). */
    allowPrivateTargets: z.boolean().default(false),
    /** A PEM file of extra certificate authorities to trust for https (besides the system's). */
    caFile: z.string().min(1).optional(),
  })
  .transform((s, ctx) => {
    if ((s.secret === undefined) === (s.secretFile === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['secretFile'], message: 'give exactly one of secret or secretFile (the signing secret)' });
      return z.NEVER;
    }
    const target = checkWebhookTarget(s.url, s.allowPrivateTargets);
    if (!target.ok) {
      const hint = target.reason.includes('internal address') ? ' (allowPrivateTargets: true allows it)' : '';
      ctx.addIssue({ code: 'custom', path: ['url'], message: `${target.reason}${hint}` });
      return z.NEVER;
    }
    return { ...s, url: target.url };
  });

export type HttpSettings = z.output<typeof HttpSettingsSchema>;
