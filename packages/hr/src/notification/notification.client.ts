import { callJson, ServiceCallError, type BackoffPolicy, type CallAuth, type HttpTransport } from '@ems/platform';
import { notification } from '@ems/contracts';

/**
 * HR's client of the Notification service: POST /api/emails. Notification sends an email once per
 * (resignation, purpose, recipient) and per Idempotency-Key, so a caller that is not sure whether
 * its last attempt got through simply sends again with the same key.
 */
export interface NotificationClient {
  /** Resolves with the email Notification stored (new, or the one stored first). Throws ServiceCallError. */
  sendEmail(request: notification.SendEmailRequest, options: { idempotencyKey: string; timeoutMs?: number }): Promise<notification.Email>;
  /**
   * Several emails in one call (POST /api/email-batches), each with its own key: each one's state in the order
   * given. Throws ServiceCallError for the whole batch (a refusal names the email at fault).
   */
  sendEmails(batch: readonly { request: notification.SendEmailRequest; idempotencyKey: string }[], options?: { timeoutMs?: number }): Promise<notification.SentEmailOutcome[]>;
}

export function createNotificationClient(options: { notificationUrl: string; timeoutMs?: number; auth?: CallAuth | undefined; transport?: HttpTransport | undefined }): NotificationClient {
  const via = options.transport ? { transport: options.transport } : {};
  const base = options.notificationUrl.replace(/\/+$/, '');
  const url = `${base}${notification.NotificationPaths.emails}`;
  const batchUrl = `${base}${notification.NotificationPaths.emailBatches}`;
  return {
    async sendEmail(request, call) {
      const body = await callJson<unknown>(url, {
        method: 'POST',
        headers: options.auth ? await options.auth('notification') : {},
        body: request,
        idempotencyKey: call.idempotencyKey,
        timeoutMs: call.timeoutMs ?? options.timeoutMs ?? 5_000,
        ...via,
      });
      // The answer is input like any other: checked before anything is recorded from it.
      const email = notification.Email.safeParse(body);
      if (!email.success) throw new ServiceCallError(`${url} answered an unexpected body: ${email.error.message.slice(0, 200)}`, undefined, true, body);
      return email.data;
    },
    async sendEmails(batch, call = {}) {
      const request: notification.SendEmailsRequest = { emails: batch.map((b) => ({ idempotencyKey: b.idempotencyKey, email: b.request })) };
      const body = await callJson<unknown>(batchUrl, {
        method: 'POST',
        headers: options.auth ? await options.auth('notification') : {},
        body: request,
        timeoutMs: call.timeoutMs ?? options.timeoutMs ?? 5_000,
        ...via,
      });
      const answer = notification.SendEmailsAnswer.safeParse(body);
      if (!answer.success || answer.data.emails.length !== batch.length) {
        throw new ServiceCallError(`${batchUrl} answered an unexpected body: ${answer.error?.message.slice(0, 200) ?? `${answer.data?.emails.length} answers to ${batch.length} emails`}`, undefined, true, body);
      }
      return answer.data.emails;
    },
  };
}

/** Notification refused the email itself (4xx): sending the same request again cannot succeed. */
export function isRefusedByNotification(err: unknown): err is ServiceCallError {
  return err instanceof ServiceCallError && !err.retryable;
}

/**
 * How HR retries a call to Notification (an invite, a follow-up): 2^n from `baseMs`, at most 5 minutes, ±20 % so a
 * recovering Notification is not hit by every caller at once — platform's one formula (backoffDelay).
 */
export function notificationRetry(baseMs: number): BackoffPolicy {
  return { baseMs, maxMs: 5 * 60_000, jitter: 0.2 };
}
