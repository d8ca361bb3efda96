import { describe, expect, it } from 'vitest';
import { ConfigError } from '@ems/platform';
import { loadConfig } from './config.ts';

describe('configuration', () => {
  it('when nothing is set, then the embedded defaults apply', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, mode: 'orchestration', databaseUrl: undefined, smtpUrl: undefined, seed: true, noticeDays: 28 });
    expect(c.dataDir).toMatch(/\.ems-data$/);
  });
  it('when values are invalid, then start-up stops with a message naming every bad key', () => {
    let error: unknown;
    try {
      loadConfig({ EMS_PORT: 'abc', EMS_MODE: 'telepathy', EMS_DATABASE_URL: 'mysql://x', EMS_SEED: 'maybe' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const key of ['EMS_PORT', 'EMS_MODE', 'EMS_DATABASE_URL', 'EMS_SEED']) expect(message).toContain(key);
    expect(message).toContain('"abc"');
  });
  it('when a value is an empty string, then it counts as unset', () => {
    expect(loadConfig({ EMS_PORT: '' }).port).toBe(3000);
  });
  it('when service URLs have a trailing slash, then it is dropped', () => {
    expect(loadConfig({ EMS_HR_URL: 'http://hr.internal:8080/' }).serviceUrls.hr).toBe('http://hr.internal:8080');
  });
});
