import { createHmac } from 'node:crypto';

/** The browser session cookie: HttpOnly, SameSite=Lax, Secure over https; its value is a random 256-bit token. */
export const SESSION_COOKIE = 'ems_session';

/**
 * The CSRF token of a session, derived from the session token itself: a page of EMS reads it from
 * GET /auth/session (same origin, with the cookie); another site can neither read the cookie nor that answer.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('ems:csrf').digest('base64url');
}

export function sessionCookie(value: string, options: { secure: boolean; maxAgeS: number }): string {
  return [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${Math.max(0, Math.floor(options.maxAgeS))}`, ...(options.secure ? ['Secure'] : [])].join('; ');
}
