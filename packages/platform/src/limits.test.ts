import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { DEFAULT_HTTP_LIMITS, hostAllowed, installLimits, type HttpLimits } from './limits.ts';

describe('the Host allow-list', () => {
  const allowed = ['localhost', '127.0.0.1', '[::1]', 'ems.example.com', 'ems.example.com:443', 'gateway:3000'];

  it('when a name is listed without a port, then it is answered on any port', () => {
    expect(hostAllowed(allowed, 'localhost:3000')).toBe(true);
    expect(hostAllowed(allowed, 'LOCALHOST')).toBe(true);
    expect(hostAllowed(allowed, '[::1]:8080')).toBe(true);
    expect(hostAllowed(allowed, 'localhost.:3000')).toBe(true);
  });

  it('when a name is listed with a port, then only that port is answered', () => {
    expect(hostAllowed(allowed, 'gateway:3000')).toBe(true);
    expect(hostAllowed(allowed, 'gateway:3001')).toBe(false);
    expect(hostAllowed(allowed, 'gateway')).toBe(false);
  });

  it('when the Host is foreign, missing or a look-alike, then it is refused', () => {
    expect(hostAllowed(allowed, 'attacker.example:3000')).toBe(false);
    expect(hostAllowed(allowed, 'localhost.attacker.example')).toBe(false);
    expect(hostAllowed(allowed, '127.0.0.1.nip.io:3000')).toBe(false);
    expect(hostAllowed(allowed, undefined)).toBe(false);
    expect(hostAllowed(allowed, '')).toBe(false);
  });

  it('when * is listed, then any Host is answered', () => {
    expect(hostAllowed(['*'], 'anything.example')).toBe(true);
  });
});

describe('Strict-Transport-Security', () => {
  async function hsts(https: boolean): Promise<string | undefined> {
    const app = Fastify();
    const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, https };
    await installLimits(app, limits);
    app.get('/x', async () => ({ ok: true }));
    const res = await app.inject({ method: 'GET', url: '/x' });
    await app.close();
    return res.headers['strict-transport-security'];
  }

  it('when EMS is served over https, then HSTS is sent; over http, never', async () => {
    expect(await hsts(true)).toMatch(/max-age=\d+/);
    expect(await hsts(false)).toBeUndefined();
  });
});
