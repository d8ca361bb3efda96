import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { AccessPaths, HrPaths, NotificationPaths } from '@ems/contracts';
import { waitFor } from '@ems/platform/testing';
import { employeePicker, http, startAcceptanceEms, type AcceptanceEnv } from './acceptance/harness.ts';
import { networkRequests } from './support/network-requests.ts';

/*
 * In the embedded default one process serves EMS and its participants: a call from one to another (the
 * orchestrator's commands, HR's invites to Notification) goes into the process's own server without a socket
 * (platform's injectTransport; why, in the README's twenty-sixth round). What goes over the network is seen on
 * undici's channel (networkRequests) — the test's own requests among them.
 */
const BETWEEN_SERVICES = [NotificationPaths.managerNotices, NotificationPaths.emails, NotificationPaths.emailBatches, HrPaths.interviews, AccessPaths.holds].map((p) => `POST ${p}`);

describe.each(['orchestration', 'choreography'] as const)('calls between services of one process (%s)', (mode) => {
  const org = demoOrg();
  const { takeEmployee, managerOf } = employeePicker(org);
  let env: AcceptanceEnv;
  beforeAll(async () => {
    env = await startAcceptanceEms(mode, `inprocess_${mode}`, { notificationProxy: false });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('when an employee resigns, then the manager’s notice, the interview’s invites and the hold are made without a request over the network, and delivered', async () => {
    const network = networkRequests();
    try {
      const employee = takeEmployee();
      const partner = org.hrPartners.find((p) => p.id === employee.hrPartnerId)!;
      const res = await http<{ id: string }>(env.base, 'POST', '/api/resignations', { employeeId: employee.id });
      expect(res.status).toBe(201);
      // Delivered: the manager's notice and both invites reached the SMTP server, the critical grants are suspended.
      for (const to of [managerOf(employee).email, employee.email, partner.email]) {
        await waitFor(async () => (env.smtp.messages.some((m) => [m.to].flat().some((a) => a?.value.some((v) => v.address === to))) ? true : undefined), `an email to ${to}`);
      }
      await waitFor(async () => {
        const access = await http<{ items: Array<{ critical: boolean; status: string }> }>(env.base, 'GET', `/api/employees/${employee.id}/access`);
        return access.body.items.some((i) => i.critical) && access.body.items.every((i) => (i.critical ? i.status === 'suspended' : i.status === 'active')) ? true : undefined;
      }, 'the critical grants suspended');
      // The test's own requests went over the network, and were seen; none between the services did.
      expect(network.seen).toContain('POST /api/resignations');
      expect(network.seen.filter((r) => BETWEEN_SERVICES.includes(r))).toEqual([]);
    } finally {
      network.stop();
    }
  });
});
