/**
 * The `wait` preference of an HTTP `Prefer` header (RFC 7240 §4.3): how many seconds the client is
 * willing to wait for the answer. A header may carry several preferences (`respond-async, wait=10`),
 * each with parameters after `;`; only `wait` is read here. The value may be quoted. Anything that is
 * not a whole number of seconds is ignored, as RFC 7240 asks of preferences a server does not follow.
 */
export function preferredWaitSeconds(header: string | readonly string[] | undefined): number | undefined {
  const values = header === undefined ? [] : typeof header === 'string' ? [header] : header;
  let found: number | undefined;
  for (const value of values) {
    for (const preference of value.split(',')) {
      const [token] = preference.split(';');
      const m = /^\s*wait\s*=\s*"?(\d{1,9})"?\s*$/i.exec(token ?? '');
      // The first occurrence wins (RFC 7240 §2).
      if (m && found === undefined) found = Number(m[1]);
    }
  }
  return found;
}

/** The `Prefer` header value asking to wait up to `seconds` for the answer. */
export function preferWait(seconds: number): string {
  return `wait=${Math.max(0, Math.floor(seconds))}`;
}
