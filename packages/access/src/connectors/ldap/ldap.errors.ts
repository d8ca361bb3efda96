import { ResultCodeError } from 'ldapts';
import { ConnectorError } from '../connector.ts';

/**
 * LDAP result codes (RFC 4511 §4.1.9) and how Access treats them. Transient: the directory is down,
 * busy, or did not answer in time (Access retries with backoff). Everything else — no such object,
 * the service account's credentials refused, insufficient access, a schema violation — is permanent:
 * retrying would give the same answer.
 */
export const LdapCode = {
  success: 0,
  timeLimitExceeded: 3,
  noSuchAttribute: 16,
  typeOrValueExists: 20,
  noSuchObject: 32,
  invalidCredentials: 49,
  insufficientAccessRights: 50,
  busy: 51,
  unavailable: 52,
  unwillingToPerform: 53,
  objectClassViolation: 65,
  other: 80,
} as const;

const TRANSIENT_CODES = new Set<number>([LdapCode.timeLimitExceeded, LdapCode.busy, LdapCode.unavailable, LdapCode.other, 11 /* adminLimitExceeded */]);

const CODE_NAMES: Record<number, string> = {
  1: 'operations error',
  2: 'protocol error',
  3: 'time limit exceeded',
  8: 'strong authentication required',
  11: 'admin limit exceeded',
  13: 'confidentiality required',
  16: 'no such attribute',
  17: 'undefined attribute type',
  19: 'constraint violation',
  20: 'attribute or value exists',
  21: 'invalid attribute syntax',
  32: 'no such object',
  34: 'invalid DN syntax',
  48: 'inappropriate authentication',
  49: 'invalid credentials',
  50: 'insufficient access rights',
  51: 'busy',
  52: 'unavailable',
  53: 'unwilling to perform',
  64: 'naming violation',
  65: 'object class violation',
  66: 'not allowed on non-leaf',
  80: 'other',
};

/** Socket-level failures: the directory is down or unreachable for now. */
const TRANSIENT_SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED']);

/** ldapts's own wording for a connection that failed or an answer that did not come. */
const TRANSIENT_CLIENT = /Connection timeout|Operation timed out|Socket error|Connection closed|connection not established/i;

export const ldapCodeOf = (err: unknown): number | undefined => (err instanceof ResultCodeError ? err.code : undefined);

/** The server's message of a result-code error, without ldapts's " Code: 0x31" suffix. */
const serverMessage = (err: ResultCodeError) => err.message.replace(/\s*Code: 0x[0-9a-f]+$/i, '').trim();

/**
 * Turns whatever an LDAP operation threw into a ConnectorError naming what was being done (`doing`:
 * "bind as the service account cn=ems,…", "modify cn=finance,…"). `secrets` are scrubbed from any text
 * (a password never reaches a message, a log line or the audit).
 */
export function toConnectorError(err: unknown, doing: string, secrets: readonly string[]): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const scrub = (text: string) => secrets.reduce((t, s) => (s ? t.split(s).join('***') : t), text);
  if (err instanceof ResultCodeError) {
    const name = CODE_NAMES[err.code] ?? `result code ${err.code}`;
    const detail = serverMessage(err);
    const message = `${doing}: ${name} (${err.code})${detail && detail.toLowerCase() !== name ? `: ${detail}` : ''}`;
    return new ConnectorError(scrub(message), { transient: TRANSIENT_CODES.has(err.code), code: String(err.code) });
  }
  const e = err as { code?: unknown; message?: unknown };
  const sysCode = typeof e.code === 'string' ? e.code : undefined;
  const text = typeof e.message === 'string' ? e.message.split('\n')[0]! : String(err);
  if ((sysCode && TRANSIENT_SOCKET.has(sysCode)) || TRANSIENT_CLIENT.test(text)) {
    return new ConnectorError(scrub(`${doing}: the directory did not answer (${sysCode ?? text})`), { transient: true, ...(sysCode ? { code: sysCode } : {}) });
  }
  // TLS: a certificate the configured CAs do not trust, a wrong host name… — configuration, not weather.
  if (sysCode && /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|ERR_SSL/.test(sysCode)) {
    return new ConnectorError(scrub(`${doing}: TLS refused (${sysCode}): ${text}`), { transient: false, code: sysCode });
  }
  return new ConnectorError(scrub(`${doing}: ${text}`), { transient: true, ...(sysCode ? { code: sysCode } : {}) });
}
