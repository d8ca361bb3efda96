/**
 * NATS server URLs may carry credentials (`nats://user:password@host:4222`, or a token: `nats://token@host:4222`),
 * as EMS_NATS_URL does in docker-compose.yml. The NATS client takes them only as options, not from the URL:
 * split them off. Percent-encoded characters are decoded (a password holding `@` or `:` is written `%40`, `%3A`).
 */
export interface NatsServersAndAuth {
  /** The URLs without their credentials (safe to log). */
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
}

export function natsServersAndAuth(urls: string | readonly string[]): NatsServersAndAuth {
  const result: NatsServersAndAuth = { servers: [] };
  for (const raw of typeof urls === 'string' ? [urls] : urls) {
    const match = /^([a-z]+:\/\/)([^@/]*)@(.*)$/i.exec(raw.trim());
    if (!match) {
      result.servers.push(raw.trim());
      continue;
    }
    const [, scheme, credentials, rest] = match as unknown as [string, string, string, string];
    result.servers.push(`${scheme}${rest}`);
    const colon = credentials.indexOf(':');
    const credential = colon < 0 ? { token: decodeURIComponent(credentials) } : { user: decodeURIComponent(credentials.slice(0, colon)), pass: decodeURIComponent(credentials.slice(colon + 1)) };
    // One set of credentials for the connection: a cluster's URLs must agree.
    for (const [key, value] of Object.entries(credential) as Array<['user' | 'pass' | 'token', string]>) {
      if (result[key] !== undefined && result[key] !== value) throw new Error('EMS_NATS_URL: the servers of one cluster carry different credentials');
      result[key] = value;
    }
  }
  return result;
}
