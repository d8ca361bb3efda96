/**
 * GET /api/extensions: what the operator sees of the extensions EMS loaded — the acceptance EMS loads the
 * IT asset recovery extension by configuration only (EMS_EXTENSIONS=@ems/assets).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { extensions } from '@ems/contracts';
import { HR_LEAD, http, OPERATOR, startAcceptanceEms, tokenFor, type AcceptanceEnv } from './acceptance/harness.ts';

describe('the extensions list', () => {
  let env: AcceptanceEnv;
  beforeAll(async () => {
    env = await startAcceptanceEms('choreography', 'extensions_list');
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('when the operator asks, then each loaded extension comes with its version, subscriptions, events and operations (where served, for whom)', async () => {
    const res = await http<extensions.ExtensionList>(env.base, 'GET', '/api/extensions', undefined, { authorization: `Bearer ${await tokenFor(env.base, OPERATOR)}` });
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
    const [assets] = res.body.items;
    expect(assets).toMatchObject({ module: '@ems/assets', name: 'assets', version: '0.1.0' });
    expect(assets!.description).toContain('asset recovery');
    expect(assets!.subscribes.flatMap((s) => s.eventTypes)).toContain('com.ems.resignation.submitted.v1');
    expect(assets!.publishes.length).toBeGreaterThan(0);
    const list = assets!.operations.find((o) => o.operationId === 'listAssetRecoveryTasks');
    expect(list).toMatchObject({ method: 'GET', path: '/api/asset-recovery-tasks' });
    expect(list!.roles.map((r) => r.role)).toContain('access_admin');
  });

  it('when anyone but the operator asks, then 403 naming the permission', async () => {
    const res = await http<{ permission: string }>(env.base, 'GET', '/api/extensions', undefined, { authorization: `Bearer ${await tokenFor(env.base, HR_LEAD)}` });
    expect(res.status).toBe(403);
    expect(res.body.permission).toBe('listExtensions');
  });
});
