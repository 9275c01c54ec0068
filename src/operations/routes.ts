// Operator views: the month close runs and the dead letters.
import { z } from 'zod';
import { authorize, type RouteModule } from '../http/app.ts';
import { AUTHENTICATED, isoDateTime, page, responses } from '../http/responses.ts';
import { pageQueryShape, periodKey } from '../http/request-support.ts';
import { listRuns, RUN_STATUSES, runJson } from '../invoicing/run-history.ts';
import { monthCloseSummarySchema } from '../invoicing/summary-json.ts';
import { parsePeriod } from '../invoicing/period.ts';
import { listDeadLetters } from './dead-letters.ts';

export const runJsonSchema = z.strictObject({
  id: z.uuid(),
  status: z.enum(RUN_STATUSES),
  period: z.string().describe('YYYY-MM'),
  trigger: z.string().describe('schedule, catch_up, cli, api or demo'),
  force: z.boolean(),
  dry_run: z.boolean(),
  reissue: z.boolean().describe('with force: a void-only tenant and period get a new draft'),
  tenant_id: z.uuid().nullable(),
  requested_by: z.string(),
  reason: z.string().nullable(),
  error: z.string().nullable(),
  created_at: isoDateTime,
  started_at: isoDateTime.nullable(),
  finished_at: isoDateTime.nullable(),
});

const deadLetterSchema = z.strictObject({
  id: z.uuid().describe('the dead letter (redrive takes this id)'),
  queue: z.string().nullable().describe('the queue the job failed on'),
  original_job_id: z.string().nullable(),
  data: z.unknown().describe('the original payload'),
  error: z.unknown().describe('the last error the job failed with'),
  retries: z.number().int().nullable(),
  dead_lettered_at: isoDateTime,
  first_created_at: isoDateTime.nullable(),
});

export const operationsRoutes: RouteModule = (app, deps) => {
  app.get(
    '/api/v1/month-close-runs',
    {
      schema: {
        tags: ['operations'],
        summary: 'Month close runs, newest first, with their options, who asked and their summary',
        querystring: z.strictObject({
          period: periodKey.optional(),
          status: z.enum(RUN_STATUSES).optional(),
          ...pageQueryShape,
        }),
        response: responses({ 200: page(runJsonSchema.extend({ summary: monthCloseSummarySchema.nullable() })) }),
      },
    },
    async (request) => {
      authorize(request, 'finance', 'platform_admin');
      const q = request.query;
      const result = await listRuns(deps.prisma, { period: q.period ? parsePeriod(q.period) : undefined, status: q.status, limit: q.limit, cursor: q.cursor });
      return { data: result.items.map((run) => ({ ...runJson(run), summary: run.summary })), next_cursor: result.nextCursor };
    },
  );

  app.get(
    '/api/v1/jobs/dead-letters',
    {
      schema: {
        tags: ['operations'],
        summary: 'Jobs that exhausted their retries, newest first (redrive: npm run jobs:dead-letters -- --redrive <id>)',
        querystring: z.strictObject({ queue: z.string().max(100).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        response: responses({ 200: z.strictObject({ data: z.array(deadLetterSchema), total: z.number().int() }) }),
      },
    },
    async (request) => {
      authorize(request, 'platform_admin', 'finance');
      return listDeadLetters(deps.boss, { queue: request.query.queue, limit: request.query.limit });
    },
  );
};
