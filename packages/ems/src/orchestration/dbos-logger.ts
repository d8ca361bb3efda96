import type { DLogger } from '@dbos-inc/dbos-sdk';
import type { Logger } from '@ems/platform';

/**
 * DBOS's own log lines, into our structured log. A step attempt that failed and will be retried is
 * expected operation (the case's timeline records it), so it is a one-line warning, not an error with
 * a stack trace.
 */
const RETRY = /automatically retried/i;
const firstLineIfRetry = (message: string) => (RETRY.test(message) ? message.split('\n')[0]! : message);

export function dbosLogger(log: Logger): DLogger {
  const text = (entry: unknown) => (entry instanceof Error ? entry.message : typeof entry === 'string' ? entry : JSON.stringify(entry));
  return {
    info: (entry) => log.debug(text(entry)),
    debug: (entry) => log.trace(text(entry)),
    warn: (entry) => log.warn(firstLineIfRetry(text(entry))),
    error: (entry) => {
      const message = text(entry);
      if (RETRY.test(message)) log.warn(firstLineIfRetry(message));
      else log.error({ err: entry instanceof Error ? entry : undefined }, message);
    },
  };
}
