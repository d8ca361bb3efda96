import { isIP } from 'node:net';

/**
 * Where EMS may send a request it was told to send: a webhook (its URL comes from an API caller) or
 * an access connector's endpoint (from the systems file). Without a guard such a URL could make EMS
 * POST into its own network (cloud metadata, the database host, admin ports): server-side request
 * forgery. Unless private targets are allowed, only public hosts are accepted:
 *
 *   registration  URL ──▶ WHATWG parse (normalises 0177.0.0.1, 0x7f.1, 127.1, 2130706433, %31…, ＬＯＣＡＬＨＯＳＴ)
 *                      ──▶ hostHazard(hostname): an internal address literal, however it embeds IPv4,
 *                          or a name that is local by construction (single label, .localhost, .internal, metadata…)
 *   delivery      the same check on the stored URL, then the name is resolved once, every address
 *                 goes through addressHazard, and the socket connects to exactly those addresses
 *                 (outbound-request.ts) — a name that resolves inward is refused there.
 *
 * IPv6 is judged by allow-list: only global unicast (2000::/3) is public, less the blocks in it that
 * are not (documentation, IETF protocol assignments such as Teredo, 6to4 of an internal IPv4), plus
 * the forms that carry an IPv4 address (IPv4-mapped, NAT64), which are judged by that IPv4 address.
 */

type Block = readonly [bytes: readonly number[], prefixBits: number, kind: string];

/** IPv4 blocks that are not the public internet (IANA special-purpose registry, plus cloud metadata). */
const IPV4_BLOCKS: readonly Block[] = [
  [[0], 8, '"this network" (0.0.0.0/8)'],
  [[10], 8, 'private (10.0.0.0/8)'],
  [[100, 64], 10, 'carrier-grade NAT (100.64.0.0/10; Alibaba Cloud metadata lives here)'],
  [[127], 8, 'loopback (127.0.0.0/8)'],
  [[168, 63, 129, 16], 32, 'the Azure platform endpoint (168.63.129.16)'],
  [[169, 254], 16, 'link-local (169.254.0.0/16, where cloud metadata lives)'],
  [[172, 16], 12, 'private (172.16.0.0/12)'],
  [[192, 0, 0], 24, 'reserved for IETF protocols (192.0.0.0/24)'],
  [[192, 0, 2], 24, 'documentation (192.0.2.0/24)'],
  [[192, 88, 99], 24, 'the 6to4 relay anycast (192.88.99.0/24)'],
  [[192, 168], 16, 'private (192.168.0.0/16)'],
  [[198, 18], 15, 'benchmarking (198.18.0.0/15)'],
  [[198, 51, 100], 24, 'documentation (198.51.100.0/24)'],
  [[203, 0, 113], 24, 'documentation (203.0.113.0/24)'],
  [[224], 4, 'multicast (224.0.0.0/4)'],
  [[240], 4, 'reserved (240.0.0.0/4, broadcast included)'],
];

/** IPv6 blocks inside global unicast (2000::/3) that are not public. */
const IPV6_GLOBAL_BLOCKS: readonly Block[] = [
  [[0x20, 0x01, 0x00, 0x00], 32, 'a Teredo tunnel address (2001::/32)'],
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'documentation (2001:db8::/32)'],
  [[0x20, 0x01, 0x00], 23, 'reserved for IETF protocols (2001::/23)'],
  [[0x3f, 0xff, 0x00], 20, 'documentation (3fff::/20)'],
];

/** IPv6 blocks outside global unicast, named so a refusal says what the address is. */
const IPV6_OTHER_BLOCKS: readonly Block[] = [
  [[0, 0x64, 0xff, 0x9b, 0, 1], 48, 'local-use NAT64 (64:ff9b:1::/48)'],
  [[0x01, 0x00, 0, 0, 0, 0, 0, 0], 64, 'discard-only (100::/64)'],
  [[0xfc], 7, 'unique-local (fc00::/7; AWS metadata is fd00:ec2::254)'],
  [[0xfe, 0x80], 10, 'link-local (fe80::/10)'],
  [[0xfe, 0xc0], 10, 'site-local (fec0::/10, deprecated)'],
  [[0xff], 8, 'multicast (ff00::/8)'],
];

/**
 * Names that are local by construction. A single-label name (`metadata`, `instance-data`,
 * `localhost`, `db`) is resolved through the host's search domains, i.e. inside its own network.
 */
const LOCAL_SUFFIXES = [
  'local', // mDNS (RFC 6762); Kubernetes' cluster.local
  'internal', // reserved for private use (ICANN, 2024); metadata.google.internal, *.ec2.internal
  'home.arpa', // RFC 8375
  'localdomain',
  'lan',
  'intranet',
  'corp',
  'private',
  'svc', // Kubernetes service names (kubernetes.default.svc)
  'test', // RFC 6761: never on the public internet
  'invalid',
  'example',
] as const;

/** Cloud metadata services reachable under a public-looking name. */
const METADATA_NAMES = new Set(['metadata', 'instance-data', 'metadata.google.internal', 'metadata.goog', 'metadata.tencentyun.com', 'metadata.packet.net', 'metadata.platformequinix.com', 'instance-data.ec2.internal']);

/**
 * Why `address` (an IP address in any spelling WHATWG URL parsing accepts, or as a resolver answers)
 * is not a public target — e.g. 'loopback (127.0.0.0/8)' — or undefined when it is public or not an address.
 */
export function addressHazard(address: string): string | undefined {
  const ip = parseIp(address);
  if (!ip) return undefined;
  return ip.length === 4 ? ipv4Hazard(ip) : ipv6Hazard(ip);
}

