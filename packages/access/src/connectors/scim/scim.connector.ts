import { ConnectorError, type AccountRef, type AccountState, type Connector, type ConnectorChange, type ConnectorContext, type ConnectorOutcome } from '../connector.ts';
import { PATCH_OP, type ScimClient } from './scim.client.ts';
import { userFilterFor, type ScimSettings } from './scim.settings.ts';

/**
 * Carries Access's decisions to a SCIM 2.0 service provider (RFC 7644):
 *
 *   suspend  PATCH /Users/{id} active=false, then for each entitlement (a SCIM Group id)
 *            PATCH /Groups/{g}  remove  members[value eq "{id}"]
 *   restore  PATCH /Groups/{g}  add     members [{ value: "{id}" }] for each, then PATCH active=true
 *   revoke   remove from each listed Group, then PATCH active=false (revokeMode deactivate)
 *            or DELETE /Users/{id} (revokeMode delete)
 *   then     GET /Users/{id} and GET /Groups/{g} again: the change must show, or apply throws
 *
 * Every write is preceded by a read: what already holds is not written again (a change applied twice,
 * or one an administrator already made, is verified, not redone), and the read's ETag goes into
 * If-Match. A 412 (someone changed the resource in between) re-reads and tries once more.
 */
export class ScimConnector implements Connector {
  readonly type = 'scim' as const;

  private readonly settings: ScimSettings;
  private readonly client: ScimClient;
  private readonly context: ConnectorContext;
  constructor(settings: ScimSettings, client: ScimClient, context: ConnectorContext) {
    this.settings = settings;
    this.client = client;
    this.context = context;
  }

  async apply(change: ConnectorChange, signal: AbortSignal): Promise<ConnectorOutcome> {
    const groups = [...new Set(change.entitlements)];
    const user = await this.findUser(change.account, signal);
    if (!user) {
      // Nothing to sign in with, nothing to belong to: a revocation already holds (e.g. a DELETE applied twice).
      if (change.action === 'revoke') return { verification: `no SCIM User matches ${this.filterOf(change.account)}: nothing left to revoke` };
      throw new ConnectorError(`no SCIM User matches ${this.filterOf(change.account)}`, { transient: false, code: 'not_found' });
    }

    switch (change.action) {
      case 'suspend':
        await this.setActive(user.id, false, signal);
        for (const group of groups) await this.setMember(group, user.id, false, signal);
        return this.verify(user, { exists: true, active: false, groups, member: false }, signal);
      case 'restore':
        for (const group of groups) await this.setMember(group, user.id, true, signal);
        await this.setActive(user.id, true, signal);
        return this.verify(user, { exists: true, active: true, groups, member: true }, signal);
      case 'revoke':
        for (const group of groups) await this.setMember(group, user.id, false, signal);
        if (this.settings.revokeMode === 'delete') {
          await this.deleteUser(user.id, signal);
          return this.verify(user, { exists: false, active: false, groups, member: false }, signal);
        }
        await this.setActive(user.id, false, signal);
        return this.verify(user, { exists: true, active: false, groups, member: false }, signal);
    }
  }

  async inspect(account: AccountRef, signal: AbortSignal): Promise<AccountState> {
    const user = await this.findUser(account, signal);
    if (!user) return { exists: false, enabled: false, entitlements: [] };
    const entitlements = user.groups ?? (await this.groupsWithMember(user.id, signal));
    return { exists: true, enabled: user.active, entitlements: [...entitlements].sort() };
  }

  async close(): Promise<void> {
    // Each request opens its own connection (outboundRequest): nothing is held open.
  }

  private filterOf(account: AccountRef): string {
    const filter = userFilterFor(this.settings.userFilter, account);
    if (filter === undefined) {
      throw new ConnectorError(`the person has no email, and this system finds Users by ${this.settings.userFilter}`, { transient: false, code: 'no_email' });
    }
    return filter;
  }

