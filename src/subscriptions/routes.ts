import type { RouteModule } from '../http/app.ts';
import { idParams, requirePlatformAdmin } from '../http/request-support.ts';
import { subscribe, subscribeBody } from './subscribe.ts';
import { subscriptionJson } from './json.ts';

export const subscriptionsRoutes: RouteModule = (app, deps) => {
  app.addHook('preValidation', requirePlatformAdmin);

  app.post(
    '/api/v1/deployments/:id/subscribe',
    {
      schema: {
        tags: ['subscriptions'],
        summary: 'Subscribe a deployment to a plan, or change its plan version and add-ons from effective_at on',
        params: idParams,
        body: subscribeBody,
      },
    },
    async (request, reply) => {
      const body = request.body;
      const result = await subscribe(
        deps.prisma,
        {
          deploymentId: request.params.id,
          planCode: body.plan_code,
          planVersion: body.plan_version,
          addons: body.addons,
          effectiveAt: body.effective_at,
          trialEndsAt: body.trial_ends_at,
        },
        deps.now(),
      );
      return reply.code(result.created ? 201 : 200).send(subscriptionJson(result.subscription));
    },
  );
};
