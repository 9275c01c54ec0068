// POST /api/v1/integrations/llm-usage: the LLM gateway reports priced requests, one event or a
// batch of up to 1,000. Thin: authorize, tell the two forms apart, call ingestLlmUsage, shape JSON.
import { z } from 'zod';
import { authorize, type RouteModule } from '../http/app.ts';
import { ConflictError, ValidationError } from '../platform/errors.ts';
import { ingestLlmUsage, MAX_EVENTS_PER_REQUEST, type IngestEventResult } from './ingest-llm-usage.ts';
import { coalescedIngest } from './coalesce.ts';
import { llmUsageEventSchema } from './llm-event.ts';
import { AUTHENTICATED, hotPathSerialization, responses } from '../http/responses.ts';

const batchSchema = z.object({
  events: z
    .array(llmUsageEventSchema)
    .min(1)
    .max(MAX_EVENTS_PER_REQUEST)
    .meta({ description: 'Each event is validated on its own: a bad one is reported in its result and does not reject the others.' }),
});

/** For OpenAPI only: see the validatorCompiler note below. */
const bodySchema = z.union([llmUsageEventSchema, batchSchema]);

const singleResultSchema = z.object({
  status: z.enum(['created', 'duplicate']),
  duplicate: z.boolean(),
  id: z.uuid(),
});

const batchResultSchema = z
  .object({
    results: z.array(
      z.object({
        index: z.int(),
        gateway_request_id: z.string().nullable(),
        status: z.enum(['created', 'duplicate', 'conflict', 'invalid']),
        id: z.uuid().optional(),
        error: z
          .object({
            error: z.string(),
            message: z.string(),
            field: z.string(),
            issues: z.array(z.object({ field: z.string(), message: z.string() })),
          })
          .optional(),
      }),
    ),
    created: z.int(),
    duplicates: z.int(),
    conflicts: z.int(),
    invalid: z.int(),
  })
  .meta({ description: 'Batch form: one result per event, in input order.' });

function batchResultJson(r: IngestEventResult) {
  return {
    index: r.index,
    gateway_request_id: r.gatewayRequestId,
    status: r.status,
    ...(r.id ? { id: r.id } : {}),
    ...(r.error ? { error: { error: r.error.code, message: r.error.message, field: r.error.field, issues: r.error.issues } } : {}),
  };
}

export const usageRoutes: RouteModule = (app, deps) => {
  // Single events arriving together share one INSERT (see coalesce.ts); a batch is one already.
  const ingestOne = coalescedIngest(deps.prisma, { now: deps.now });
  app.post(
    '/api/v1/integrations/llm-usage',
    {
      schema: {
        tags: ['usage'],
        summary: 'Report LLM usage priced by the gateway (one event, or { events: [...] } with up to 1,000)',
        description:
          'Idempotent on gateway_request_id: a replay with the same body answers duplicate with the stored id; the same id with another body is a conflict and changes nothing. ' +
          'Single form: 201 created, 200 duplicate, 409 conflict, 422 invalid. Batch form: always 200 with a result per event.',
        body: bodySchema,
        response: responses({ 200: z.union([singleResultSchema, batchResultSchema]), 201: singleResultSchema }, [...AUTHENTICATED, 409, 422]),
      },
      // The gateway posts thousands of requests a second: no two info lines per request (Fastify's
      // "incoming request" / "request completed"); warnings and errors are still logged.
      logLevel: 'warn',
      // The body schema above documents the request; it does not validate it. Validating the
      // batch as a whole would reject 999 good events for one bad one, so the handler checks the
      // envelope and ingestLlmUsage validates each event with the same llmUsageEventSchema.
      validatorCompiler: () => (data: unknown) => ({ value: data }),
      ...hotPathSerialization(deps.config),
    },
    async (request, reply) => {
      authorize(request, 'llm_gateway', 'platform_admin');
      const body: unknown = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new ValidationError({ field: '(body)', message: 'must be one event object or { "events": [...] }' });
      }

      if ('events' in body) {
        const events: unknown = body.events;
        if (!Array.isArray(events) || events.length < 1 || events.length > MAX_EVENTS_PER_REQUEST) {
          throw new ValidationError({ field: 'events', message: `must be an array of 1 to ${MAX_EVENTS_PER_REQUEST} events` });
        }
        const outcome = await ingestLlmUsage(deps.prisma, events, { now: deps.now() });
        return reply.code(200).send({
          results: outcome.results.map(batchResultJson),
          created: outcome.created,
          duplicates: outcome.duplicates,
          conflicts: outcome.conflicts,
          invalid: outcome.invalid,
        });
      }

      const result = await ingestOne(body);
      switch (result.status) {
        case 'created':
          return reply.code(201).send({ status: 'created', duplicate: false, id: result.id! });
        case 'duplicate':
          return reply.code(200).send({ status: 'duplicate', duplicate: true, id: result.id! });
        case 'conflict':
          throw new ConflictError('conflict', result.error!.message, { field: 'gateway_request_id', details: { id: result.id } });
        case 'invalid':
          throw new ValidationError(result.error!.issues, result.error!.code);
      }
    },
  );
};
