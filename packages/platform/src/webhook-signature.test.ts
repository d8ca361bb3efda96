import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signWebhook, verifyWebhookSignature, webhookSignature } from './webhook-signature.ts';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const now = new Date('2023-11-14T22:13:20.000Z'); // 1700000000
const ts = 1_700_000_000;
const body = '{"hello":"world"}';

describe('webhook signatures', () => {
  it('when signing a known message, then the signature is the HMAC-SHA256 computed by openssl', () => {
    // echo -n 'msg_2b1f.1700000000.{"hello":"world"}' | openssl dgst -sha256 -hmac 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
    expect(webhookSignature(secret, 'msg_2b1f', ts, body)).toBe('29d378d9573b87853afa2238ce1ac82a5ace3875c1f131d5e3c7ce3d72c6eaaf');
    expect(signWebhook(secret, 'msg_2b1f', ts, body)).toEqual({
      'webhook-id': 'msg_2b1f',
      'webhook-timestamp': '1700000000',
      'webhook-signature': 'v1=29d378d9573b87853afa2238ce1ac82a5ace3875c1f131d5e3c7ce3d72c6eaaf',
    });
  });

  it('when the body, id, timestamp and secret are the signed ones, then the signature verifies (string or bytes, any header case)', () => {
    const headers = signWebhook(secret, 'msg_1', ts, body);
    expect(verifyWebhookSignature(secret, headers, body, { now })).toBe(true);
    expect(verifyWebhookSignature(secret, new Headers(headers), Buffer.from(body), { now })).toBe(true);
    const shouting = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWebhookSignature(secret, shouting, body, { now })).toBe(true);
  });

  it('when anything signed was changed, then the signature fails', () => {
    const headers = signWebhook(secret, 'msg_1', ts, body);
    expect(verifyWebhookSignature(secret, headers, '{"hello":"World"}', { now })).toBe(false);
    expect(verifyWebhookSignature(secret, headers, `${body} `, { now })).toBe(false);
    expect(verifyWebhookSignature(`${secret}x`, headers, body, { now })).toBe(false);
    expect(verifyWebhookSignature(secret, { ...headers, 'webhook-id': 'msg_2' }, body, { now })).toBe(false);
    expect(verifyWebhookSignature(secret, { ...headers, 'webhook-timestamp': String(ts + 1) }, body, { now })).toBe(false);
  });

  it('when the timestamp is older or newer than the tolerance, then the signature fails', () => {
    const headers = signWebhook(secret, 'msg_1', ts, body);
    expect(verifyWebhookSignature(secret, headers, body, { now: new Date(now.getTime() + 300_000) })).toBe(true);
    expect(verifyWebhookSignature(secret, headers, body, { now: new Date(now.getTime() + 301_000) })).toBe(false);
    expect(verifyWebhookSignature(secret, headers, body, { now: new Date(now.getTime() - 301_000) })).toBe(false);
    expect(verifyWebhookSignature(secret, headers, body, { now: new Date(now.getTime() + 3_600_000), toleranceSeconds: 3600 })).toBe(true);
  });

  it('when several signatures are sent (secret rotation), then one valid signature suffices', () => {
    const valid = signWebhook(secret, 'msg_1', ts, body)['webhook-signature']!;
    const other = signWebhook(newWebhookSecret(), 'msg_1', ts, body)['webhook-signature']!;
    const headers = { ...signWebhook(secret, 'msg_1', ts, body), 'webhook-signature': `${other} ${valid}` };
    expect(verifyWebhookSignature(secret, headers, body, { now })).toBe(true);
    expect(verifyWebhookSignature(secret, { ...headers, 'webhook-signature': other }, body, { now })).toBe(false);
  });

  it('when a header is missing or malformed, then the signature fails without throwing', () => {
    const headers = signWebhook(secret, 'msg_1', ts, body);
    const { 'webhook-signature': _s, ...unsigned } = headers;
    expect(verifyWebhookSignature(secret, unsigned, body, { now })).toBe(false);
    expect(verifyWebhookSignature(secret, { ...headers, 'webhook-signature': 'v1=zz' }, body, { now })).toBe(false);
    expect(verifyWebhookSignature(secret, { ...headers, 'webhook-signature': headers['webhook-signature']!.replace('v1=', 'v2=') }, body, { now })).toBe(false);
    expect(verifyWebhookSignature(secret, { ...headers, 'webhook-timestamp': 'yesterday' }, body, { now })).toBe(false);
    expect(verifyWebhookSignature(secret, {}, body, { now })).toBe(false);
  });

  it('when secrets are generated, then each is new and marked whsec_', () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(newWebhookSecret()).not.toBe(a);
  });
});
