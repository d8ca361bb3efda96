import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { createTokenVerifier, InvalidToken } from './token-verifier.ts';

/** A provider's discovery document and JWKS on loopback (what the verifier reads), with a key of its own. */
let server: Server;
let issuer: string;
let privateKey: CryptoKey;
let jwksRequests = 0;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/oidc/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    jwksRequests++;
    return res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oidc`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('the token verifier', () => {
  it('when a verified token is presented again, then it is not verified again — until it expires, when it is refused', async () => {
    let nowS = Math.floor(Date.now() / 1000);
    const verifier = createTokenVerifier({ issuer, discoveryUrl: `${issuer}/.well-known/openid-configuration`, audiences: ['urn:ems:api'], clockToleranceS: 30, now: () => new Date(nowS * 1000) });
    const token = await new SignJWT({ client_id: 'ems-cli' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(issuer).setAudience('urn:ems:api').setSubject('E1').setIssuedAt(nowS).setExpirationTime(nowS + 60).sign(privateKey);
    expect((await verifier.verify(token)).sub).toBe('E1');
    const fetched = jwksRequests;
    expect((await verifier.verify(token)).sub).toBe('E1');
    expect(jwksRequests).toBe(fetched);
    // Within the clock skew it still holds; past it, refused — though it was accepted before.
    nowS += 60 + 29;
    expect((await verifier.verify(token)).sub).toBe('E1');
    nowS += 2;
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(InvalidToken);
    await expect(verifier.verify(token)).rejects.toThrow(/expired/);
  });

  it('when a token is refused, then it is refused every time (a refusal is never remembered as a pass)', async () => {
    const verifier = createTokenVerifier({ issuer, discoveryUrl: `${issuer}/.well-known/openid-configuration`, audiences: ['urn:ems:api'], clockToleranceS: 30, now: () => new Date() });
    const other = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(issuer).setAudience('urn:other').setSubject('E1').setIssuedAt().setExpirationTime('5m').sign(privateKey);
    for (let i = 0; i < 3; i++) await expect(verifier.verify(other)).rejects.toThrow(/audience/);
  });
});
