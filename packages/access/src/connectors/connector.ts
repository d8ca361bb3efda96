/**
 * The port between Access and a connected system (an LDAP directory, a SCIM service provider, anything
 * behind a signed HTTP endpoint). Access decides *what* changes — which grants a hold suspends, which
 * a restore gives back, which a revocation ends — in its own transaction; a connector only carries that
 * decision to one system, verifies it there, and reads the system back for drift detection.
 *
 * Rules every connector follows:
 * - `apply` is idempotent: the same change (same `changeId`) applied twice leaves the system as once,
 *   and applying a change the system already shows succeeds (it is verified, not redone).
 * - It verifies after changing: `apply` resolves only when the system was read back (or a bind tried)
 *   and shows the change; otherwise it throws.
 * - Errors are `ConnectorError`s: `transient` (the system is down, timed out, busy: Access retries
 *   with backoff) or not (the account does not exist, credentials refused, a schema violation: Access
 *   gives up at once and shows the system's own message).
 * - Credentials come from the connector's settings (configuration or files), are never part of an
 *   error message, a log line or an API answer.
 */

/** Who the change is about, as Access knows them (the directory's id and email). */
export interface AccountRef {
  employeeId: string;
  email: string | null;
}

export type ConnectorAction = 'suspend' | 'restore' | 'revoke';

export interface ConnectorChange {
  /** Access's connector task id: one per system per change; the system-side idempotency key. */
  changeId: string;
  action: ConnectorAction;
  account: AccountRef;
  /**
   * The system's own names of the entitlements concerned (a grant's `role` on this system: an LDAP
   * group's DN or cn, a SCIM group id, a role name):
   * - suspend: the critical entitlements the hold records — removed, and the account locked;
   * - restore: exactly those given back, and the account unlocked;
   * - revoke: every entitlement the person has on the system — removed, and the account locked
   *   (or deactivated / deleted, as the connector's settings say).
   */
  entitlements: string[];
}

/** A change made and verified. */
export interface ConnectorOutcome {
  /** How it was verified, in words for the case and the audit ("bind as uid=ada refused: account locked"). */
  verification: string;
}

/** What the system shows for one account: read for drift detection. */
export interface AccountState {
  exists: boolean;
  /** The account can sign in (not locked, active). */
  enabled: boolean;
  /** Entitlements the account has on the system, named as in `ConnectorChange.entitlements`. */
  entitlements: string[];
}

export interface Connector {
  readonly type: 'builtin' | 'ldap' | 'scim' | 'http';
  apply(change: ConnectorChange, signal: AbortSignal): Promise<ConnectorOutcome>;
  /** Reads the account back; undefined when the connector cannot read (the signed HTTP connector). */
  inspect?(account: AccountRef, signal: AbortSignal): Promise<AccountState>;
  /** Closes connections; called once at shutdown. */
  close(): Promise<void>;
}

/** A system's refusal or failure, with its own message (never a credential). */
export class ConnectorError extends Error {
  readonly transient: boolean;
  /** The system's code when it has one (an LDAP result code, an HTTP status, a SCIM scimType). */
  readonly code: string | undefined;
  constructor(message: string, options: { transient: boolean; code?: string | undefined; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConnectorError';
    this.transient = options.transient;
    this.code = options.code;
  }
}

/** What a connector module exports: its settings' schema (zod, strict) and how to make one. */
export interface ConnectorFactory<Settings> {
  readonly type: Connector['type'];
  /** Parses the `connector.settings` object of a system in the systems file; secrets as `…File` paths (or inline). */
  parseSettings(raw: unknown): Settings;
  create(settings: Settings, context: ConnectorContext): Connector;
  /**
   * Optional: the settings an administrator may see (GET /api/access-systems): URLs, base DNs, group
   * names — never a secret or a secret file's content. Without it only the connector type is shown.
   */
  describe?(settings: Settings): Record<string, unknown>;
}

export interface ConnectorContext {
  /** The system's id (for messages). */
  systemId: string;
  /** A logger that never receives credentials. */
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Reads a secret file (trimmed); errors name the file, never its content. */
  readSecretFile(path: string): string;
}