/** True for an IP address no outbound request should reach unless private targets are allowed. */
export function isInternalAddress(address: string): boolean {
  return addressHazard(address) !== undefined;
}

/**
 * Why the host of a URL (`url.hostname`: IPv6 in brackets, IPv4 normalised) is not a public target,
 * or undefined. A public-looking name may still resolve inward: delivery checks what it resolves to.
 */
export function hostHazard(hostname: string): string | undefined {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (isIP(host.replace(/%.*$/, ''))) return addressHazard(host);
  // "localhost." is localhost: the root label changes nothing.
  const name = host.replace(/\.+$/, '');
  if (name === '') return 'not a host name';
  if (METADATA_NAMES.has(name)) return 'a cloud metadata service';
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback (localhost)';
  const suffix = LOCAL_SUFFIXES.find((s) => name === s || name.endsWith(`.${s}`));
  if (suffix) return `a local name (.${suffix})`;
  if (!name.includes('.')) return 'a single-label name, resolved inside the local network';
  return undefined;
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
    // url.hostname is what a connection would use: numeric IPv4 forms, percent-encoding and
    // full-width characters are already normalised by the WHATWG parser.
    const hazard = hostHazard(url.hostname);
    if (hazard) return { ok: false, reason: `url must not point at an internal address: ${url.hostname} is ${hazard}` };
  }
  return { ok: true, url: url.href };
}

function ipv4Hazard(ip: Uint8Array): string | undefined {
  return IPV4_BLOCKS.find((block) => inBlock(ip, block))?.[2];
}

function ipv6Hazard(ip: Uint8Array): string | undefined {
  const zeros = (from: number, to: number) => ip.subarray(from, to).every((b) => b === 0);
  const v4 = ip.subarray(12, 16);
  if (zeros(0, 16)) return 'unspecified (::)';
  if (zeros(0, 15) && ip[15] === 1) return 'loopback (::1)';
  // IPv4 written as IPv6 reaches that IPv4 address: judge it as one.
  if (zeros(0, 10) && ip[10] === 0xff && ip[11] === 0xff) return prefixed('IPv4-mapped', ipv4Hazard(v4));
  if (bytesAre(ip, [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return prefixed('NAT64 of', ipv4Hazard(v4));
  // IPv4-compatible (::a.b.c.d, deprecated by RFC 4291) and IPv4-translated (::ffff:0:a.b.c.d): never public.
  if (zeros(0, 12)) return `IPv4-compatible (::/96, deprecated)${withInner(ipv4Hazard(v4))}`;
  if (zeros(0, 8) && ip[8] === 0xff && ip[9] === 0xff && zeros(10, 12)) return `IPv4-translated (::ffff:0:0/96)${withInner(ipv4Hazard(v4))}`;
  const named = IPV6_OTHER_BLOCKS.find((block) => inBlock(ip, block));
  if (named) return named[2];
  if ((ip[0]! & 0xe0) !== 0x20) return 'reserved (outside global unicast 2000::/3)';
  // 6to4 carries the IPv4 address of its gateway: 2002:AABB:CCDD::/48.
  if (ip[0] === 0x20 && ip[1] === 0x02) return prefixed('6to4 of', ipv4Hazard(ip.subarray(2, 6)));
  return IPV6_GLOBAL_BLOCKS.find((block) => inBlock(ip, block))?.[2];
}

const prefixed = (form: string, inner: string | undefined) => (inner ? `${form} ${inner}` : undefined);
const withInner = (inner: string | undefined) => (inner ? ` for ${inner}` : '');

function bytesAre(ip: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((b, i) => ip[i] === b);
}

function inBlock(ip: Uint8Array, [bytes, bits]: Block): boolean {
  for (let i = 0; i < bits; i += 8) {
    const take = Math.min(8, bits - i);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((ip[i / 8]! & mask) !== ((bytes[i / 8] ?? 0) & mask)) return false;
  }
  return true;
}

/** 4 or 16 bytes; any spelling of an address the WHATWG URL parser accepts (0x7f.1, 2130706433), or undefined. */
function parseIp(text: string): Uint8Array | undefined {
  let s = text.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, ''); // the zone (fe80::1%eth0) does not change the address
  if (!isIP(s)) {
    if (!/^[0-9a-fx.:]+$/.test(s)) return undefined;
    try {
      s = new URL(`http://${s.includes(':') ? `[${s}]` : s}/`).hostname.replace(/^\[(.*)\]$/, '$1');
    } catch {
      return undefined;
    }
  }
  const family = isIP(s);
  if (family === 4) return Uint8Array.from(s.split('.').map(Number));
  if (family === 6) return parseIPv6(s);
  return undefined;
}

/** Expands a valid IPv6 address (`isIP` said so) into its 16 bytes. */
function parseIPv6(s: string): Uint8Array {
  let words: number[] = [];
  let text = s;
  const tail: number[] = [];
  if (text.includes('.')) {
    // A trailing dotted quad is the last two words.
    const at = text.lastIndexOf(':');
    const [a, b, c, d] = text.slice(at + 1).split('.').map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, text.endsWith('::', at + 1) ? at + 1 : at);
  }
  const [left, right] = text.split('::') as [string, string | undefined];
  const hex = (part: string) => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  if (right === undefined) {
    words = [...hex(left), ...tail];
  } else {
    const head = hex(left);
    const rest = [...hex(right), ...tail];
    words = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  }
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  return bytes;
}
