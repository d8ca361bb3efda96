import type * as client from 'openid-client';
import type { Clock, Logger } from '@ems/platform';
import type { identity } from '@ems/contracts';
import type { EventBus } from '@ems/eventbus';
import type { IdentityDb } from './db/identity.db.ts';
import type { Secrets } from './secrets.ts';
import type { Security } from './authenticate/security.ts';

/** What the identity service's use cases share. */
export interface IdentityContext {
  db: IdentityDb;
  log: Logger;
  /** Real time: token, session and API-token lifetimes never follow a drill's shifted clock. */
  clock: Clock;
  /** Where the directory's changes are published (personChanged); absent → nothing is published. */
  bus?: EventBus | undefined;
  secrets: Secrets;
  security: Security;
  web: WebSignIn;
  authConfig: identity.AuthConfig;
  /** The built-in provider's key rotation; undefined with an external provider. */
  rotateKeys: (() => Promise<{ kid: string; retired: string[] }>) | undefined;
}

/** The web app's sign-in at the provider (authorization code + PKCE, a confidential client). */
export interface WebSignIn {
  clientId: string;
  publicUrl: string;
  /** Cookies get `Secure` when the public URL is https. */
  secureCookies: boolean;
  sessionIdleMs: number;
  sessionAbsoluteMs: number;
  /** The provider's configuration for the web client (discovered once). */
  configuration(): Promise<client.Configuration>;
  /** An endpoint as the browser must reach it (the built-in provider is read internally, visited publicly). */
  toBrowser(url: string): string;
}
