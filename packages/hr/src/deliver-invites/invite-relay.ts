import type { Logger } from '@ems/platform';
import { createPoller, type Poller } from '@ems/platform';
import type { InviteDelivery } from './deliver-invites.ts';

export type InviteRelay = Poller;

const BATCH = 20;

/**
 * Background relay: every `intervalMs` it delivers the invites that are due (first attempts whose
 * request did not deliver them, and retries after a failure).
 */
export function createInviteRelay(delivery: InviteDelivery, options: { log: Logger; intervalMs: number }): InviteRelay {
  return createPoller({ name: 'invite relay', log: options.log, intervalMs: options.intervalMs, batch: BATCH, work: (limit) => delivery.deliverDue(limit) });
}