  /** The one User the filter finds (read by id, for its ETag), or undefined; two or more is refused. */
  private async findUser(account: AccountRef, signal: AbortSignal): Promise<ScimUser | undefined> {
    const filter = this.filterOf(account);
    const answer = await this.client.send({ method: 'GET', path: `/Users?filter=${encodeURIComponent(filter)}&startIndex=1&count=2` }, signal);
    const resources = Array.isArray(answer.body?.Resources) ? (answer.body.Resources as unknown[]) : [];
    const total = typeof answer.body?.totalResults === 'number' ? answer.body.totalResults : resources.length;
    if (total === 0 || resources.length === 0) return undefined;
    if (total > 1 || resources.length > 1) {
      throw new ConnectorError(`${total} SCIM Users match ${filter}; a person must match exactly one (see userFilter)`, { transient: false, code: 'ambiguous' });
    }
    const id = (resources[0] as { id?: unknown }).id;
    if (typeof id !== 'string' || !id) throw new ConnectorError(`the SCIM User matching ${filter} has no id`, { transient: false, code: 'invalid_response' });
    return this.readUser(id, signal);
  }

  private async readUser(id: string, signal: AbortSignal): Promise<ScimUser | undefined> {
    const answer = await this.client.send({ method: 'GET', path: `/Users/${encodeURIComponent(id)}`, accept: [404] }, signal);
    if (answer.status === 404 || !answer.body) return undefined;
    return toUser(id, answer.body, answer.etag);
  }

  private async readGroup(id: string, signal: AbortSignal): Promise<{ members: Set<string>; etag: string | undefined }> {
    const answer = await this.client.send({ method: 'GET', path: `/Groups/${encodeURIComponent(id)}` }, signal);
    const members = Array.isArray(answer.body?.members) ? (answer.body.members as Array<{ value?: unknown }>) : [];
    return { members: new Set(members.map((m) => m.value).filter((v): v is string => typeof v === 'string')), etag: answer.etag };
  }

  private async setActive(userId: string, active: boolean, signal: AbortSignal): Promise<void> {
    await this.withPrecondition(`User ${userId}`, signal, async () => {
      const user = await this.readUser(userId, signal);
      if (!user) throw new ConnectorError(`SCIM User ${userId} is gone`, { transient: false, code: '404' });
      if (user.active === active) return 'done';
      const answer = await this.client.send(
        { method: 'PATCH', path: `/Users/${encodeURIComponent(userId)}`, body: patch([{ op: 'replace', path: 'active', value: active }]), ifMatch: user.etag, accept: [412] },
        signal,
      );
      return answer.status === 412 ? 'stale' : 'done';
    });
  }

  private async setMember(groupId: string, userId: string, member: boolean, signal: AbortSignal): Promise<void> {
    await this.withPrecondition(`Group ${groupId}`, signal, async () => {
      const group = await this.readGroup(groupId, signal);
      if (group.members.has(userId) === member) return 'done';
      const operation = member
        ? { op: 'add', path: 'members', value: [{ value: userId }] }
        : { op: 'remove', path: `members[value eq ${JSON.stringify(userId)}]` };
      const answer = await this.client.send(
        { method: 'PATCH', path: `/Groups/${encodeURIComponent(groupId)}`, body: patch([operation]), ifMatch: group.etag, accept: [412] },
        signal,
      );
      return answer.status === 412 ? 'stale' : 'done';
    });
  }

  private async deleteUser(userId: string, signal: AbortSignal): Promise<void> {
    await this.withPrecondition(`User ${userId}`, signal, async () => {
      const user = await this.readUser(userId, signal);
      if (!user) return 'done';
      const answer = await this.client.send({ method: 'DELETE', path: `/Users/${encodeURIComponent(userId)}`, ifMatch: user.etag, accept: [404, 412] }, signal);
      return answer.status === 412 ? 'stale' : 'done';
    });
  }

