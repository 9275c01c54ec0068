import { z } from 'zod';
import { QUEUES } from '../../jobs/catalog.ts';
import { authorize, type RouteModule } from '../http/app.ts';
import { NotFoundError, ValidationError } from '../platform/errors.ts';
import { getInvoice, listInvoices } from './invoices.ts';
import { enqueueRun, getRun } from './month-close-runs.ts';
import { hasEnded, parsePeriod, periodOf } from './period.ts';
import { quoteDeployment } from './quote-deployment.ts';
import { periodKey } from '../http/request-support.ts';
import { AUTHENTICATED, page, responses } from '../http/responses.ts';
import { runJson } from './run-history.ts';
import { invoiceDetailJsonSchema, invoiceJsonSchema, jobJsonSchema, quoteJsonSchema, rollupAcceptedSchema } from './schemas.ts';

export const invoicingRoutes: RouteModule = (app, deps) => {
  app.get(
    '/api/v1/invoices',
    {
      schema: {
        tags: ['invoices'],
        summary: 'List invoices, newest first (tenant roles see their own tenant only)',
        response: responses({ 200: page(invoiceJsonSchema) }, [...AUTHENTICATED, 422]),
        querystring: z.object({
          period: periodKey.optional(),
          status: z.enum(['draft', 'issued', 'paid', 'void']).optional(),
          tenant_id: z.uuid().optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(500).optional(),
        }),
      },
    },
    async (request) => {
      const principal = authorize(request);
      const q = request.query;
      return listInvoices(deps.prisma, principal, {
        period: q.period ? parsePeriod(q.period) : undefined,
        status: q.status,
        tenantId: q.tenant_id,
        limit: q.limit,
        cursor: q.cursor,
      });
    },
  );

  app.get(
    '/api/v1/invoices/:id',
    {
      schema: {
        tags: ['invoices'],
        summary: 'One invoice with its lines, stored inputs and revision audit',
        params: z.object({ id: z.string() }),
        response: responses({ 200: invoiceDetailJsonSchema }, [...AUTHENTICATED, 404]),
      },
    },
    async (request) => {
    const principal = authorize(request);
    // A malformed id is simply not found: it says nothing about which ids exist.
    if (!z.uuid().safeParse(request.params.id).success) throw new NotFoundError('invoice');
    return getInvoice(deps.prisma, principal, request.params.id);
    },
  );

  app.post(
    '/api/v1/invoices/rollup',
    {
      schema: {
        tags: ['invoices'],
        summary: 'Queue a month close for a period (202 with the job to poll)',
        response: responses({ 202: rollupAcceptedSchema }, [...AUTHENTICATED, 422]),
        body: z.object({
          period: periodKey,
          force: z.boolean().default(false),
          dry_run: z.boolean().default(false),
          tenant_id: z.uuid().optional(),
          reason: z.string().trim().min(1).max(1000).optional(),
        }),
      },
    },
    async (request, reply) => {
      const principal = authorize(request, 'finance', 'platform_admin');
      const body = request.body;
      const period = parsePeriod(body.period);
      if (!hasEnded(period, deps.now())) throw new ValidationError({ field: 'period', message: `${period.key} has not ended yet` });
      if (body.tenant_id && !(await deps.prisma.tenant.findUnique({ where: { id: body.tenant_id }, select: { id: true } }))) {
        throw new ValidationError({ field: 'tenant_id', message: 'no such tenant' });
      }
      const runId = await enqueueRun(deps.prisma, deps.boss, {
        period,
        trigger: 'api',
        force: body.force,
        dryRun: body.dry_run,
        tenantId: body.tenant_id ?? null,
        reason: body.reason ?? null,
        requestedBy: principal.sub,
      });
      return reply.code(202).send({ job_id: runId, status_url: `/api/v1/jobs/${runId}`, period: period.key, force: body.force, dry_run: body.dry_run });
    },
  );

  app.get(
    '/api/v1/jobs/:id',
    {
      schema: {
        tags: ['invoices'],
        summary: "A month close job: its queue state, the run's status and its summary",
        params: z.object({ id: z.string() }),
        response: responses({ 200: jobJsonSchema }, [...AUTHENTICATED, 404]),
      },
    },
    async (request) => {
    authorize(request, 'finance', 'platform_admin');
    if (!z.uuid().safeParse(request.params.id).success) throw new NotFoundError('job');
    const run = await getRun(deps.prisma, request.params.id);
    if (!run) throw new NotFoundError('job');
    const [job] = await deps.boss.findJobs(QUEUES.monthClose, { id: run.id });
    return {
      job_id: run.id,
      queue: QUEUES.monthClose,
      job_state: job?.state ?? null,
      retry_count: job?.retryCount ?? null,
      run: (({ id: _id, ...rest }) => rest)(runJson(run)),
      summary: run.summary,
    };
    },
  );

  app.get(
    '/api/v1/deployments/:id/quote',
    {
      schema: {
        tags: ['invoices'],
        summary: 'Quote a deployment for a period with the month close engine (usage counted up to now)',
        params: z.object({ id: z.string() }),
        querystring: z.object({ period: periodKey.optional() }),
        response: responses({ 200: quoteJsonSchema }, [...AUTHENTICATED, 404]),
      },
    },
    async (request) => {
      const principal = authorize(request, 'platform_admin', 'finance', 'tenant_admin', 'tenant_member');
      if (!z.uuid().safeParse(request.params.id).success) throw new NotFoundError('deployment');
      const now = deps.now();
      const period = request.query.period ? parsePeriod(request.query.period) : periodOf(now);
      return quoteDeployment(deps.prisma, principal, { deploymentId: request.params.id, period, now });
    },
  );
};
