import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { bindable, freePort } from './embedded-postgres.ts';
import { freePortRange } from './testing.ts';

/** The first port the kernel gives outgoing connections (Linux); null elsewhere. */
async function ephemeralStart(): Promise<number | null> {
  try {
    return Number((await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/)[0]);
  } catch {
    return null;
  }
}

describe('freePort and freePortRange', () => {
  it('when a port is picked, then it is bindable and below the range the OS gives outgoing connections', async () => {
    const start = (await ephemeralStart()) ?? 32_768;
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(start);
    }
    expect(await bindable(ports[0]!)).toBe(true);
  });

  it('when a range is picked, then each of its ports is below the ephemeral range and bindable', async () => {
    const start = (await ephemeralStart()) ?? 32_768;
    const base = await freePortRange(4);
    expect(base + 4).toBeLessThanOrEqual(start);
    for (let p = base; p < base + 4; p++) expect(await bindable(p)).toBe(true);
  });
});