  /** Runs a read-then-write once more when the write answered 412 (the resource changed after the read). */
  private async withPrecondition(what: string, signal: AbortSignal, attempt: () => Promise<'done' | 'stale'>): Promise<void> {
    if ((await attempt()) === 'done') return;
    this.context.log.info({ resource: what }, 'SCIM resource changed between read and write (412): read again');
    if (signal.aborted) throw new ConnectorError('SCIM: aborted', { transient: true, code: 'aborted' });
    if ((await attempt()) === 'done') return;
    throw new ConnectorError(`SCIM ${what} kept changing while EMS wrote it (412 Precondition Failed twice)`, { transient: true, code: '412' });
  }

  private async verify(
    before: ScimUser,
    want: { exists: boolean; active: boolean; groups: readonly string[]; member: boolean },
    signal: AbortSignal,
  ): Promise<ConnectorOutcome> {
    const who = before.userName ? `${before.userName} (id ${before.id})` : before.id;
    const user = await this.readUser(before.id, signal);
    const wrong: string[] = [];
    // RFC 7644 §3.6 lets a provider keep a deleted resource (it must answer 404 for it); some keep it deactivated instead.
    const keptInactive = !want.exists && user !== undefined && !user.active;
    if (!want.exists && user && user.active) wrong.push('the User still exists, active');
    if (want.exists && !user) wrong.push('the User is gone');
    if (user && want.exists && user.active !== want.active) wrong.push(`active is ${String(user.active)}`);
    for (const group of want.groups) {
      const { members } = await this.readGroup(group, signal);
      if (members.has(before.id) !== want.member) wrong.push(want.member ? `not a member of Group ${group}` : `still a member of Group ${group}`);
    }
    if (wrong.length > 0) {
      throw new ConnectorError(`SCIM User ${who} read back after the change: ${wrong.join('; ')}`, { transient: true, code: 'verification_failed' });
    }
    const state = !want.exists ? (keptInactive ? 'deleted; the provider keeps it with active=false' : 'GET answers 404 (deleted)') : `active=${String(want.active)}`;
    const membership =
      want.groups.length === 0 ? '' : `; ${want.member ? 'a member of' : 'in none of'} Group${want.groups.length > 1 ? 's' : ''} ${want.groups.join(', ')}`;
    return { verification: `SCIM User ${who} read back: ${state}${membership}` };
  }

  /** Groups whose members include the user, when the User resource does not list its groups. */
  private async groupsWithMember(userId: string, signal: AbortSignal): Promise<string[]> {
    const filter = encodeURIComponent(`members.value eq ${JSON.stringify(userId)}`);
    const ids: string[] = [];
    for (let start = 1; start <= 10_000; ) {
      const answer = await this.client.send({ method: 'GET', path: `/Groups?filter=${filter}&attributes=id&startIndex=${start}&count=100` }, signal);
      const page = Array.isArray(answer.body?.Resources) ? (answer.body.Resources as Array<{ id?: unknown }>) : [];
      ids.push(...page.map((g) => g.id).filter((v): v is string => typeof v === 'string'));
      const total = typeof answer.body?.totalResults === 'number' ? answer.body.totalResults : ids.length;
      if (page.length === 0 || start - 1 + page.length >= total) break;
      start += page.length;
    }
    return ids;
  }
}

interface ScimUser {
  id: string;
  userName: string | undefined;
  /** RFC 7643: absent means the provider does not say; only false means deactivated. */
  active: boolean;
  /** The User's `groups` (read-only, kept by the provider), when it has them. */
  groups: string[] | undefined;
  etag: string | undefined;
}

function toUser(id: string, body: Record<string, unknown>, etag: string | undefined): ScimUser {
  const groups = Array.isArray(body.groups) ? (body.groups as Array<{ value?: unknown }>).map((g) => g.value).filter((v): v is string => typeof v === 'string') : undefined;
  return { id, userName: typeof body.userName === 'string' ? body.userName : undefined, active: body.active !== false, groups, etag };
}

const patch = (operations: object[]) => ({ schemas: [PATCH_OP], Operations: operations });
