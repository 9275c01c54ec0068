// GET /metrics in Prometheus text format: on the API behind METRICS_TOKEN (or a platform_admin
// JWT), or on a listener of its own when METRICS_PORT is set (so a worker-only process has one too).
import { createServer, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import type { Config } from '../platform/config.ts';
import { UnauthorizedError } from '../platform/errors.ts';
import { metricsContentType, renderMetrics } from '../platform/metrics.ts';
import { verifyAccessToken } from '../auth/tokens.ts';
import { authorize, type App } from './app.ts';

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Registers /metrics on the API unless METRICS_PORT moves it to its own listener. */
export function registerMetricsRoute(app: App, deps: { boss: PgBoss; config: Config }): void {
  if (deps.config.METRICS_PORT !== undefined) return;
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    const token = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!token) throw new UnauthorizedError();
    if (deps.config.METRICS_TOKEN) {
      if (!sameSecret(token, deps.config.METRICS_TOKEN)) throw new UnauthorizedError('not the metrics token');
    } else {
      request.principal = await verifyAccessToken(token, deps.config.AUTH_JWT_SECRET, { issuer: deps.config.AUTH_JWT_ISSUER });
      authorize(request, 'platform_admin');
    }
    return reply.type(metricsContentType).send(await renderMetrics(deps.boss));
  });
}

/** The METRICS_PORT listener: /metrics only, no auth (bind it to a private interface). */
export async function startMetricsServer(options: { host: string; port: number; boss?: PgBoss }): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'route_not_found', message: 'only GET /metrics here' }));
      return;
    }
    renderMetrics(options.boss).then(
      (text) => response.writeHead(200, { 'content-type': metricsContentType }).end(text),
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${error.message}`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}
