import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@ems/platform';
import { checkSettingNames, ConfigSchema, loadConfig, SETTINGS_OUTSIDE_SCHEMA } from './config.ts';
import { extensionSettings } from './extensions.ts';

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

describe('unknown settings', () => {
  const messageOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('expected a ConfigError');
  };
  it('when EMS_SMTP_URL is misspelt, then start-up is refused naming the setting meant', () => {
    expect(messageOf(() => checkSettingNames({ EMS_SMPT_URL: 'smtp://mail.example:25' }))).toContain('EMS_SMPT_URL is not a setting EMS knows — did you mean EMS_SMTP_URL?');
  });
  it('when every schema key, the CLI and test variables are set, then none is refused', () => {
    const env = Object.fromEntries([...Object.keys(ConfigSchema.shape), ...SETTINGS_OUTSIDE_SCHEMA, 'EMS_TEST_DATABASE_URL', 'EMS_TEST_LOG_LEVEL', 'EMS_FUZZ_RUNS', 'EMS_FUZZ_SEED'].map((k) => [k, 'x']));
    expect(() => checkSettingNames(env)).not.toThrow();
  });
  it("when an extension is loaded, then its declared settings are known, and only then", async () => {
    // A stand-in: no package of EMS names a real extension (see the assets extension's own tests).
    const extension = fileURLToPath(new URL('./testing/declares-settings.extension.ts', import.meta.url));
    expect(messageOf(() => checkSettingNames({ EMS_WIDGETS_COLOUR: 'teal' }))).toContain('EMS_WIDGETS_COLOUR is not a setting EMS knows');
    const declared = await extensionSettings([extension]);
    expect(declared).toContain('EMS_WIDGETS_COLOUR');
    expect(() => checkSettingNames({ EMS_EXTENSIONS: extension, EMS_WIDGETS_COLOUR: 'teal' }, declared)).not.toThrow();
    expect(messageOf(() => checkSettingNames({ EMS_WIDGETS_COLOR: 'teal' }, declared))).toContain('did you mean EMS_WIDGETS_COLOUR?');
  });
  it('when an extension cannot be loaded, then the error names it', async () => {
    await expect(extensionSettings(['@ems/no-such-extension'])).rejects.toThrow(/EMS_EXTENSIONS: cannot load @ems\/no-such-extension/);
  });
});
