import * as client from 'openid-client';
import { ServiceCallError } from '@ems/platform';
import type { ServiceIdentity } from '@ems/contracts/policy';
import { clientConfiguration, metadataSource } from '../oidc-metadata.ts';

/**
 * A service's own credentials (OAuth client credentials): the Authorization header for a call to another
 * service, with a token issued for that service's audience only. Tokens are cached until a minute before
 * they expire; concurrent callers share one request.
 */
export interface ServiceTokens {
  /** `{ authorization: 'Bearer …' }` for a call to `target`. Throws ServiceCallError (retryable when the provider is down). */
  headers(target: ServiceIdentity): Promise<{ authorization: string }>;
}

export interface ServiceTokensOptions {
  issuer: string;
  discoveryUrl: string;
  clientId: string;
  clientSecret: string;
  audience(target: ServiceIdentity): string;
  /** Plain http allowed (loopback, the built-in provider). */
  insecureAllowed: boolean;
}

export function createServiceTokens(o: ServiceTokensOptions): ServiceTokens {
  const metadata = metadataSource(o.discoveryUrl, o.issuer);
  let config: client.Configuration | undefined;
  const cache = new Map<ServiceIdentity, { token: string; refreshAt: number }>();
  const inFlight = new Map<ServiceIdentity, Promise<string>>();

  const fetchToken = async (target: ServiceIdentity): Promise<string> => {
    try {
      config ??= clientConfiguration(await metadata(), o.clientId, o.clientSecret, o.insecureAllowed);
      const tokens = await client.clientCredentialsGrant(config, { resource: o.audience(target), scope: 'api' });
      const ttlMs = (tokens.expires_in ?? 300) * 1000;
      cache.set(target, { token: tokens.access_token, refreshAt: Date.now() + Math.max(ttlMs / 2, ttlMs - 60_000) });
      return tokens.access_token;
    } catch (err) {
      // A refusal (wrong secret, audience not allowed) will not heal by retrying; an unreachable provider may.
      const refused = err instanceof client.ResponseBodyError && err.status >= 400 && err.status < 500;
      throw new ServiceCallError(`${o.clientId} could not get a token for ${target}: ${err instanceof Error ? err.message : String(err)}`, refused ? 401 : undefined, !refused);
    }
  };

  return {
    async headers(target) {
      const hit = cache.get(target);
      if (hit && Date.now() < hit.refreshAt) return { authorization: `Bearer ${hit.token}` };
      let pending = inFlight.get(target);
      if (!pending) {
        pending = fetchToken(target).finally(() => inFlight.delete(target));
        inFlight.set(target, pending);
      }
      return { authorization: `Bearer ${await pending}` };
    },
  };
}
