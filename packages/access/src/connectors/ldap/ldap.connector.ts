/**
 * The LDAP connector (OpenLDAP with the ppolicy overlay).
 *
 *   suspend  lock (pwdAccountLockedTime = 000001010000Z) → remove the listed group memberships → verify
 *   restore  add the listed memberships back → unlock (remove that value) → verify
 *   revoke   remove every listed membership → lock (or delete the entry) → verify
 *
 * Verify = read back as the service account (the lock attribute present / absent, each listed group
 * without / with the person) and, for a lock, a probe bind as the person: a random password sent with
 * the password policy request control (1.3.6.1.4.1.42.2.27.8.5.1). slapd with ppolicy_use_lockout answers
 * a bind on a locked account with invalidCredentials (49) and the control's error accountLocked, whatever
 * the password — so the answer proves that no password gets in, not just that ours was wrong. On a locked
 * account such a bind is not recorded as a failure (pwdFailureTime), checked on OpenLDAP 2.5.
 *
 * Every step is idempotent (removing an absent member, adding a present one, locking a locked account
 * succeed), so a change applied twice — a retry after a timeout — leaves the directory as once.
 * Each apply/inspect opens its own connection(s) and closes them: nothing is shared between tasks.
 */
import { randomBytes } from 'node:crypto';
import { Attribute, Change, Client, PasswordPolicyControl, PasswordPolicyError, type Entry } from 'ldapts';
import type { AccountRef, AccountState, Connector, ConnectorChange, ConnectorContext, ConnectorOutcome } from '../connector.ts';
import { ConnectorError } from '../connector.ts';
import { escapeDnValue, escapeFilterValue, fillTemplate, sameDn } from './ldap.escape.ts';
import { LdapCode, ldapCodeOf, toConnectorError } from './ldap.errors.ts';
import { groupSearchBase, PPOLICY_LOCK_VALUE, type LdapSettings } from './ldap.settings.ts';

const LOCK_ATTR = 'pwdAccountLockedTime';

/** The LDAP result code behind a failed operation (#op wraps it in a ConnectorError). */
const causeCode = (err: unknown) => ldapCodeOf(err instanceof ConnectorError ? err.cause : err);

export interface LdapSecrets {
  bindPassword: string;
  /** PEM text of the CAs to trust (tls.caFile's content). */
  ca?: string;
}

/** One entry's attribute values, whatever case the server spelled the attribute name in. */
function values(entry: Entry, attr: string): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attr.toLowerCase());
  if (key === undefined) return [];
  const v = entry[key];
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : x));
}

interface Person {
  dn: string;
  lock: string[];
}

type Membership = 'member' | 'not a member' | 'no such group';

export class LdapConnector implements Connector {
  readonly type = 'ldap' as const;
  readonly #settings: LdapSettings;
  readonly #secrets: LdapSecrets;
  readonly #context: ConnectorContext;
  readonly #open = new Set<Client>();

  constructor(settings: LdapSettings, secrets: LdapSecrets, context: ConnectorContext) {
    this.#settings = settings;
    this.#secrets = secrets;
    this.#context = context;
  }

