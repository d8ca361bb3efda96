import { outboundRequest, type HostResolver } from '@ems/platform';

export { NoAnswerError, TargetRefusedError, systemResolver, type HostResolver, type ResolvedAddress } from '@ems/platform';

export interface PostOptions {
  timeoutMs: number;
  allowPrivateTargets: boolean;
  /** Aborts the request (e.g. the service is stopping). */
  signal?: AbortSignal;
  /** Default: systemResolver. */
  resolve?: HostResolver;
}

const REFUSAL_HINT = '; webhooks reach only public addresses (EMS_WEBHOOKS_ALLOW_PRIVATE_TARGETS allows others)';

/**
 * POSTs one body and answers the HTTP status. Redirects are not followed (a 3xx is an answer, and
 * not a 2xx). The response body is read and dropped. Throws NoAnswerError when no status arrives in
 * time, TargetRefusedError when the target is internal. The guard against internal targets and DNS
 * rebinding is @ems/platform's outboundRequest (outbound-request.ts).
 */
export async function postWebhook(url: string, body: string, headers: Readonly<Record<string, string>>, options: PostOptions): Promise<number> {
  const answer = await outboundRequest(url, {
    method: 'POST',
    headers,
    body,
    timeoutMs: options.timeoutMs,
    allowPrivateTargets: options.allowPrivateTargets,
    refusalHint: REFUSAL_HINT,
    maxBodyBytes: 0,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  return answer.status;
}
