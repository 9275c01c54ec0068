import { z } from 'zod';
import { QUEUES } from '../../jobs/catalog.ts';
import { authorize, type RouteModule } from '../http/app.ts';
import { instant, pageQueryShape, periodKey } from '../http/request-support.ts';
import { NotFoundError, ValidationError } from '../platform/errors.ts';
import { receivablesSettings } from '../receivables/settings.ts';
import { getAdjustmentNote, listAdjustmentNotes } from './adjustment-notes.ts';
import { getInvoice, listInvoices } from './invoices.ts';
import { issueInvoice } from './issue-invoice.ts';
import { markInvoicePaid } from './mark-invoice-paid.ts';
import { voidInvoice } from './void-invoice.ts';
import { enqueueRun, getRun } from './month-close-runs.ts';
import { hasEnded, parsePeriod, periodOf } from './period.ts';
import { quoteDeployment } from './quote-deployment.ts';
import { AUTHENTICATED, hotPathSerialization, page, responses } from '../http/responses.ts';
import { runJson } from './run-history.ts';
import {
  adjustmentNoteDetailJsonSchema,
  adjustmentNoteJsonSchema,
  invoiceActionSchema,
  invoiceDetailJsonSchema,
  invoiceJsonSchema,
  jobJsonSchema,
  quoteJsonSchema,
  rollupAcceptedSchema,
} from './schemas.ts';

/** A malformed id is simply not found: it says nothing about which ids exist. */
function invoiceId(raw: string): string {
  if (!z.uuid().safeParse(raw).success) throw new NotFoundError('invoice');
  return raw;
}

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
          ...pageQueryShape,
        }),
      },
      ...hotPathSerialization(deps.config),
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
        summary: 'One invoice with lines, status changes, adjustment notes, net total and deliveries',
        params: z.object({ id: z.string() }),
        response: responses({ 200: invoiceDetailJsonSchema }, [...AUTHENTICATED, 404]),
      },
    },
    async (request) => {
    const principal = authorize(request);
    return getInvoice(deps.prisma, principal, invoiceId(request.params.id));
    },
  );

  const receivables = () => receivablesSettings(deps.config, deps.boss);

  app.post(
    '/api/v1/invoices/:id/issue',
    {
      schema: {
        tags: ['invoices'],
        summary: 'Issue a draft now: number, due date, receivable queued for finance',
        params: z.object({ id: z.string() }),
        response: responses({ 200: invoiceActionSchema }, [...AUTHENTICATED, 404, 422]),
      },
    },
    async (request) => {
      const principal = authorize(request, 'finance', 'platform_admin');
      const id = invoiceId(request.params.id);
      const result = await issueInvoice({ prisma: deps.prisma, now: deps.now(), receivables: receivables(), logger: request.log as never }, { invoiceId: id, actor: principal.sub });
      return { outcome: result.outcome, invoice: await getInvoice(deps.prisma, principal, id) };
    },
  );

  app.post(
    '/api/v1/invoices/:id/mark-paid',
    {
      schema: {
        tags: ['invoices'],
        summary: 'Record the payment of an issued invoice',
        params: z.object({ id: z.string() }),
        body: z.strictObject({ paid_at: instant, reference: z.string().trim().min(1).max(200) }),
        response: responses({ 200: invoiceActionSchema }, [...AUTHENTICATED, 404, 422]),
      },
    },
    async (request) => {
      const principal = authorize(request, 'finance', 'platform_admin');
      const id = invoiceId(request.params.id);
      const result = await markInvoicePaid({ prisma: deps.prisma, now: deps.now() }, { invoiceId: id, paidAt: request.body.paid_at, reference: request.body.reference, actor: principal.sub });
      return { outcome: result.outcome, invoice: await getInvoice(deps.prisma, principal, id) };
    },
  );

  app.post(
    '/api/v1/invoices/:id/void',
    {
      schema: {
        tags: ['invoices'],
        summary: 'Void a draft or issued invoice (a paid one is corrected by an adjustment note)',
        params: z.object({ id: z.string() }),
        body: z.strictObject({ reason: z.string().trim().min(1).max(1000) }),
        response: responses({ 200: invoiceActionSchema }, [...AUTHENTICATED, 404, 422]),
      },
    },
    async (request) => {
      const principal = authorize(request, 'finance', 'platform_admin');
      const id = invoiceId(request.params.id);
      const result = await voidInvoice({ prisma: deps.prisma, now: deps.now(), receivables: receivables() }, { invoiceId: id, reason: request.body.reason, actor: principal.sub });
      return { outcome: result.outcome, invoice: await getInvoice(deps.prisma, principal, id) };
    },
  );

  app.get(
    '/api/v1/adjustment-notes',
    {
      schema: {
        tags: ['invoices'],
        summary: 'Adjustment notes, newest first (tenant roles see their own tenant only)',
        querystring: z.object({ period: periodKey.optional(), tenant_id: z.uuid().optional(), invoice_id: z.uuid().optional(), ...pageQueryShape }),
        response: responses({ 200: page(adjustmentNoteJsonSchema) }),
      },
    },
    async (request) => {
      const principal = authorize(request);
      const q = request.query;
      return listAdjustmentNotes(deps.prisma, principal, {
        period: q.period ? parsePeriod(q.period) : undefined,
        tenantId: q.tenant_id,
        invoiceId: q.invoice_id,
        limit: q.limit,
        cursor: q.cursor,
      });
    },
  );

  app.get(
    '/api/v1/adjustment-notes/:id',
    {
      schema: {
        tags: ['invoices'],
        summary: 'One adjustment note with its lines (old, new, delta) and delivery',
        params: z.object({ id: z.string() }),
        response: responses({ 200: adjustmentNoteDetailJsonSchema }, [...AUTHENTICATED, 404]),
      },
    },
    async (request) => {
      const principal = authorize(request);
      if (!z.uuid().safeParse(request.params.id).success) throw new NotFoundError('adjustment_note');
      return getAdjustmentNote(deps.prisma, principal, request.params.id);
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
          reissue: z.boolean().default(false),
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
      if (body.reissue && !body.force) throw new ValidationError({ field: 'reissue', message: 'reissue goes with force' });
      // Checked here too, so the caller hears it now rather than from a failed job.
      if (body.force && !body.dry_run && !body.reason) {
        const issued = await deps.prisma.tenantInvoice.count({ where: { periodStart: period.start, status: { in: ['issued', 'paid'] }, ...(body.tenant_id ? { tenantId: body.tenant_id } : {}) } });
        if (issued > 0) throw new ValidationError({ field: 'reason', message: `${issued} invoice(s) of ${period.key} are issued: a forced re-run may issue adjustment notes, and a note needs a reason` });
      }
      const runId = await enqueueRun(deps.prisma, deps.boss, {
        period,
        trigger: 'api',
        force: body.force,
        dryRun: body.dry_run,
        tenantId: body.tenant_id ?? null,
        reason: body.reason ?? null,
        reissue: body.reissue,
        requestedBy: principal.sub,
      });
      return reply.code(202).send({ job_id: runId, status_url: `/api/v1/jobs/${runId}`, period: period.key, force: body.force, dry_run: body.dry_run, reissue: body.reissue });
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
