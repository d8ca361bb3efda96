import { describe, expect, it } from 'vitest';
import { ConfigError } from '@ems/platform';
import { webhooksConfig } from './config.ts';

describe('webhooks configuration', () => {
  it('when nothing is set, then internal targets are refused and a delivery may take 10 s', () => {
    expect(webhooksConfig({})).toEqual({ allowPrivateTargets: false, timeoutMs: 10_000 });
  });

  it('when the keys are set, then they are read', () => {
    expect(webhooksConfig({ EMS_WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true', EMS_WEBHOOKS_TIMEOUT_MS: '2500' })).toEqual({ allowPrivateTargets: true, timeoutMs: 2500 });
  });

  it.each([
    { EMS_WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'maybe' },
    { EMS_WEBHOOKS_TIMEOUT_MS: '10' },
    { EMS_WEBHOOKS_TIMEOUT_MS: 'soon' },
  ])('when a key is invalid (%j), then start-up stops naming it', (env) => {
    expect(() => webhooksConfig(env)).toThrow(ConfigError);
    expect(() => webhooksConfig(env)).toThrow(new RegExp(Object.keys(env)[0]!));
  });
});
