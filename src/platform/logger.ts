import { pino, type Logger } from 'pino';
import { config } from './config.ts';

export type { Logger };

let root: Logger | undefined;
/** The process logger, created on first use: to stdout, or appended to `file` when given. */
export function logger(options: { file?: string } = {}): Logger {
  root ??= pino(
    {
      level: config().LOG_LEVEL,
      base: { service: 'tenant-invoicing' },
      redact: ['req.headers.authorization', '*.token', '*.password'],
    },
    options.file ? pino.destination({ dest: options.file, mkdir: true, sync: true }) : undefined,
  );
  return root;
}
