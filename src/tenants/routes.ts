import { z } from 'zod';
import type { RouteModule } from '../http/app.ts';
import { NotFoundError } from '../platform/errors.ts';
import { idParams, pageQueryShape, requirePlatformAdmin } from '../http/request-support.ts';
import { createTenant, createTenantBody } from './create-tenant.ts';
import { findTenant, listTenants } from './repository.ts';
import { tenantJson, tenantJsonSchema } from './json.ts';
import { AUTHENTICATED, page, responses } from '../http/responses.ts';

export const tenantsRoutes: RouteModule = (app, deps) => {
  app.addHook('preValidation', requirePlatformAdmin);

  app.post(
    '/api/v1/tenants',
    { schema: { tags: ['tenants'], summary: 'Create a tenant', body: createTenantBody, response: responses({ 201: tenantJsonSchema }, [...AUTHENTICATED, 409, 422]) } },
    async (request, reply) => {
      const tenant = await createTenant(deps.prisma, request.body, deps.now());
      return reply.code(201).send(tenantJson(tenant));
    },
  );

  app.get(
    '/api/v1/tenants',
    { schema: { tags: ['tenants'], summary: 'List tenants, oldest first', querystring: z.strictObject(pageQueryShape), response: responses({ 200: page(tenantJsonSchema) }) } },
    async (request) => {
      const page = await listTenants(deps.prisma, request.query);
      return { data: page.items.map(tenantJson), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/api/v1/tenants/:id',
    { schema: { tags: ['tenants'], summary: 'One tenant', params: idParams, response: responses({ 200: tenantJsonSchema }, [...AUTHENTICATED, 404]) } },
    async (request) => {
      const tenant = await findTenant(deps.prisma, request.params.id);
      if (!tenant) throw new NotFoundError('tenant');
      return tenantJson(tenant);
    },
  );
};
