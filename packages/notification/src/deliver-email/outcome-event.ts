import { EventSources, EventTypes } from '@ems/contracts/events';
import { createEvent, type CloudEvent } from '@ems/eventbus';
import type { EmailRow } from '../db/notification.db.ts';

/** managerNotified / managerNotificationFailed for a manager notice that reached a final status; nothing otherwise. */
export function outcomeEvent(email: EmailRow, at: Date): CloudEvent | undefined {
  if (email.template !== 'resignation-manager-notice' || email.status === 'queued') return undefined;
  const envelope = {
    source: EventSources.notification,
    subject: email.resignation_id,
    correlationId: email.correlation_id ?? email.resignation_id,
    traceparent: email.traceparent ?? undefined,
    time: at,
  };
  if (email.status === 'sent') {
    return createEvent({
      ...envelope,
      type: EventTypes.managerNotified,
      data: { resignationId: email.resignation_id, emailId: email.id, to: email.recipient, messageId: email.message_id },
    });
  }
  return createEvent({
    ...envelope,
    type: EventTypes.managerNotificationFailed,
    data: {
      resignationId: email.resignation_id,
      reason: (email.last_error ?? 'email could not be delivered').slice(0, 2000),
      // Requested over HTTP, no event caused it: the email itself is the cause.
      causationId: email.causation_id ?? email.id,
    },
  });
}
