import { describe, expect, it } from 'vitest';
import { ConfigError, createLogger, createPool } from '@ems/platform';
import { loadConfig } from './config.ts';
import { setupAuth } from './auth-setup.ts';

const log = createLogger({ level: 'silent' });
const KEY = Buffer.alloc(32, 3).toString('base64');
/** Never connects: setupAuth checks the configuration before any request is made. */
const pool = createPool('postgres://nobody@127.0.0.1:9/none', { max: 1 });
const setup = (env: Record<string, string>) => setupAuth(loadConfig({ EMS_SECRETS_KEY: KEY, ...env }), { pool, log, selfUrl: 'http://127.0.0.1:3000', publicUrl: 'http://localhost:3000', extensionPolicies: [] });

describe('the trust boundary of a process, from its configuration', () => {
  it('when the built-in development provider would serve on a non-loopback interface, then start-up stops and says what to do', () => {
    expect(() => setup({ EMS_HOST: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => setup({ EMS_HOST: '0.0.0.0' })).toThrow(/EMS_OIDC_ISSUER.*EMS_DEV_IDENTITY_ALLOW_NETWORK/s);
    for (const host of ['127.0.0.1', 'localhost', '::1']) expect(() => setup({ EMS_HOST: host })).not.toThrow();
  });

  it('when a network demo explicitly allows it, or an external provider is configured, then it starts', () => {
    expect(() => setup({ EMS_HOST: '0.0.0.0', EMS_DEV_IDENTITY_ALLOW_NETWORK: 'true' })).not.toThrow();
    expect(() => setup({ EMS_HOST: '0.0.0.0', EMS_OIDC_ISSUER: 'https://idp.example.com/realms/acme', EMS_OIDC_CLIENT_SECRET: 's' })).not.toThrow();
  });

  it('when an external provider is configured without the web client secret, then start-up stops naming it', () => {
    expect(() => setup({ EMS_OIDC_ISSUER: 'https://idp.example.com/realms/acme' })).toThrow(/EMS_OIDC_CLIENT_SECRET/);
  });

  it('when a service of this process has no credentials at an external provider, then asking for them names the setting', () => {
    const auth = setup({ EMS_SERVICES: 'hr', EMS_OIDC_ISSUER: 'https://idp.example.com/realms/acme', EMS_DATABASE_URL: 'postgres://x@h/db' });
    expect(() => auth.callAuth('hr')).toThrow(/EMS_SERVICE_CLIENT_SECRET_HR/);
  });

  it('when a secret is invalid configuration, then the message names the key but never repeats the secret', () => {
    const messageOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    };
    const tooLong = `s3cret-${'x'.repeat(600)}`;
    const bad = messageOf(() => loadConfig({ EMS_OIDC_CLIENT_SECRET: tooLong, EMS_SMTP_URL: 'ftp://mailer:hunter2@mail.example' }));
    expect(bad).toContain('EMS_OIDC_CLIENT_SECRET');
    expect(bad).toContain('EMS_SMTP_URL');
    expect(bad).not.toContain('s3cret');
    expect(bad).not.toContain('hunter2');
    const shortKey = messageOf(() => setup({ EMS_SECRETS_KEY: 'c2hvcnQtYnV0LXNlY3JldA==' }));
    expect(shortKey).toContain('EMS_SECRETS_KEY');
    expect(shortKey).not.toContain('c2hvcnQtYnV0LXNlY3JldA');
  });
});
