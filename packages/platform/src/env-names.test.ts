import { describe, expect, it } from 'vitest';
import { checkEnvNames, ConfigError, editDistance, nearestName, redacted } from './config.ts';

const KNOWN = ['EMS_PORT', 'EMS_HOST', 'EMS_SMTP_URL', 'EMS_SMTP_FROM', 'EMS_NATS_URL', 'EMS_DATABASE_URL'];
const check = (env: NodeJS.ProcessEnv) => checkEnvNames(env, { prefix: 'EMS_', known: KNOWN, reservedPrefixes: ['EMS_TEST_'], product: 'EMS' });
const messageOf = (fn: () => void): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('edit distance', () => {
  it('counts insertions, deletions, substitutions and a swap of neighbours as one edit each', () => {
    expect(editDistance('SMTP', 'SMTP')).toBe(0);
    expect(editDistance('SMPT', 'SMTP')).toBe(1);
    expect(editDistance('SMT', 'SMTP')).toBe(1);
    expect(editDistance('SMTPP', 'SMTP')).toBe(1);
    expect(editDistance('SNTP', 'SMTP')).toBe(1);
    expect(editDistance('', 'ABC')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('nearest name', () => {
  it('when a name is one typo away, then the setting meant is named', () => {
    expect(nearestName('EMS_SMPT_URL', KNOWN, 'EMS_')).toBe('EMS_SMTP_URL');
    expect(nearestName('EMS_PROT', KNOWN, 'EMS_')).toBe('EMS_PORT');
    expect(nearestName('EMS_DATABASE_ULR', KNOWN, 'EMS_')).toBe('EMS_DATABASE_URL');
  });
  it('when nothing is close, then nothing is suggested', () => {
    expect(nearestName('EMS_FAVOURITE_COLOUR', KNOWN, 'EMS_')).toBeUndefined();
  });
});

describe('unknown variables', () => {
  it('when an EMS_* variable is misspelt, then the check stops with its name and the nearest valid one', () => {
    expect(messageOf(() => check({ EMS_SMPT_URL: 'smtp://mail.example:25' }))).toContain('EMS_SMPT_URL is not a setting EMS knows — did you mean EMS_SMTP_URL?');
  });
  it('when several are unknown, then each is named, and one with no near match points to the README', () => {
    const message = messageOf(() => check({ EMS_PROT: '3000', EMS_FAVOURITE_COLOUR: 'teal', EMS_PORT: '3000' }));
    expect(message).toContain('EMS_PROT is not a setting EMS knows — did you mean EMS_PORT?');
    expect(message).toContain('EMS_FAVOURITE_COLOUR is not a setting EMS knows — see the configuration table in the README');
    expect(message).not.toContain('teal');
  });
  it('when only known, reserved (EMS_TEST_*), empty or other variables are set, then nothing is refused', () => {
    expect(() => check({ EMS_PORT: '3000', EMS_TEST_DATABASE_URL: 'postgres://x', EMS_SMPT_URL: '', PATH: '/bin', EMSX: '1' })).not.toThrow();
  });
});

describe('values in configuration errors', () => {
  it('when a URL carries a password or a token, then it is hidden; the rest of the URL stays readable', () => {
    expect(redacted('EMS_NATS_URL', 'nats://ems:s3cret@nats:4222,nats://ems:s3cret@nats2:4222')).toBe('nats://ems:(hidden)@nats:4222,nats://ems:(hidden)@nats2:4222');
    expect(redacted('EMS_NATS_URL', 'nats://t0ken@nats:4222')).toBe('nats://(hidden)@nats:4222');
    expect(redacted('EMS_NATS_URL', 'nats://nats:4222')).toBe('nats://nats:4222');
    expect(redacted('EMS_SECRETS_KEY', 'abc')).toBe('(hidden)');
  });
});
