// Cost side, read-only, platform_admin only: the provider balance, cost lines, provider invoices.
// Thin: validate the query (zod, 400 naming the field), authorize, call a read model.
import { z } from 'zod';
import { authorize, type RouteModule } from '../http/app.ts';
import { parsePeriod } from '../invoicing/period.ts';
import { COST_KINDS, getLatestBalance, listCostLines, listProviderInvoices } from './billing-api.ts';
import { AUTHENTICATED, page as pageOf, responses } from '../http/responses.ts';
import { balanceJsonSchema, costLineJsonSchema, providerInvoiceJsonSchema } from './schemas.ts';

/** A billing month: `YYYY-MM-01` (its first day) or `YYYY-MM`; becomes the month's first instant (UTC). */
const billingMonth = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])(-01)?$/, 'must be the first day of a billing month as YYYY-MM-01 (or YYYY-MM)')
  .transform((value) => parsePeriod(value.slice(0, 7)).start);

const page = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(500).optional(),
};

export const costsRoutes: RouteModule = (app, deps) => {
  app.get('/api/v1/billing/balance', { schema: { tags: ['billing'], summary: 'The latest provider balance snapshot (USD)', response: responses({ 200: balanceJsonSchema }, [...AUTHENTICATED, 404]) } }, async (request) => {
    authorize(request, 'platform_admin');
    return getLatestBalance(deps.prisma);
  });

  app.get(
    '/api/v1/billing/cost-lines',
    {
      schema: {
        tags: ['billing'],
        summary: 'Provider invoice lines with the resource and deployment they matched',
        response: responses({ 200: pageOf(costLineJsonSchema) }),
        querystring: z.object({
          period: billingMonth.optional(),
          kind: z.enum(COST_KINDS).optional(),
          matched: z.enum(['true', 'false']).optional(),
          invoice_uuid: z.string().min(1).max(200).optional(),
          ...page,
        }),
      },
    },
    async (request) => {
      authorize(request, 'platform_admin');
      const q = request.query;
      return listCostLines(deps.prisma, {
        period: q.period,
        kind: q.kind,
        matched: q.matched === undefined ? undefined : q.matched === 'true',
        invoiceUuid: q.invoice_uuid,
        limit: q.limit,
        cursor: q.cursor,
      });
    },
  );

  app.get(
    '/api/v1/billing/provider-invoices',
    {
      schema: {
        tags: ['billing'],
        summary: 'Provider invoice headers with their ingest and vendor-bill push status',
        response: responses({ 200: pageOf(providerInvoiceJsonSchema) }),
        querystring: z.object({
          period: billingMonth.optional(),
          ingest_status: z.enum(['pending', 'ingested', 'failed']).optional(),
          push_status: z.enum(['pending', 'pushed', 'skipped', 'failed']).optional(),
          ...page,
        }),
      },
    },
    async (request) => {
      authorize(request, 'platform_admin');
      const q = request.query;
      return listProviderInvoices(deps.prisma, { period: q.period, ingestStatus: q.ingest_status, pushStatus: q.push_status, limit: q.limit, cursor: q.cursor });
    },
  );
};
