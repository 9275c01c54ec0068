import { pino, type Logger } from 'pino';
import { config } from './config.ts';

export type { Logger };

let root: Logger | undefined;
export function logger(): Logger {
  root ??= pino({
    level: config().LOG_LEVEL,
    base: { service: 'tenant-invoicing' },
    redact: ['req.headers.authorization', '*.token', '*.password'],
  });
  return root;
}
