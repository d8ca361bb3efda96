import { describe, expect, it } from 'vitest';
import { nameUuid } from './name-uuid.ts';

describe('nameUuid', () => {
  it('when a name is given, then the id is this exact UUID (EMS stores batch and case ids made this way: they must never change)', () => {
    expect(nameUuid('ems.exit-batch:key-1')).toBe('b47bb9a6-4ad2-86d4-a0df-9426ded22c1d');
    expect(nameUuid('ems.exit:00000000-0000-0000-0000-000000000001:E1001')).toBe('de7ee44b-d8d7-8688-a567-58a19bce5657');
    expect(nameUuid('ems.exits-started:00000000-0000-0000-0000-000000000001:1')).toBe('a42ddef8-9889-89a3-82bd-b0b03485bc47');
    expect(nameUuid('')).toBe('e3b0c442-98fc-8c14-9afb-f4c8996fb924');
  });

  it('when names differ, then ids differ; every id is a version 8 UUID with the RFC variant', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => nameUuid(`n:${i}`));
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