  async apply(change: ConnectorChange, signal: AbortSignal): Promise<ConnectorOutcome> {
    const started = performance.now();
    const outcome = await this.#session(signal, async (c) => {
      const groups = change.entitlements.map((e) => this.#groupDn(e));
      const person = await this.#findPerson(c, change.account);
      switch (change.action) {
        case 'suspend':
          return this.#lockAndRemove(c, change.account, person, groups, signal);
        case 'revoke':
          return this.#settings.revoke === 'delete' ? this.#deleteEntry(c, change.account, person, groups, signal) : this.#lockAndRemove(c, change.account, person, groups, signal);
        case 'restore':
          return this.#addAndUnlock(c, change.account, person, groups, signal);
      }
    });
    this.#context.log.info({ changeId: change.changeId, action: change.action, employeeId: change.account.employeeId, ms: Math.round(performance.now() - started) }, 'LDAP change applied and verified');
    return outcome;
  }

  async inspect(account: AccountRef, signal: AbortSignal): Promise<AccountState> {
    return this.#session(signal, async (c) => {
      const person = await this.#findPerson(c, account);
      if (!person) return { exists: false, enabled: false, entitlements: [] };
      const base = groupSearchBase(this.#settings);
      const attr = this.#settings.groups.memberAttribute;
      const entitlements: string[] = [];
      if (base) {
        const found = await this.#op(`search groups under ${base}`, () =>
          c.search(base, { scope: 'sub', filter: `(${attr}=${escapeFilterValue(person.dn)})`, attributes: ['cn'] }),
        );
        for (const g of found.searchEntries) {
          if (this.#settings.groups.entitlement === 'dn') entitlements.push(g.dn);
          else {
            // Only groups the template can name: a cn the template turns back into this very DN.
            const cn = values(g, 'cn').find((v) => sameDn(fillTemplate(this.#settings.groups.dn!, { cn: v }, escapeDnValue), g.dn));
            if (cn !== undefined) entitlements.push(cn);
          }
        }
      }
      return { exists: true, enabled: person.lock.length === 0, entitlements: entitlements.sort() };
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#open].map((c) => c.unbind()));
    this.#open.clear();
  }

  // ── the actions ────────────────────────────────────────────────────────────────────────────

  async #lockAndRemove(c: Client, account: AccountRef, found: Person | undefined, groups: string[], signal: AbortSignal): Promise<ConnectorOutcome> {
    const person = this.#required(found, account);
    await this.#op(`lock ${person.dn}`, () => c.modify(person.dn, new Change({ operation: 'replace', modification: new Attribute({ type: LOCK_ATTR, values: [PPOLICY_LOCK_VALUE] }) })));
    const removed = await this.#removeMemberships(c, person.dn, groups);

    const after = await this.#readPerson(c, person.dn);
    if (!after) throw new ConnectorError(`${person.dn} disappeared while being locked`, { transient: true, code: String(LdapCode.noSuchObject) });
    if (!after.lock.includes(PPOLICY_LOCK_VALUE)) {
      throw new ConnectorError(`${person.dn}: ${LOCK_ATTR} was written but does not read back (read: ${after.lock.join(', ') || 'absent'})`, { transient: false });
    }
    const memberships = await this.#memberships(c, person.dn, groups);
    const still = groups.filter((_, i) => memberships[i] === 'member');
    if (still.length > 0) throw new ConnectorError(`${person.dn} is still a member of ${still.join('; ')} after its removal`, { transient: false });

    const proof = this.#settings.lock.probeBind ? await this.#probeLocked(person.dn, signal) : undefined;
    return {
      verification: [
        `${person.dn}: ${LOCK_ATTR}=${PPOLICY_LOCK_VALUE} read back`,
        proof,
        groups.length > 0 ? `not a member of ${describeGroups(groups, memberships, removed)} (read back)` : 'no group memberships listed',
      ]
        .filter(Boolean)
        .join('; '),
    };
  }

  async #addAndUnlock(c: Client, account: AccountRef, found: Person | undefined, groups: string[], signal: AbortSignal): Promise<ConnectorOutcome> {
    const person = this.#required(found, account);
    await this.#addMemberships(c, person.dn, groups);
    try {
      // Only EMS's own administrative lock is removed; a lock someone else set with another value stays (and fails the check below).
      await this.#op(`unlock ${person.dn}`, () => c.modify(person.dn, new Change({ operation: 'delete', modification: new Attribute({ type: LOCK_ATTR, values: [PPOLICY_LOCK_VALUE] }) })));
    } catch (err) {
      if (causeCode(err) !== LdapCode.noSuchAttribute) throw err;
    }

    const after = await this.#readPerson(c, person.dn);
    if (!after) throw new ConnectorError(`${person.dn} disappeared while being unlocked`, { transient: true, code: String(LdapCode.noSuchObject) });
    if (after.lock.length > 0) {
      throw new ConnectorError(`${person.dn} is still locked: ${LOCK_ATTR}=${after.lock.join(', ')}, not set by EMS (an administrator's lock or too many failed binds)`, { transient: false });
    }
    const memberships = await this.#memberships(c, person.dn, groups);
    const missing = groups.filter((_, i) => memberships[i] !== 'member');
    if (missing.length > 0) throw new ConnectorError(`${person.dn} is not a member of ${missing.join('; ')} after being added`, { transient: false });

    const proof = this.#settings.lock.probeBindOnRestore ? await this.#probeUnlocked(person.dn, signal) : undefined;
    return {
      verification: [
        `${person.dn}: no ${LOCK_ATTR} (read back: unlocked)`,
        proof,
        groups.length > 0 ? `member of ${groups.join('; ')} again (read back)` : 'no group memberships listed',
      ]
        .filter(Boolean)
        .join('; '),
    };
  }

  async #deleteEntry(c: Client, account: AccountRef, found: Person | undefined, groups: string[], signal: AbortSignal): Promise<ConnectorOutcome> {
    // With a DN template the DN is known even once the entry is gone: its memberships are still cleaned up.
    const dn = found?.dn ?? (this.#settings.userDn ? fillTemplate(this.#settings.userDn, { id: account.employeeId }, escapeDnValue) : undefined);
    const removed = dn ? await this.#removeMemberships(c, dn, groups) : [];
    if (found) {
      try {
        await this.#op(`delete ${found.dn}`, () => c.del(found.dn));
      } catch (err) {
        if (causeCode(err) !== LdapCode.noSuchObject) throw err;
      }
    }
    if (dn && (await this.#readPerson(c, dn))) throw new ConnectorError(`${dn} still exists after its deletion`, { transient: false });
    const memberships = dn ? await this.#memberships(c, dn, groups) : [];
    const still = groups.filter((_, i) => memberships[i] === 'member');
    if (still.length > 0) throw new ConnectorError(`${dn} is still a member of ${still.join('; ')} after its removal`, { transient: false });
    const proof = dn && this.#settings.lock.probeBind ? await this.#probeGone(dn, signal) : undefined;
    return {
      verification: [
        dn ? `${dn}: entry ${found ? 'deleted' : 'already absent'} (read back: no such object)` : `no entry for employee ${account.employeeId} (already deleted)`,
        proof,
        dn && groups.length > 0 ? `not a member of ${describeGroups(groups, memberships, removed)} (read back)` : undefined,
      ]
        .filter(Boolean)
        .join('; '),
    };
  }

  // ── directory operations ───────────────────────────────────────────────────────────────────

  /** Removes `dn` from each group (one request per group, all in flight at once); answers, per group, whether it was there. */
  async #removeMemberships(c: Client, dn: string, groups: string[]): Promise<Array<'removed' | 'absent' | 'no such group'>> {
    const attr = this.#settings.groups.memberAttribute;
    const placeholder = this.#settings.groups.placeholderMember;
    return Promise.all(
      groups.map(async (g): Promise<'removed' | 'absent' | 'no such group'> => {
        const remove = new Change({ operation: 'delete', modification: new Attribute({ type: attr, values: [dn] }) });
        try {
          await this.#op(`remove ${dn} from ${g}`, () => c.modify(g, remove));
          return 'removed';
        } catch (err) {
          const code = causeCode(err);
          if (code === LdapCode.noSuchAttribute) return 'absent';
          // A group deleted meanwhile has no members: the membership is gone, which is what was asked.
          if (code === LdapCode.noSuchObject) return 'no such group';
          if (code === LdapCode.objectClassViolation && placeholder) {
            // The last member of a groupOfNames: the placeholder takes its place in the same modify.
            const add = new Change({ operation: 'add', modification: new Attribute({ type: attr, values: [placeholder] }) });
            await this.#op(`remove ${dn} from ${g} (leaving ${placeholder})`, () => c.modify(g, [add, remove]));
            return 'removed';
          }
          if (code === LdapCode.objectClassViolation) {
            throw new ConnectorError(`${(err as Error).message} — ${dn} is the last member of ${g}; set groups.placeholderMember to a DN that may stay in an otherwise empty group`, {
              transient: false,
              code: String(code),
            });
          }
          throw err;
        }
      }),
    );
  }

  /** Adds `dn` to each group (all in flight at once); a member already there is success. */
  async #addMemberships(c: Client, dn: string, groups: string[]): Promise<void> {
    const attr = this.#settings.groups.memberAttribute;
    await Promise.all(
      groups.map(async (g) => {
        try {
          await this.#op(`add ${dn} to ${g}`, () => c.modify(g, new Change({ operation: 'add', modification: new Attribute({ type: attr, values: [dn] }) })));
        } catch (err) {
          if (causeCode(err) !== LdapCode.typeOrValueExists) throw err;
        }
      }),
    );
  }

  /** Whether `dn` is listed in each group (read back as the service account, all in flight at once). */
  async #memberships(c: Client, dn: string, groups: string[]): Promise<Membership[]> {
    const attr = this.#settings.groups.memberAttribute;
    return Promise.all(
      groups.map(async (g): Promise<Membership> => {
        try {
          const r = await this.#op(`read ${g}`, () => c.search(g, { scope: 'base', filter: `(${attr}=${escapeFilterValue(dn)})`, attributes: ['1.1'] }));
          return r.searchEntries.length > 0 ? 'member' : 'not a member';
        } catch (err) {
          if (causeCode(err) !== LdapCode.noSuchObject) throw err;
          return 'no such group';
        }
      }),
    );
  }

  async #readPerson(c: Client, dn: string): Promise<Person | undefined> {
    try {
      const r = await this.#op(`read ${dn}`, () => c.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: [LOCK_ATTR] }));
      const e = r.searchEntries[0];
      return e ? { dn: e.dn, lock: values(e, LOCK_ATTR) } : undefined;
    } catch (err) {
      if (causeCode(err) === LdapCode.noSuchObject) return undefined;
      throw err;
    }
  }

  /** The person's entry: by the DN template, else (or when it names nothing) by the search. */
  async #findPerson(c: Client, account: AccountRef): Promise<Person | undefined> {
    const s = this.#settings;
    if (s.userDn) {
      const person = await this.#readPerson(c, fillTemplate(s.userDn, { id: account.employeeId }, escapeDnValue));
      if (person || !s.userSearch) return person;
    }
    const search = s.userSearch!;
    if (search.filter.includes('{email}') && account.email === null) {
      if (!search.filter.includes('{id}')) throw new ConnectorError(`employee ${account.employeeId} has no email, and userSearch.filter finds people by {email}`, { transient: false });
    }
    const filter = fillTemplate(search.filter, { id: account.employeeId, email: account.email ?? '' }, escapeFilterValue);
    const r = await this.#op(`search ${search.base} for employee ${account.employeeId}`, () => c.search(search.base, { scope: search.scope, filter, attributes: [LOCK_ATTR], sizeLimit: 2 }));
    if (r.searchEntries.length > 1) {
      throw new ConnectorError(`userSearch finds more than one entry for employee ${account.employeeId} (${r.searchEntries.map((e) => e.dn).join('; ')})`, { transient: false });
    }
    const e = r.searchEntries[0];
    return e ? { dn: e.dn, lock: values(e, LOCK_ATTR) } : undefined;
  }

  #required(person: Person | undefined, account: AccountRef): Person {
    if (person) return person;
    const where = this.#settings.userDn ? fillTemplate(this.#settings.userDn, { id: account.employeeId }, escapeDnValue) : `under ${this.#settings.userSearch!.base}`;
    throw new ConnectorError(`no entry for employee ${account.employeeId} (${where}): no such object (32)`, { transient: false, code: String(LdapCode.noSuchObject) });
  }

  #groupDn(entitlement: string): string {
    if (this.#settings.groups.entitlement === 'cn') return fillTemplate(this.#settings.groups.dn!, { cn: entitlement }, escapeDnValue);
    if (!/^[A-Za-z][\w-]*=/.test(entitlement)) {
      throw new ConnectorError(`entitlement "${entitlement}" is not a group DN (this system's grants name groups by DN: groups.entitlement "dn")`, { transient: false });
    }
    return entitlement;
  }

  // ── probes: a bind as the person ───────────────────────────────────────────────────────────

  /** Binds as `dn` with a random password and the password policy control; answers the result code and the control's error. */
  async #probe(dn: string, signal: AbortSignal): Promise<{ code: number; policyError: number | undefined }> {
    const client = this.#client();
    const abort = () => void client.unbind().catch(() => undefined);
    signal.addEventListener('abort', abort, { once: true });
    const control = new PasswordPolicyControl();
    try {
      if (this.#settings.tls.startTls) await client.startTLS(this.#tlsOptions());
      try {
        await client.bind(dn, `ems-probe-${randomBytes(24).toString('base64url')}`, control);
        return { code: LdapCode.success, policyError: control.value?.error };
      } catch (err) {
        const code = ldapCodeOf(err);
        if (code === undefined) throw err;
        return { code, policyError: control.value?.error };
      }
    } catch (err) {
      throw toConnectorError(err, `probe bind as ${dn}`, [this.#secrets.bindPassword]);
    } finally {
      signal.removeEventListener('abort', abort);
      this.#open.delete(client);
      await client.unbind().catch(() => undefined);
    }
  }

  async #probeLocked(dn: string, signal: AbortSignal): Promise<string> {
    const { code, policyError } = await this.#probe(dn, signal);
    if (code === LdapCode.invalidCredentials && policyError === PasswordPolicyError.AccountLocked) {
      return 'a bind as the person was refused: invalid credentials (49), password policy: account locked (whatever the password)';
    }
    if (code === LdapCode.success) throw new ConnectorError(`a bind as ${dn} with a random password succeeded: the directory does not check passwords`, { transient: false });
    throw new ConnectorError(
      `${dn} is marked locked but a bind was not refused as locked (result ${code}${policyError === undefined ? ', no password policy error' : `, password policy error ${policyError}`}): ` +
        'the directory needs the ppolicy overlay with a default policy (pwdLockout TRUE) and ppolicy_use_lockout — or set lock.probeBind false to verify by reading back only',
      { transient: false, code: String(code) },
    );
  }

  async #probeUnlocked(dn: string, signal: AbortSignal): Promise<string> {
    const { code, policyError } = await this.#probe(dn, signal);
    if (policyError === PasswordPolicyError.AccountLocked) throw new ConnectorError(`${dn} is unlocked in the directory but a bind is still refused as locked`, { transient: false, code: String(code) });
    if (code === LdapCode.invalidCredentials || code === LdapCode.success) return 'a bind as the person is no longer refused as locked (password policy control)';
    throw new ConnectorError(`probe bind as ${dn}: unexpected result ${code}`, { transient: false, code: String(code) });
  }

  async #probeGone(dn: string, signal: AbortSignal): Promise<string> {
    const { code } = await this.#probe(dn, signal);
    if (code === LdapCode.invalidCredentials) return 'a bind as the person was refused: invalid credentials (49)';
    throw new ConnectorError(`a bind as the deleted ${dn} answered ${code}, not invalid credentials`, { transient: false, code: String(code) });
  }

  // ── connections ────────────────────────────────────────────────────────────────────────────

  #tlsOptions() {
    return this.#secrets.ca === undefined ? {} : { ca: [this.#secrets.ca] };
  }

  #client(): Client {
    const s = this.#settings;
    const client = new Client({
      url: s.url.url,
      timeout: s.timeout,
      connectTimeout: s.connectTimeout,
      strictDN: false,
      ...(s.url.secure ? { tlsOptions: this.#tlsOptions() } : {}),
    });
    this.#open.add(client);
    return client;
  }

  /** A connection bound as the service account for `work`; closed afterwards, and at once when `signal` aborts. */
  async #session<T>(signal: AbortSignal, work: (c: Client) => Promise<T>): Promise<T> {
    if (signal.aborted) throw new ConnectorError('cancelled before it started', { transient: true });
    const client = this.#client();
    const abort = () => void client.unbind().catch(() => undefined);
    signal.addEventListener('abort', abort, { once: true });
    try {
      if (this.#settings.tls.startTls) await this.#op('StartTLS', () => client.startTLS(this.#tlsOptions()));
      await this.#op(`bind as the service account ${this.#settings.bindDn}`, () => client.bind(this.#settings.bindDn, this.#secrets.bindPassword));
      return await work(client);
    } catch (err) {
      if (signal.aborted) throw new ConnectorError(`cancelled: ${err instanceof Error ? err.message : String(err)}`, { transient: true });
      throw err;
    } finally {
      signal.removeEventListener('abort', abort);
      this.#open.delete(client);
      await client.unbind().catch(() => undefined);
    }
  }

  /** Runs one LDAP operation; its failure becomes a ConnectorError (the LDAP error kept as `cause`). */
  async #op<T>(doing: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      const mapped = toConnectorError(err, `${this.#context.systemId}: ${doing}`, [this.#secrets.bindPassword]);
      throw new ConnectorError(mapped.message, { transient: mapped.transient, code: mapped.code, cause: err });
    }
  }
}

function describeGroups(groups: string[], memberships: Membership[], removed: Array<'removed' | 'absent' | 'no such group'>): string {
  return groups
    .map((g, i) => {
      const note = memberships[i] === 'no such group' ? ' (no such group)' : removed[i] === 'absent' ? ' (was not)' : '';
      return `${g}${note}`;
    })
    .join('; ');
}
