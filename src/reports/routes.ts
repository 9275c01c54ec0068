// Finance reads: FX rates, margin per tenant, cost reconciliation, and the CSV exports of
// invoices and adjustment notes (streamed). finance and platform_admin only.
import { z } from 'zod';
import { authorize, type RouteModule } from '../http/app.ts';
import { AUTHENTICATED, responses } from '../http/responses.ts';
import { currencyCode, nonNegativeDecimal } from '../http/request-support.ts';
import { parsePeriod } from '../invoicing/period.ts';
import { listFxRates, recordFxRate } from './fx-rates.ts';
import { marginReport } from './margin.ts';
import { reconciliationReport } from './reconciliation.ts';
import { marginCsv, marginHtml, reconciliationCsv } from './render.ts';
import { adjustmentNoteExportRecords, csvStream, INVOICE_COLUMNS, INVOICE_LINE_COLUMNS, invoiceExportRecords, NOTE_COLUMNS, NOTE_LINE_COLUMNS } from './export.ts';

const periodKey = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month as YYYY-MM');
const STAFF = ['finance', 'platform_admin'] as const;

const fxRateBody = z.strictObject({
  period: periodKey,
  from: currencyCode,
  to: currencyCode,
  rate: nonNegativeDecimal({ fractionDigits: 12, integerDigits: 12 }).refine((v) => /[1-9]/.test(v), { error: 'must be greater than 0' }),
});

const fxRateJson = z.strictObject({
  period: z.string(),
  from: z.string(),
  to: z.string(),
  rate: z.string().describe('exact decimal: 1 from = rate to'),
  recorded_by: z.string(),
  created_at: z.string(),
});
const fxRecorded = z.strictObject({ status: z.enum(['created', 'unchanged']), fx_rate: fxRateJson });
const csvResponse = {
  produces: ['text/csv'],
  response: responses({ 200: z.string().describe('CSV (text/csv), streamed') }, [...AUTHENTICATED]),
};
/** JSON by default (exact decimal strings); format=csv or html answers that media type, as a string body. */
const reportJson = (what: string) => z.union([z.looseObject({ period: z.string() }).describe(`${what} as JSON`), z.string().describe(`${what} as CSV or HTML`)]);

const exportQuery = z.object({
  period: periodKey,
  format: z.enum(['csv']).default('csv'),
  lines: z.enum(['true', 'false']).default('true'),
});

export const reportsRoutes: RouteModule = (app, deps) => {
  app.post('/api/v1/fx-rates', { schema: { tags: ['reports'], summary: 'Record the exchange rate of a period (1 from = rate to)', body: fxRateBody, response: responses({ 201: fxRecorded, 200: fxRecorded.describe('the same rate again: unchanged') }, [...AUTHENTICATED, 409]) } }, async (request, reply) => {
    const principal = authorize(request, ...STAFF);
    const b = request.body;
    if (b.from === b.to) return reply.code(400).send({ error: 'validation_failed', message: 'to: must differ from from', field: 'to' });
    const result = await recordFxRate(deps.prisma, { period: parsePeriod(b.period), from: b.from, to: b.to, rate: b.rate }, principal.sub);
    return reply.code(result.status === 'created' ? 201 : 200).send(result);
  });

  app.get('/api/v1/fx-rates', { schema: { tags: ['reports'], summary: 'Recorded exchange rates, by period', querystring: z.object({ period: periodKey.optional() }), response: responses({ 200: z.strictObject({ data: z.array(fxRateJson) }) }) } }, async (request) => {
    authorize(request, ...STAFF);
    return { data: await listFxRates(deps.prisma, { period: request.query.period ? parsePeriod(request.query.period) : undefined }) };
  });

  app.get(
    '/api/v1/reports/margin',
    {
      schema: {
        tags: ['reports'],
        summary: 'Margin per tenant and deployment: revenue net of GST, provider cost, overhead',
        querystring: z.object({ period: periodKey, format: z.enum(['json', 'csv', 'html']).default('json'), currency: currencyCode.default('AUD') }),
        produces: ['application/json', 'text/csv', 'text/html'],
        response: responses({ 200: reportJson('the margin report') }, [...AUTHENTICATED, 422]),
      },
    },
    async (request, reply) => {
      authorize(request, ...STAFF);
      const q = request.query;
      const report = await marginReport(deps.prisma, parsePeriod(q.period), q.currency);
      if (q.format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="margin-${report.period}.csv"`).send(marginCsv(report));
      if (q.format === 'html') return reply.type('text/html; charset=utf-8').send(marginHtml(report));
      return report as typeof report & Record<string, unknown>;
    },
  );

  app.get(
    '/api/v1/reports/cost-reconciliation',
    { schema: { tags: ['reports'], summary: 'Each provider invoice of the period split into matched, unowned, unmatched, tax and credits', querystring: z.object({ period: periodKey, format: z.enum(['json', 'csv']).default('json') }), produces: ['application/json', 'text/csv'], response: responses({ 200: reportJson('the reconciliation') }) } },
    async (request, reply) => {
      authorize(request, ...STAFF);
      const report = await reconciliationReport(deps.prisma, parsePeriod(request.query.period));
      if (request.query.format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="cost-reconciliation-${report.period}.csv"`).send(reconciliationCsv(report));
      return report as typeof report & Record<string, unknown>;
    },
  );

  app.get('/api/v1/invoices/export', { schema: { tags: ['reports'], summary: 'The invoices of a period as CSV, one row per line (lines=false: per invoice), streamed', querystring: exportQuery, ...csvResponse } }, async (request, reply) => {
    authorize(request, ...STAFF);
    const period = parsePeriod(request.query.period);
    const lines = request.query.lines === 'true';
    const stream = csvStream(invoiceExportRecords(deps.prisma, period, { lines }), lines ? INVOICE_LINE_COLUMNS : INVOICE_COLUMNS);
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="invoices-${period.key}${lines ? '' : '-totals'}.csv"`).send(stream as unknown as string); // a stream is sent as it is; the schema documents the CSV body
  });

  app.get('/api/v1/adjustment-notes/export', { schema: { tags: ['reports'], summary: 'The adjustment notes of a period as CSV, one row per changed line (lines=false: per note), streamed', querystring: exportQuery, ...csvResponse } }, async (request, reply) => {
    authorize(request, ...STAFF);
    const period = parsePeriod(request.query.period);
    const lines = request.query.lines === 'true';
    const stream = csvStream(adjustmentNoteExportRecords(deps.prisma, period, { lines }), lines ? NOTE_LINE_COLUMNS : NOTE_COLUMNS);
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="adjustment-notes-${period.key}${lines ? '' : '-totals'}.csv"`).send(stream as unknown as string); // a stream is sent as it is; the schema documents the CSV body
  });
};
