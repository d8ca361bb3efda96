import { z } from 'zod';
import { ProblemSchema, type App } from '@ems/platform';
import { mailbox as api } from '@ems/contracts';
import { getMailboxMessage, listMailbox, type MailboxDeps } from './read-mailbox.ts';

const problems = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };
const NO_MAILBOX = 'Only where EMS captures mail itself (the embedded default, no EMS_SMTP_URL); with a relay it answers 404 (type https://ems.dev/problems/no-mailbox).';

export function mailboxRoutes(deps: MailboxDeps) {
  return async (app: App): Promise<void> => {
    app.get(
      api.MailboxPaths.messages,
      {
        schema: {
          operationId: 'listMailbox',
          tags: ['mailbox'],
          summary: "The mailbox: messages the capture SMTP server received, newest first — a person's own, every one for the operator",
          description: `A person sees the messages delivered to their directory address (the SMTP envelope's recipient). ${NO_MAILBOX}`,
          querystring: api.MailboxListQuery,
          response: { 200: api.MailboxList, ...problems },
        },
      },
      async (req) => listMailbox(deps, { personIds: req.permit.employeeIds }, req.query),
    );

    app.get(
      '/api/mailbox/:id',
      {
        schema: {
          operationId: 'getMailboxMessage',
          tags: ['mailbox'],
          summary: 'One message of the mailbox as a mail client shows it: headers, text, HTML (as received) and attachments (.ics invites as text)',
          description: `The HTML is returned exactly as received: show it only in a sandboxed iframe. ${NO_MAILBOX}`,
          params: z.object({ id: api.MailboxMessageId }),
          response: { 200: api.MailboxMessage, ...problems },
        },
      },
      async (req) => getMailboxMessage(deps, { personIds: req.permit.employeeIds }, req.params.id),
    );
  };
}
