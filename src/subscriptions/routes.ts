import type { RouteModule } from '../http/app.ts';
import { idParams, requirePlatformAdmin } from '../http/request-support.ts';
import { subscribe, subscribeBody } from './subscribe.ts';
import { subscriptionJson, subscriptionJsonSchema } from './json.ts';
import { AUTHENTICATED, responses } from '../http/responses.ts';

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
        // 201 when the subscription is created, 200 when an existing one changes.
        response: responses({ 201: subscriptionJsonSchema, 200: subscriptionJsonSchema }, [...AUTHENTICATED, 404, 409, 422]),
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
