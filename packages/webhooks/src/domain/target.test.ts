import { describe, expect, it } from 'vitest';
import { checkWebhookTarget, isInternalAddress } from './target.ts';

describe('webhook targets', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1'])(
    'when the address is %s, then it is internal',
    (a) => expect(isInternalAddress(a)).toBe(true),
  );

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])('when the address is %s, then it is public', (a) => expect(isInternalAddress(a)).toBe(false));

  it('when the URL is public http(s), then it is accepted and normalised', () => {
    expect(checkWebhookTarget('https://hooks.example.com/ems#frag', false)).toEqual({ ok: true, url: 'https://hooks.example.com/ems' });
    expect(checkWebhookTarget('HTTP://Hooks.Example.com:8080', false)).toEqual({ ok: true, url: 'http://hooks.example.com:8080/' });
  });

  it.each([
    ['not a url', /absolute/],
    ['ftp://hooks.example.com/x', /http or https/],
    ['javascript:alert(1)', /http or https/],
    ['https://user:pw@hooks.example.com/', /credentials/],
    ['http://localhost:8080/', /internal/],
    ['http://api.localhost/', /internal/],
    ['http://127.0.0.1:9000/', /internal/],
    ['http://[::1]/', /internal/],
    ['http://169.254.169.254/latest/meta-data', /internal/],
    ['http://2130706433/', /internal/], // 127.0.0.1 as one number: the URL parser normalises it
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
