import { z } from 'zod';
import type { RouteModule } from '../http/app.ts';
import { NotFoundError } from '../platform/errors.ts';
import { code, requirePlatformAdmin } from '../http/request-support.ts';
import { createPlan, createPlanBody } from './create-plan.ts';
import { createPlanVersion, planVersionBody } from './create-plan-version.ts';
import { createAddon, createAddonBody } from './create-addon.ts';
import { changeAddonPrice, changeAddonPriceBody } from './change-addon-price.ts';
import { findAddonByCode, findPlanByCode, listAddons, listPlans } from './repository.ts';
import { addonJson, addonJsonSchema, planJson, planJsonSchema, planVersionJson, planVersionJsonSchema } from './json.ts';
import { AUTHENTICATED, responses } from '../http/responses.ts';

const codeParams = z.object({ code });

export const catalogRoutes: RouteModule = (app, deps) => {
  app.addHook('preValidation', requirePlatformAdmin);

  app.post(
    '/api/v1/plans',
    { schema: { tags: ['catalog'], summary: 'Create a plan, optionally with version 1', body: createPlanBody, response: responses({ 201: planJsonSchema }, [...AUTHENTICATED, 409, 422]) } },
    async (request, reply) => {
      const plan = await createPlan(deps.prisma, request.body, deps.now());
      return reply.code(201).send(planJson(plan));
    },
  );

  app.get('/api/v1/plans', { schema: { tags: ['catalog'], summary: 'Every plan with its versions and allowances', response: responses({ 200: z.strictObject({ data: z.array(planJsonSchema) }) }) } }, async () => {
    const plans = await listPlans(deps.prisma);
    return { data: plans.map(planJson) };
  });

  app.get(
    '/api/v1/plans/:code',
    { schema: { tags: ['catalog'], summary: 'One plan with its versions and allowances', params: codeParams, response: responses({ 200: planJsonSchema }, [...AUTHENTICATED, 404]) } },
    async (request) => {
      const plan = await findPlanByCode(deps.prisma, request.params.code);
      if (!plan) throw new NotFoundError('plan', 'plan_not_found', 'code');
      return planJson(plan);
    },
  );

  app.post(
    '/api/v1/plans/:code/versions',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Create the next immutable version of a plan',
        params: codeParams,
        body: planVersionBody,
        response: responses({ 201: planVersionJsonSchema.extend({ plan_code: z.string() }) }, [...AUTHENTICATED, 404, 409, 422]),
      },
    },
    async (request, reply) => {
      const version = await createPlanVersion(deps.prisma, request.params.code, request.body, deps.now());
      return reply.code(201).send({ plan_code: request.params.code, ...planVersionJson(version) });
    },
  );

  app.post(
    '/api/v1/addons',
    { schema: { tags: ['catalog'], summary: 'Create an add-on', body: createAddonBody, response: responses({ 201: addonJsonSchema }, [...AUTHENTICATED, 409, 422]) } },
    async (request, reply) => {
      const addon = await createAddon(deps.prisma, request.body, deps.now());
      return reply.code(201).send(addonJson(addon));
    },
  );

  app.get('/api/v1/addons', { schema: { tags: ['catalog'], summary: 'Every add-on', response: responses({ 200: z.strictObject({ data: z.array(addonJsonSchema) }) }) } }, async () => {
    const addons = await listAddons(deps.prisma);
    return { data: addons.map(addonJson) };
  });

  app.get(
    '/api/v1/addons/:code',
    { schema: { tags: ['catalog'], summary: 'One add-on', params: codeParams, response: responses({ 200: addonJsonSchema }, [...AUTHENTICATED, 404]) } },
    async (request) => {
      const addon = await findAddonByCode(deps.prisma, request.params.code);
      if (!addon) throw new NotFoundError('addon', 'addon_not_found', 'code');
      return addonJson(addon);
    },
  );

  app.post(
    '/api/v1/addons/:code/price',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Change the catalog price (existing subscribers keep their snapshot)',
        params: codeParams,
        body: changeAddonPriceBody,
        response: responses({ 200: addonJsonSchema }, [...AUTHENTICATED, 404, 422]),
      },
    },
    async (request) => {
      const addon = await changeAddonPrice(deps.prisma, request.params.code, BigInt(request.body.price_minor), deps.now());
      return addonJson(addon);
    },
  );
};
