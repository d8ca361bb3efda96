import { describe, expect, it } from 'vitest';
import { addressHazard, checkWebhookTarget, hostHazard, isInternalAddress } from './outbound-target.ts';

/**
 * Every spelling of an internal target a caller might try. Each row: the URL as registered, and what
 * the refusal must say it is. The WHATWG URL parser normalises numeric IPv4 forms, percent-encoding
 * and full-width characters before the check; the rows written that way prove the check relies on it.
 */
const refused: ReadonlyArray<readonly [url: string, kind: RegExp]> = [
  // loopback, however written
  ['http://127.0.0.1:9000/', /loopback/],
  ['http://127.255.255.254/', /loopback/],
  ['http://127.0.0.1./', /loopback/], // trailing dot
  ['http://2130706433/', /loopback/], // decimal
  ['http://0177.0.0.1/', /loopback/], // octal
  ['http://0177.0000.0000.0001/', /loopback/],
  ['http://017700000001/', /loopback/], // one octal number
  ['http://0x7f.1/', /loopback/], // hex, short form
  ['http://0x7F000001/', /loopback/], // one hex number
  ['http://0x7f.0x0.0x0.0x1/', /loopback/],
  ['http://127.1/', /loopback/], // short forms
  ['http://127.0.1/', /loopback/],
  ['http://%31%32%37.0.0.1/', /loopback/], // percent-encoded
  ['http://127%2E0%2E0%2E1/', /loopback/],
  ['http://１２７.０.０.１/', /loopback/], // full-width digits
  ['http://①②⑦.0.0.1/', /loopback/],
  ['http://localhost/', /loopback/],
  ['http://LOCALHOST:8080/', /loopback/],
  ['http://localhost./', /loopback/],
  ['http://localhost../', /loopback/],
  ['http://%6c%6f%63%61%6c%68%6f%73%74/', /loopback/],
  ['http://loc%C2%ADalhost/', /loopback/], // a soft hyphen IDNA drops
  ['http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/', /loopback/],
  ['http://api.localhost/', /loopback/],
  ['http://api.localhost./', /loopback/],
  ['http://[::1]/', /loopback \(::1\)/],
  ['http://[0:0:0:0:0:0:0:1]/', /loopback \(::1\)/],
  ['http://[::ffff:127.0.0.1]/', /IPv4-mapped loopback/],
  ['http://[::ffff:7f00:1]/', /IPv4-mapped loopback/],
  ['http://[0:0:0:0:0:ffff:127.0.0.1]/', /IPv4-mapped loopback/],
  ['http://[::127.0.0.1]/', /IPv4-compatible .* loopback/],
  ['http://[::7f00:1]/', /IPv4-compatible .* loopback/],
  ['http://[::ffff:0:127.0.0.1]/', /IPv4-translated .* loopback/],
  ['http://[64:ff9b::127.0.0.1]/', /NAT64 of loopback/],
  ['http://[64:ff9b::7f00:1]/', /NAT64 of loopback/],
  ['http://[2002:7f00:1::]/', /6to4 of loopback/],
  // unspecified ("this network" reaches the host itself)
  ['http://0.0.0.0/', /this network/],
  ['http://0/', /this network/],
  ['http://0x0/', /this network/],
  ['http://[::]/', /unspecified/],
  // private
  ['http://10.1.2.3/', /private/],
  ['http://167772161/', /private/], // 10.0.0.1
  ['http://172.16.0.1/', /private/],
  ['http://172.31.255.255/', /private/],
  ['http://192.168.1.1/', /private/],
  ['http://0xc0a80101/', /private/], // 192.168.1.1
  ['http://0300.0250.01.01/', /private/],
  ['http://[::ffff:10.0.0.1]/', /IPv4-mapped private/],
  ['http://[::ffff:c0a8:101]/', /IPv4-mapped private/],
  ['http://[64:ff9b::10.0.0.1]/', /NAT64 of private/],
  ['http://[2002:c0a8:101::1]/', /6to4 of private/],
  ['http://[2002:a00:1::]/', /6to4 of private/],
  ['http://[fc00::1]/', /unique-local/],
  ['http://[fd12:3456:789a::1]/', /unique-local/],
  ['http://[fec0::1]/', /site-local/],
  ['http://[feff::1]/', /site-local/],
  // link-local and cloud metadata
  ['http://169.254.169.254/latest/meta-data', /link-local/],
  ['http://2852039166/', /link-local/], // 169.254.169.254
  ['http://0xa9fea9fe/', /link-local/],
  ['http://0251.0376.0251.0376/', /link-local/],
  ['http://169.254.170.2/v2/credentials', /link-local/], // AWS ECS
  ['http://[::ffff:169.254.169.254]/', /IPv4-mapped link-local/],
  ['http://[::ffff:a9fe:a9fe]/', /IPv4-mapped link-local/],
  ['http://[64:ff9b::a9fe:a9fe]/', /NAT64 of link-local/],
  ['http://[2002:a9fe:a9fe::]/', /6to4 of link-local/],
  ['http://[fe80::1]/', /link-local/],
  ['http://[febf::1]/', /link-local/],
  ['http://[fd00:ec2::254]/', /unique-local/], // AWS IMDS over IPv6
  ['http://100.100.100.200/', /carrier-grade NAT/], // Alibaba Cloud
  ['http://192.0.0.192/', /IETF protocols/], // Oracle Cloud
  ['http://168.63.129.16/', /Azure/],
  ['http://metadata.google.internal/computeMetadata/v1/', /cloud metadata/],
  ['http://metadata.google.internal./', /cloud metadata/],
  ['http://METADATA.GOOGLE.INTERNAL/', /cloud metadata/],
  ['http://metadata.goog/', /cloud metadata/],
  ['http://metadata/', /cloud metadata/],
  ['http://metadata./', /cloud metadata/],
  ['http://instance-data/', /cloud metadata/],
  ['http://instance-data.ec2.internal/', /cloud metadata/],
  ['http://metadata.tencentyun.com/', /cloud metadata/],
  // carrier-grade NAT
  ['http://100.64.0.1/', /carrier-grade NAT/],
  ['http://100.127.255.254/', /carrier-grade NAT/],
  // multicast
  ['http://224.0.0.1/', /multicast/],
  ['http://239.255.255.250/', /multicast/],
  ['http://[ff02::1]/', /multicast/],
  ['http://[ff05::1:3]/', /multicast/],
  // reserved and special-purpose
  ['http://240.0.0.1/', /reserved/],
  ['http://255.255.255.255/', /reserved/],
  ['http://4294967295/', /reserved/],
  ['http://192.0.2.10/', /documentation/],
  ['http://198.51.100.7/', /documentation/],
  ['http://203.0.113.9/', /documentation/],
  ['http://198.18.0.1/', /benchmarking/],
  ['http://192.88.99.1/', /6to4 relay/],
  ['http://[2001:db8::1]/', /documentation/],
  ['http://[3fff::1]/', /documentation/],
  ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', /Teredo/],
  ['http://[2001:2::1]/', /IETF protocols/],
  ['http://[100::1]/', /discard/],
  ['http://[64:ff9b:1::a00:1]/', /local-use NAT64/],
  ['http://[::8.8.8.8]/', /IPv4-compatible/], // deprecated, whatever it embeds
  ['http://[5f00::1]/', /outside global unicast/],
  // names that are local by construction
  ['http://printer.local/', /\.local/],
  ['http://kubernetes.default.svc.cluster.local/', /\.local/],
  ['http://kubernetes.default.svc/', /\.svc/],
  ['http://db.internal/', /\.internal/],
  ['http://db.internal./', /\.internal/],
  ['http://nas.home.arpa/', /\.home\.arpa/],
  ['http://router.lan/', /\.lan/],
  ['http://wiki.corp/', /\.corp/],
  ['http://hooks.test/', /\.test/],
  ['http://db/', /single-label/],
  ['http://intranet-gateway:8080/', /single-label/],
];

