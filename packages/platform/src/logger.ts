import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    level: options.level ?? process.env.EMS_LOG_LEVEL ?? 'info',
    ...(options.name ? { name: options.name } : {}),
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
