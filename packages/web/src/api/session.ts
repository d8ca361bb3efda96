import type { identity } from '@ems/contracts';
import { IdentityPaths } from '@ems/contracts/paths';
import { Problem, get, post, setCsrfToken } from './client.ts';

export type SessionInfo = identity.SessionInfo;
export type Me = identity.Me;

/** The browser's session, or null when nobody is signed in. */
export async function readSession(): Promise<SessionInfo | null> {
  try {
    const s = await get<SessionInfo>(IdentityPaths.session);
    setCsrfToken(s.csrfToken);
    return s;
  } catch (err) {
    if (err instanceof Problem && err.status === 401) return null;
    throw err;
  }
}

export const readMe = () => get<Me>(IdentityPaths.me);

/** Where the browser goes to sign in, coming back to `returnTo` (a path of this site). */
export function signInUrl(returnTo: string): string {
  return `${IdentityPaths.login}?returnTo=${encodeURIComponent(returnTo)}`;
}

export async function signOut(): Promise<string> {
  const { logoutUrl } = await post<{ logoutUrl: string }>(IdentityPaths.logout);
  return logoutUrl;
}