/** Public targets, some of them deliberately close to the refused ones. */
const accepted: readonly string[] = [
  'https://hooks.example.com/ems',
  'https://hooks.example.com./ems', // a fully-qualified name is still that name
  'http://93.184.216.34/',
  'http://8.8.8.8:8080/x',
  'http://134744072/', // 8.8.8.8
  'http://172.32.0.1/',
  'http://100.63.255.255/',
  'http://100.128.0.1/',
  'http://169.253.0.1/',
  'http://[2606:4700::1111]/',
  'http://[2001:200::1]/', // the first regional allocation after the IETF block
  'http://[::ffff:8.8.8.8]/', // IPv4-mapped public: it is 8.8.8.8
  'http://[64:ff9b::8.8.8.8]/', // NAT64 of a public address
  'http://[2002:808:808::1]/', // 6to4 of a public address
  'http://localhost.example.com/', // only the name decides; what it resolves to is checked at delivery
  'http://metadata.example.com/',
  'http://internal.example.com/',
  'http://example.com\\@127.0.0.1/', // the backslash ends the host: this is example.com
];

describe('webhook targets', () => {
  it.each(refused)('when the URL is %s, then it is refused as internal', (url, kind) => {
    const check = checkWebhookTarget(url, false);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.reason).toMatch(/^url must not point at an internal address: /);
    expect(check.reason).toMatch(kind);
  });

  it.each(refused)('when private targets are allowed, then %s is accepted', (url) => {
    expect(checkWebhookTarget(url, true).ok).toBe(true);
  });

  it.each(accepted)('when the URL is %s, then it is accepted', (url) => {
    expect(checkWebhookTarget(url, false)).toEqual({ ok: true, url: new URL(url).href });
  });

  it('when the URL is public http(s), then it is normalised: no fragment, lower-case host', () => {
    expect(checkWebhookTarget('https://hooks.example.com/ems#frag', false)).toEqual({ ok: true, url: 'https://hooks.example.com/ems' });
    expect(checkWebhookTarget('HTTP://Hooks.Example.com:8080', false)).toEqual({ ok: true, url: 'http://hooks.example.com:8080/' });
  });

  it.each([
    ['not a url', /absolute/],
    ['http://256.0.0.1/', /absolute/], // not an address, and not a name either
    ['http://[fe80::1%25eth0]/', /absolute/], // zones are not allowed in URLs
    ['ftp://hooks.example.com/x', /http or https/],
    ['javascript:alert(1)', /http or https/],
    ['file:///etc/passwd', /http or https/],
    ['https://user:pw@hooks.example.com/', /credentials/],
    ['http://hooks.example.com@127.0.0.1/', /credentials/],
  ])('when the URL is %s, then it is refused', (raw, reason) => {
    const check = checkWebhookTarget(raw, false);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(reason);
  });

  it('when private targets are allowed, then loopback is accepted but other schemes still are not', () => {
    expect(checkWebhookTarget('http://127.0.0.1:9000/hook', true)).toEqual({ ok: true, url: 'http://127.0.0.1:9000/hook' });
    expect(checkWebhookTarget('file:///etc/passwd', true).ok).toBe(false);
  });
});

