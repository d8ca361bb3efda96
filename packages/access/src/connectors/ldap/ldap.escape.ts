/**
 * Escaping of values put into templates, so that an employee id or an email can never change the DN or
 * filter around it (LDAP injection).
 */

/** An attribute value inside a DN (RFC 4514 §2.4): `, + " \ < > ;` and NUL escaped, and a leading `#`/space or trailing space. */
export function escapeDnValue(value: string): string {
  let out = value.replace(/[,+"\\<>;=\0]/g, (c) => (c === '\0' ? '\\00' : `\\${c}`));
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** An assertion value inside a search filter (RFC 4515 §3): `* ( ) \` and NUL as \XX hex, UTF-8 kept. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Replaces each `{name}` of a template by `escape(values[name])`. */
export function fillTemplate(template: string, values: Record<string, string>, escape: (v: string) => string): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for ${whole}`);
    return escape(v);
  });
}

/**
 * A DN in a comparable form: attribute types lower-cased, spaces around `=` and `,` removed, values kept
 * (case-insensitively compared, as the usual naming attributes — cn, uid, ou, dc — are).
 */
export function normaliseDn(dn: string): string {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === '\\' && i + 1 < dn.length) {
      current += c + dn[++i]!;
    } else if (c === ',' || c === ';') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts
    .map((rdn) => {
      const eq = rdn.indexOf('=');
      return eq < 0 ? rdn.trim().toLowerCase() : `${rdn.slice(0, eq).trim().toLowerCase()}=${rdn.slice(eq + 1).trim().toLowerCase()}`;
    })
    .join(',');
}

export const sameDn = (a: string, b: string): boolean => normaliseDn(a) === normaliseDn(b);
