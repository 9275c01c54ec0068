import { z } from 'zod';
import { authorize, type RouteModule } from '../http/app.ts';
import { NotFoundError } from '../platform/errors.ts';
import { idParams, pageQueryShape, requirePlatformAdmin } from '../http/request-support.ts';
import { createTenant, createTenantBody } from './create-tenant.ts';
import { findTenant, listTenants } from './repository.ts';
import { addTaxProfile, addTaxProfileBody } from './tax-profiles.ts';
import { updateTenant, updateTenantBody } from './update-tenant.ts';
import { tenantJson, tenantJsonSchema } from './json.ts';
import { AUTHENTICATED, page, responses } from '../http/responses.ts';

export const tenantsRoutes: RouteModule = (app, deps) => {
  app.addHook('preValidation', requirePlatformAdmin);

  app.post(
    '/api/v1/tenants',
    { schema: { tags: ['tenants'], summary: 'Create a tenant', body: createTenantBody, response: responses({ 201: tenantJsonSchema }, [...AUTHENTICATED, 409, 422]) } },
    async (request, reply) => {
      const tenant = await createTenant(deps.prisma, request.body, deps.now(), authorize(request).sub);
      return reply.code(201).send(tenantJson(tenant, deps.now()));
    },
  );

  app.get(
    '/api/v1/tenants',
    { schema: { tags: ['tenants'], summary: 'List tenants, oldest first', querystring: z.strictObject(pageQueryShape), response: responses({ 200: page(tenantJsonSchema) }) } },
    async (request) => {
      const page = await listTenants(deps.prisma, request.query);
      const now = deps.now();
      return { data: page.items.map((t) => tenantJson(t, now)), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/api/v1/tenants/:id',
    { schema: { tags: ['tenants'], summary: 'One tenant', params: idParams, response: responses({ 200: tenantJsonSchema }, [...AUTHENTICATED, 404]) } },
    async (request) => {
      const tenant = await findTenant(deps.prisma, request.params.id);
      if (!tenant) throw new NotFoundError('tenant');
      return tenantJson(tenant, deps.now());
    },
  );

  app.patch(
    '/api/v1/tenants/:id',
    { schema: { tags: ['tenants'], summary: 'Change a tenant’s name, billing details or (before its first invoice) currency', params: idParams, body: updateTenantBody, response: responses({ 200: tenantJsonSchema.extend({ outcome: z.enum(['updated', 'unchanged']) }) }, [...AUTHENTICATED, 404, 422]) } },
    async (request) => {
      const { tenant, outcome } = await updateTenant(deps.prisma, request.params.id, request.body, deps.now());
      return { ...tenantJson(tenant, deps.now()), outcome };
    },
  );

  app.post(
    '/api/v1/tenants/:id/tax-profiles',
    { schema: { tags: ['tenants'], summary: 'Add an effective-dated tax profile', params: idParams, body: addTaxProfileBody, response: responses({ 201: tenantJsonSchema }, [...AUTHENTICATED, 404, 409]) } },
    async (request, reply) => {
      await addTaxProfile(deps.prisma, request.params.id, request.body, authorize(request).sub);
      const tenant = await findTenant(deps.prisma, request.params.id);
      return reply.code(201).send(tenantJson(tenant!, deps.now()));
    },
  );
};
