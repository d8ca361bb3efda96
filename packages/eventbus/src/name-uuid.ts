import { createHash } from 'node:crypto';

/**
 * A name-based UUID (version 8, RFC 9562: the first 122 bits of SHA-256 of `name`, version and variant
 * set): the same name always gives the same id. For ids that must follow from what they identify — an
 * event published once per (batch, chunk), a case per (batch, employee) — so a repeat is a duplicate.
 *
 * Some of these ids are stored (EMS's batches and cases): the output must never change
 * (name-uuid.test.ts pins it).
 */
export function nameUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  const variant = ((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}
