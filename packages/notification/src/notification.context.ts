import type { Kysely } from 'kysely';
import type { BackoffPolicy, Clock, Logger, Pool } from '@ems/platform';
import type { EventBus } from '@ems/eventbus';
import type { Mailer } from './smtp/mailer.ts';
import type { NotificationDB } from './db/notification.db.ts';
import type { Deliveries } from './deliver-email/deliveries.ts';
import type { SendSlots } from './deliver-email/send-slots.ts';
import type { RecordSent } from './deliver-email/record-sent-together.ts';
import type { ClaimById } from './deliver-email/claim-together.ts';
import type { StoreEmails } from './send-email/store-together.ts';

/** Everything the use cases share, built once by the factory. */
export interface NotificationContext {
  db: Kysely<NotificationDB>;
  pool: Pool;
  log: Logger;
  clock: Clock;
  mailer: Mailer;
  /** The From header, e.g. 'EMS <ems@acme.example>'. */
  from: string;
  /** After this many failed attempts an email is `failed`. */
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** How long a claim lasts; longer than one SMTP attempt can take. */
  leaseMs: number;
  /** How long a POST waits for its own first delivery attempt before answering. */
  fastPathTimeoutMs: number;
  /** One per SMTP pool connection: held from an email's claim to the end of its SMTP exchange. */
  sendSlots: SendSlots;
  /** Sends running outside a request or dispatcher pass; stop() waits for them. */
  deliveries: Deliveries;
  /** Claims a queued email by id, with the other claims asked for at the same time. */
  claimById: ClaimById;
  /** Stores new emails outside a transaction, with the other requests' stored at the same time. */
  storeEmails: StoreEmails;
  /** Records "sent" for an email (but a decision notice) with the others whose sends end at the same time. */
  recordSent: RecordSent;
  /** When present, a manager notice that ends sent or failed publishes its outcome event. */
  bus?: EventBus | undefined;
}
