import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may point. Webhook URLs come from API callers, so without a guard a webhook could
 * make EMS POST into its own network (cloud metadata, the database host, admin ports): server-side
 * request forgery. Unless private targets are allowed, loopback, private, link-local, CGNAT, multicast
 * and reserved addresses are refused — here for literal addresses and `localhost`, and again at
 * delivery time for whatever a host name resolves to (see deliver-event/post-webhook.ts).
 */
const internal = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  internal.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  internal.addSubnet(net, prefix, 'ipv6');
}

/** True for an IP address no webhook should reach unless private targets are allowed. */
export function isInternalAddress(address: string): boolean {
  const v = isIP(address);
  if (v === 4) return internal.check(address, 'ipv4');
  if (v !== 6) return false;
  // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is the IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return internal.check(mapped[1]!, 'ipv4');
  return internal.check(address, 'ipv6');
}

export type TargetCheck = { ok: true; url: string } | { ok: false; reason: string };

/** Validates and normalises a webhook URL: http(s), no credentials, and (unless allowed) not an internal host. */
export function checkWebhookTarget(raw: string, allowPrivateTargets: boolean): TargetCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'url must be an absolute http:// or https:// URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: `url must use http or https, not ${url.protocol.replace(/:$/, '')}` };
  if (url.username || url.password) return { ok: false, reason: 'url must not contain credentials; the signature authenticates deliveries' };
  if (!url.hostname) return { ok: false, reason: 'url must name a host' };
  url.hash = '';
  if (!allowPrivateTargets) {
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (host === 'localhost' || host.endsWith('.localhost') || isInternalAddress(host)) {
      return { ok: false, reason: `url must not point at an internal address (${host})` };
    }
  }
  return { ok: true, url: url.href };
}
