import { z } from 'zod';
import type { RouteModule } from '../http/app.ts';
import { authorize } from '../http/app.ts';
import type { PrismaClient } from '../platform/database.ts';
import { NotFoundError } from '../platform/errors.ts';
import { idParams, pageQueryShape, requirePlatformAdmin, uuid } from '../http/request-support.ts';
import { findSubscriptionByDeployment } from '../subscriptions/repository.ts';
import { createDeployment, createDeploymentBody } from './create-deployment.ts';
import { transitionBody, transitionDeployment } from './transition-deployment.ts';
import { findDeployment, listDeploymentEvents, listDeployments } from './repository.ts';
import { DEPLOYMENT_STATES } from './lifecycle.ts';
import { deploymentDetailJson, deploymentDetailJsonSchema, deploymentJson, deploymentJsonSchema } from './json.ts';
import { AUTHENTICATED, page, responses } from '../http/responses.ts';

async function detail(prisma: PrismaClient, id: string) {
  const deployment = await findDeployment(prisma, id);
  if (!deployment) throw new NotFoundError('deployment');
  const [events, subscription] = await Promise.all([listDeploymentEvents(prisma, id), findSubscriptionByDeployment(prisma, id)]);
  return deploymentDetailJson(deployment, events, subscription);
}

export const deploymentsRoutes: RouteModule = (app, deps) => {
  app.addHook('preValidation', requirePlatformAdmin);

  app.post(
    '/api/v1/deployments',
    { schema: { tags: ['deployments'], summary: 'Create a deployment (records its first lifecycle event)', body: createDeploymentBody, response: responses({ 201: deploymentDetailJsonSchema }, [...AUTHENTICATED, 409, 422]) } },
    async (request, reply) => {
      const principal = authorize(request, 'platform_admin');
      const deployment = await createDeployment(deps.prisma, request.body, { actor: principal.sub, now: deps.now() });
      return reply.code(201).send(await detail(deps.prisma, deployment.id));
    },
  );

  app.get(
    '/api/v1/deployments',
    {
      schema: {
        tags: ['deployments'],
        summary: 'List deployments, oldest first',
        querystring: z.strictObject({ tenant_id: uuid.optional(), state: z.enum(DEPLOYMENT_STATES).optional(), ...pageQueryShape }),
        response: responses({ 200: page(deploymentJsonSchema) }),
      },
    },
    async (request) => {
      const q = request.query;
      const page = await listDeployments(deps.prisma, { tenantId: q.tenant_id, state: q.state, limit: q.limit, cursor: q.cursor });
      return { data: page.items.map(deploymentJson), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/api/v1/deployments/:id',
    { schema: { tags: ['deployments'], summary: 'One deployment with its subscription and lifecycle events', params: idParams, response: responses({ 200: deploymentDetailJsonSchema }, [...AUTHENTICATED, 404]) } },
    async (request) => detail(deps.prisma, request.params.id),
  );

  app.post(
    '/api/v1/deployments/:id/transition',
    {
      schema: {
        tags: ['deployments'],
        summary: 'Move a deployment to another lifecycle state (its subscription follows)',
        params: idParams,
        body: transitionBody,
        response: responses({ 200: deploymentDetailJsonSchema }, [...AUTHENTICATED, 404, 409, 422]),
      },
    },
    async (request) => {
      const principal = authorize(request, 'platform_admin');
      await transitionDeployment(
        deps.prisma,
        { deploymentId: request.params.id, to: request.body.to, reason: request.body.reason, at: request.body.at, actor: principal.sub },
        deps.now(),
      );
      return detail(deps.prisma, request.params.id);
    },
  );
};
