import * as client from 'openid-client';

/**
 * An issuer's metadata, read from a discovery URL that may differ from the issuer (the built-in provider is
 * reached at its internal address while its issuer is the public URL; openid-client's own discovery insists
 * they match). The issuer named in the document must still be the configured one.
 */
export function metadataSource(discoveryUrl: string, issuer: string): () => Promise<client.ServerMetadata> {
  let loaded: client.ServerMetadata | undefined;
  let loading: Promise<client.ServerMetadata> | undefined;
  return () => {
    if (loaded) return Promise.resolve(loaded);
    loading ??= (async () => {
      const res = await fetch(discoveryUrl, { signal: AbortSignal.timeout(5_000), headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`${discoveryUrl} answered ${res.status}`);
      const doc = (await res.json()) as client.ServerMetadata;
      if (doc.issuer !== issuer) throw new Error(`${discoveryUrl} names issuer ${String(doc.issuer)}, not the configured ${issuer}`);
      loaded = doc;
      return doc;
    })().finally(() => (loading = undefined));
    return loading;
  };
}

/** An openid-client configuration; plain http is allowed for loopback and the built-in provider only. */
export function clientConfiguration(metadata: client.ServerMetadata, clientId: string, secret: string | undefined, insecureAllowed: boolean): client.Configuration {
  const config = new client.Configuration(metadata, clientId, secret === undefined ? undefined : { client_secret: secret }, secret === undefined ? client.None() : client.ClientSecretBasic(secret));
  if (insecureAllowed) client.allowInsecureRequests(config);
  return config;
}

export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}
