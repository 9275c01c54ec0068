// A real app on a real per-file database with a real pg-boss; requests go through Fastify inject.
import { afterAll, beforeAll } from 'vitest';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/platform/config.ts';
import { buildApp, type App } from '../../src/http/app.ts';
import { allRoutes } from '../../src/http/routes.ts';
import { startBoss, type PgBoss } from '../../src/platform/queue.ts';
import { createQueues } from '../../jobs/catalog.ts';
import { signAccessToken, type Role } from '../../src/auth/tokens.ts';
import { useTestDatabase, type TestDatabase } from './db.ts';

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

export interface TestApp {
  app: App;
  db: TestDatabase;
  boss: PgBoss;
  config: Config;
  token(roles: Role | Role[], tenantId?: string | null, options?: { ttlSeconds?: number }): Promise<string>;
  /** Authorization header for inject(). */
  auth(roles: Role | Role[], tenantId?: string | null): Promise<{ authorization: string }>;
}

export function useTestApp(options: { now?: () => Date; env?: Record<string, string> } = {}): () => TestApp {
  const getDb = useTestDatabase();
  let ctx: TestApp | undefined;
  beforeAll(async () => {
    const db = getDb();
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: db.url, AUTH_JWT_SECRET: TEST_JWT_SECRET, ...options.env });
    const logger = pino({ level: 'silent' });
    const boss = await startBoss({ url: db.url, logger });
    await createQueues(boss);
    const app = await buildApp({ prisma: db.prisma, boss, config, logger, ...(options.now ? { now: options.now } : {}) }, allRoutes);
    const token: TestApp['token'] = (roles, tenantId = null, o = {}) =>
      signAccessToken({ sub: 'test-user', tenantId, roles: Array.isArray(roles) ? roles : [roles] }, TEST_JWT_SECRET, o);
    ctx = {
      app,
      db,
      boss,
      config,
      token,
      auth: async (roles, tenantId) => ({ authorization: `Bearer ${await token(roles, tenantId)}` }),
    };
  });
  afterAll(async () => {
    await ctx?.app.close();
    await ctx?.boss.stop({ graceful: false, close: true });
  });
  return () => {
    if (!ctx) throw new Error('test app not ready');
    return ctx;
  };
}