describe('resolved addresses', () => {
  // As a resolver answers them (delivery checks each), and in the spellings URL parsing accepts.
  it.each([
    ['127.0.0.1', /loopback/],
    ['127.53.53.53', /loopback/],
    ['::1', /loopback/],
    ['::ffff:127.0.0.1', /IPv4-mapped loopback/],
    ['::FFFF:7F00:1', /IPv4-mapped loopback/],
    ['::127.0.0.1', /IPv4-compatible/],
    ['64:ff9b::7f00:1', /NAT64 of loopback/],
    ['2002:7f00:1::1', /6to4 of loopback/],
    ['10.0.0.1', /private/],
    ['169.254.169.254', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['fd00:ec2::254', /unique-local/],
    ['fec0::1', /site-local/],
    ['100.100.100.200', /carrier-grade NAT/],
    ['0.0.0.0', /this network/],
    ['::', /unspecified/],
    ['0177.0.0.1', /loopback/],
    ['0x7f.1', /loopback/],
    ['2130706433', /loopback/],
    ['[::1]', /loopback/],
  ])('when an address is %s, then it is internal', (address, kind) => {
    expect(isInternalAddress(address)).toBe(true);
    expect(addressHazard(address)).toMatch(kind);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '2a00:1450:4001:81c::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])(
    'when an address is %s, then it is public',
    (address) => expect(isInternalAddress(address)).toBe(false),
  );

  it('when the text is a name, not an address, then the address check leaves it to the name check', () => {
    expect(addressHazard('hooks.example.com')).toBeUndefined();
    expect(addressHazard('localhost')).toBeUndefined();
    expect(hostHazard('localhost')).toMatch(/loopback/);
    expect(hostHazard('hooks.example.com')).toBeUndefined();
  });
});
