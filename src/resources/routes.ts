import { z } from 'zod';
import type { RouteModule } from '../http/app.ts';
import { NotFoundError } from '../platform/errors.ts';
import { idParams, pageQueryShape, requirePlatformAdmin, uuid } from '../http/request-support.ts';
import { createResource, createResourceBody } from './create-resource.ts';
import { deleteResource, deleteResourceBody } from './delete-resource.ts';
import { findResource, listResources } from './repository.ts';
import { RESOURCE_KINDS } from './kinds.ts';
import { resourceJson, resourceJsonSchema } from './json.ts';
import { AUTHENTICATED, page, responses } from '../http/responses.ts';

export const resourcesRoutes: RouteModule = (app, deps) => {
  app.addHook('preValidation', requirePlatformAdmin);

  app.post(
    '/api/v1/resources',
    { schema: { tags: ['resources'], summary: 'Record a cloud resource', body: createResourceBody, response: responses({ 201: resourceJsonSchema }, [...AUTHENTICATED, 409, 422]) } },
    async (request, reply) => {
      const resource = await createResource(deps.prisma, request.body, deps.now());
      return reply.code(201).send(resourceJson(resource));
    },
  );

  app.get(
    '/api/v1/resources',
    {
      schema: {
        tags: ['resources'],
        summary: 'List cloud resources, oldest first',
        querystring: z.strictObject({ deployment_id: uuid.optional(), kind: z.enum(RESOURCE_KINDS).optional(), ...pageQueryShape }),
        response: responses({ 200: page(resourceJsonSchema) }),
      },
    },
    async (request) => {
      const q = request.query;
      const page = await listResources(deps.prisma, { deploymentId: q.deployment_id, kind: q.kind, limit: q.limit, cursor: q.cursor });
      return { data: page.items.map(resourceJson), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/api/v1/resources/:id',
    { schema: { tags: ['resources'], summary: 'One cloud resource', params: idParams, response: responses({ 200: resourceJsonSchema }, [...AUTHENTICATED, 404]) } },
    async (request) => {
      const resource = await findResource(deps.prisma, request.params.id);
      if (!resource) throw new NotFoundError('resource');
      return resourceJson(resource);
    },
  );

  app.post(
    '/api/v1/resources/:id/delete',
    {
      schema: {
        tags: ['resources'],
        summary: 'Mark a cloud resource deleted (idempotent)',
        params: idParams,
        body: deleteResourceBody,
        response: responses({ 200: resourceJsonSchema }, [...AUTHENTICATED, 404, 422]),
      },
    },
    async (request) => {
      const resource = await deleteResource(deps.prisma, request.params.id, request.body?.deleted_at, deps.now());
      return resourceJson(resource);
    },
  );
};
