// Builds the Fastify app: JSON errors, bearer auth, OpenAPI at /docs, health probes and the
// domain route modules. Routes are thin: validate (zod), authorize, call a use case, shape JSON.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { Config } from '../platform/config.ts';
import type { PrismaClient } from '../platform/database.ts';
import { ForbiddenError, UnauthorizedError } from '../platform/errors.ts';
import { accessTokenVerifier, type Principal, type Role } from '../auth/tokens.ts';
import { errorHandler } from './errors.ts';
import { httpRequestDuration, httpRequests } from '../platform/metrics.ts';
import { registerMetricsRoute } from './metrics.ts';

export interface AppDeps {
  prisma: PrismaClient;
  boss: PgBoss;
  config: Config;
  logger: Logger;
  /** The clock, injectable so tests can freeze time. */
  now?: () => Date;
}

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;
export type RouteModule = (app: App, deps: Required<AppDeps>) => void | Promise<void>;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The authenticated caller; 401 when there is none, 403 when none of `roles` is held. */
export function authorize(request: FastifyRequest, ...roles: Role[]): Principal {
  const principal = request.principal;
  if (!principal) throw new UnauthorizedError();
  if (roles.length > 0 && !roles.some((r) => principal.roles.includes(r))) {
    throw new ForbiddenError(`requires one of: ${roles.join(', ')}`);
  }
  return principal;
}

export async function buildApp(deps: AppDeps, routes: RouteModule[]): Promise<App> {
  const full: Required<AppDeps> = { now: () => new Date(), ...deps };
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: 5 * 1024 * 1024,
  }).withTypeProvider<ZodTypeProvider>() as unknown as App;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'route_not_found', message: `no route ${request.method} ${request.url}` });
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Tenant invoicing API', version: '1.0.0', description: 'Month-end tenant invoicing: catalog, deployments, usage, invoices.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  app.decorateRequest('principal', null);
  const verifyAccessToken = accessTokenVerifier(deps.config.AUTH_JWT_SECRET, { issuer: deps.config.AUTH_JWT_ISSUER });
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/api/')) return;
    const header = request.headers.authorization;
    if (!header) return; // routes call authorize(), which answers 401
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match?.[1]) throw new UnauthorizedError('authorization header must be "Bearer <token>"');
    request.principal = await verifyAccessToken(match[1]);
  });

  // Requests by route pattern (not the raw URL: ids would explode the label set); unknown routes as one.
  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    httpRequests.inc(labels);
    httpRequestDuration.observe(labels, reply.elapsedTime / 1000);
  });
  registerMetricsRoute(app, deps);

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const checks: Record<string, string> = {};
    try {
      await deps.prisma.$queryRaw`SELECT 1`;
      checks.database = 'ok';
    } catch (error) {
      checks.database = `error: ${(error as Error).message}`;
    }
    try {
      await deps.boss.getQueues([]);
      checks.queue = 'ok';
    } catch (error) {
      checks.queue = `error: ${(error as Error).message}`;
    }
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  for (const register of routes) {
    await app.register(async (scoped) => {
      await register(scoped as App, full);
    });
  }
  await app.ready();
  return app;
}
