// The one place the environment is read. Everything else receives a Config.
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { normalizeAbn } from '../tenants/abn.ts';
import { StartupError } from './errors.ts';

const DEV_JWT_SECRET = 'dev-only-secret-do-not-use-in-production-0123456789';

/** An unset or empty variable means "not configured". */
const unsetWhenEmpty = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalUrl = z.preprocess(unsetWhenEmpty, z.url().optional());
/** A document number prefix: `INV` in `INV-2026-000001`. */
const documentPrefix = z.string().regex(/^[A-Z][A-Z0-9]{0,9}$/, 'must be 1-10 upper-case letters or digits, starting with a letter');

/**
 * A cron expression, checked at start-up with the parser pg-boss schedules with (cron-parser, the
 * same options as its timekeeper) so a typo stops the process naming the variable instead of
 * failing later inside boss.schedule().
 */
export function cronProblem(expression: string): string | undefined {
  try {
    CronExpressionParser.parse(expression, { tz: 'UTC', strict: false });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
const cronExpression = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .superRefine((value, ctx) => {
      const problem = cronProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: `not a valid cron expression "${value}" (${problem})` });
    });

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DATABASE_URL: optionalUrl,
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
  EMBEDDED_PG_DIR: z.string().min(1).default('.data/pg'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').default(DEV_JWT_SECRET),
  AUTH_JWT_ISSUER: z.string().min(1).optional(),
  MONTH_CLOSE_CRON: cronExpression('0 3 1 * *'),
  MONTH_CLOSE_CATCH_UP_CRON: cronExpression('30 3 * * *'),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** Tenants per month-close chunk (one pg-boss job and one transaction each). */
  MONTH_CLOSE_CHUNK_SIZE: z.coerce.number().int().min(1).max(5000).default(500),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30000),
  PROVIDER_API_URL: z.url().default('https://api.digitalocean.com'),
  PROVIDER_TOKEN: z.preprocess(unsetWhenEmpty, z.string().optional()),
  FINANCE_URL: optionalUrl,
  FINANCE_JWT_SECRET: z.preprocess(unsetWhenEmpty, z.string().min(32, 'must be at least 32 characters').optional()),
  // Receivables: when drafts are issued, how they are numbered and when they fall due.
  INVOICE_GRACE_HOURS: z.coerce.number().int().min(0).max(24 * 62).default(72),
  INVOICE_PAYMENT_TERMS_DAYS: z.coerce.number().int().min(0).max(365).default(14),
  INVOICE_NUMBER_PREFIX: documentPrefix.default('INV'),
  ADJUSTMENT_NOTE_PREFIX: documentPrefix.default('AN'),
  INVOICE_ISSUE_CRON: cronExpression('41 * * * *'),
  DRAFT_REFRESH_CRON: cronExpression('17 * * * *'),
  // Us, as a tax invoice names the supplier.
  SUPPLIER_LEGAL_NAME: z.string().min(1).default('Example Platform Pty Ltd'),
  SUPPLIER_ABN: z.preprocess(unsetWhenEmpty, z.string().refine((v) => normalizeAbn(v) !== null, 'is not a valid ABN (11 digits whose ATO check digit holds)').optional()),
  SUPPLIER_ADDRESS: z.preprocess(unsetWhenEmpty, z.string().optional()),
  SUPPLIER_EMAIL: z.preprocess(unsetWhenEmpty, z.email().optional()),
  // GET /metrics: on the API port behind this bearer token (else a platform_admin JWT), or, when
  // METRICS_PORT is set, on a listener of its own (every process, workers too) without auth.
  METRICS_TOKEN: z.preprocess(unsetWhenEmpty, z.string().min(16, 'must be at least 16 characters').optional()),
  METRICS_PORT: z.preprocess(unsetWhenEmpty, z.coerce.number().int().min(1).max(65535).optional()),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
});

export type Config = Readonly<z.infer<typeof schema>>;

/** Its message has one line per bad variable: `invalid configuration: NAME: why`. */
export class ConfigError extends StartupError {
  readonly problems: { variable: string; message: string }[];
  constructor(problems: { variable: string; message: string }[]) {
    super(problems.map((p) => `invalid configuration: ${p.variable}: ${p.message}`).join('\n'));
    this.problems = problems;
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    // One line per variable: zod may report several issues for one value.
    const byVariable = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const variable = issue.path.join('.');
      if (!byVariable.has(variable)) byVariable.set(variable, issue.message);
    }
    throw new ConfigError([...byVariable].map(([variable, message]) => ({ variable, message })));
  }
  const config = parsed.data;
  if (config.NODE_ENV === 'production' && config.AUTH_JWT_SECRET === DEV_JWT_SECRET) {
    throw new ConfigError([{ variable: 'AUTH_JWT_SECRET', message: 'must be set in production' }]);
  }
  // Vendor bills are signed with this secret: a finance URL without it could never be pushed to.
  if (config.FINANCE_URL && !config.FINANCE_JWT_SECRET) {
    throw new ConfigError([{ variable: 'FINANCE_JWT_SECRET', message: 'must be set when FINANCE_URL is set' }]);
  }
  return Object.freeze(config);
}

let cached: Config | undefined;
/** The process configuration, read from the environment once. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
