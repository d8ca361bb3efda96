import { describe, expect, it } from 'vitest';
import { ConfigError } from '@ems/platform';
import { AssetsConfigSchema, assetsConfig } from './config.ts';

describe('assets configuration', () => {
  it('when EMS_ASSETS_ITEMS is unset or empty, then a laptop and a badge are recovered', () => {
    expect(assetsConfig({}).items).toEqual(['laptop', 'badge']);
    expect(assetsConfig({ EMS_ASSETS_ITEMS: '' }).items).toEqual(['laptop', 'badge']);
  });

  it('when EMS_ASSETS_ITEMS lists items, then they are trimmed and kept in order', () => {
    expect(assetsConfig({ EMS_ASSETS_ITEMS: ' phone, laptop ,security-key' }).items).toEqual(['phone', 'laptop', 'security-key']);
  });

  it.each([
    ['laptop,,badge', 'an empty item'],
    ['Laptop', 'upper case'],
    ['laptop,laptop', 'a repeated item'],
    ['laptop;badge', 'a wrong separator'],
  ])('when EMS_ASSETS_ITEMS is %j (%s), then start-up stops naming the key', (value) => {
    expect(() => assetsConfig({ EMS_ASSETS_ITEMS: value })).toThrow(ConfigError);
    expect(() => assetsConfig({ EMS_ASSETS_ITEMS: value })).toThrow(/EMS_ASSETS_ITEMS/);
  });
});

describe('the settings the extension declares to EMS', () => {
  it('when EMS checks the EMS_* variables it is given, then every setting the extension reads is declared (so none is refused as unknown)', async () => {
    const mod = (await import('./index.ts')) as { settings?: unknown };
    expect(mod.settings).toEqual(Object.keys(AssetsConfigSchema.shape));
    expect(mod.settings).toContain('EMS_ASSETS_ITEMS');
  });
});
