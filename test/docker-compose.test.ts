/**
 * docker-compose.yml cannot be run here (no Docker daemon): its structure is checked instead (issue 12,
 * defect 12) — no password in the file, NATS with authentication, only EMS's gateway on every interface.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '..');
interface Service {
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  ports?: Array<string | { host_ip?: string; published?: string | number }>;
}
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = Object.entries(compose.services);
/** A value taken from .env (or the shell) when compose runs: `${NAME}`, `${NAME:?message}`. */
const REFERENCE = /^\$\{[A-Z0-9_]+(:?\?[^}]*)?\}$/;
const SECRET_KEY = /PASSWORD|SECRET|_KEY$|TOKEN/;

describe('docker-compose.yml', () => {
  it('when it sets a password, secret or key, then the value comes from .env, never from the file', () => {
    const secrets = services.flatMap(([name, s]) => Object.entries(s.environment ?? {}).filter(([key]) => SECRET_KEY.test(key)).map(([key, value]) => [`${name}.${key}`, String(value)] as const));
    expect(secrets.length).toBeGreaterThan(5);
    for (const [where, value] of secrets) expect(value, where).toMatch(REFERENCE);
  });

  it('when a URL carries credentials, then its password comes from .env', () => {
    const urls = services.flatMap(([name, s]) => Object.entries(s.environment ?? {}).map(([key, value]) => [`${name}.${key}`, String(value)] as const)).filter(([, v]) => /^[a-z]+:\/\/[^/]*@/.test(v));
    expect(urls.map(([where]) => where)).toEqual(expect.arrayContaining(['ems.EMS_NATS_URL', 'migrate.EMS_DATABASE_URL']));
    for (const [where, url] of urls) {
      const password = /^[a-z]+:\/\/[^:/@]*:(.*)@[^@]*$/.exec(url)?.[1];
      expect(password, `${where} has a password`).toBeDefined();
      expect(password, where).toMatch(REFERENCE);
    }
  });

  it("when a service runs, then it logs in as its own database role (its URL from .env, printed by ems credentials); only migrate has the admin's", () => {
    for (const [name, s] of services.filter(([, s]) => s.command?.[0] === 'start')) {
      const service = s.command![s.command!.indexOf('--service') + 1]!;
      expect(String(s.environment?.EMS_DATABASE_URL), name).toBe(`\${DATABASE_URL_${service.toUpperCase()}:?run npx ems credentials >> .env first}`);
    }
    const admin = services.filter(([, s]) => String(s.environment?.EMS_DATABASE_URL ?? '').includes('POSTGRES_PASSWORD')).map(([name]) => name);
    expect(admin).toEqual(['migrate']);
  });

  it('when NATS runs, then clients must sign in, and EMS signs in with the password from .env', () => {
    const command = compose.services.nats!.command ?? [];
    const pass = command[command.indexOf('--pass') + 1];
    expect(command).toContain('--user');
    expect(command.indexOf('--pass')).toBeGreaterThan(-1);
    expect(pass).toMatch(REFERENCE);
    const user = command[command.indexOf('--user') + 1];
    for (const [name, s] of services.filter(([, s]) => s.environment?.EMS_NATS_URL !== undefined)) {
      expect(String(s.environment!.EMS_NATS_URL), name).toBe(`nats://${user}:${pass}@nats:4222`);
    }
  });

  it("when a port is published, then only EMS's gateway listens on every interface; the rest on 127.0.0.1 only", () => {
    const published = services.flatMap(([name, s]) => (s.ports ?? []).map((p) => [name, typeof p === 'string' ? p : `${p.host_ip ?? ''}:${p.published ?? ''}`] as const));
    expect(published.map(([name]) => name)).toEqual(expect.arrayContaining(['gateway', 'mailpit']));
    for (const [name, port] of published) {
      if (name === 'gateway') continue;
      expect(port, name).toMatch(/^127\.0\.0\.1:/);
    }
    expect(compose.services.postgres!.ports, 'PostgreSQL is not published').toBeUndefined();
    expect(compose.services.nats!.ports, 'NATS is not published').toBeUndefined();
  });

  it('when compose reads .env, then .env is never committed and .env.example names every value it needs', () => {
    expect(readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain('.env');
    expect(readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n'), 'nor sent to the image build').toContain('.env');
    const example = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
    const needed = new Set([...readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8').matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((m) => m[1]!));
    for (const name of needed) expect(example, name).toContain(name);
    // It holds no value for a secret: each is filled in by whoever installs.
    expect(example).toMatch(/^POSTGRES_PASSWORD=$/m);
    expect(example).toMatch(/^NATS_PASSWORD=$/m);
  });
});
