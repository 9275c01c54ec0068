// The demo's margin part (issue 8): ingest a small April 2026 provider invoice from a stand-in
// provider on 127.0.0.1 through the real ingest code, record the April USD→AUD rate, write the
// pilot's April invoice as a PDF, and return the pilot's margin beside its invoice as text.
// Safe to re-run: the same CSV is `unchanged`, the same rate is `unchanged`, the PDF is rewritten.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ingestInvoice } from '../../src/costs/ingest-invoice.ts';
import { createProviderClient } from '../../src/costs/provider-client.ts';
import { upsertHeader } from '../../src/costs/repository.ts';
import { loadInvoiceDocument } from '../../src/documents/load.ts';
import { renderDocumentPdf } from '../../src/documents/pdf.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';
import { formatMinor } from '../../src/money/money.ts';
import { config as processConfig, type Config } from '../../src/platform/config.ts';
import type { PrismaClient } from '../../src/platform/database.ts';
import { recordFxRate } from '../../src/reports/fx-rates.ts';
import { marginReport } from '../../src/reports/margin.ts';
import { marginTable } from './reports-table.ts';

const INVOICE_UUID = 'demo-provider-2026-04';
const USD_AUD = '1.5432';
// The provider's April bill: the pilot's three droplets, a droplet nobody owns in our records, a credit and GST.
const CSV = `product,group_description,description,hours,start,end,USD,project_name,category
Droplets,,pilot-web-1 (s-2vcpu-4gb),720,2026-04-01 00:00:00 +0000,2026-05-01 00:00:00 +0000,$6.00,Pilot,iaas
Droplets,,pilot-web-2 (s-2vcpu-4gb),720,2026-04-01 00:00:00 +0000,2026-05-01 00:00:00 +0000,$6.00,Pilot,iaas
Droplets,,pilot-web-3 (s-2vcpu-4gb),720,2026-04-01 00:00:00 +0000,2026-05-01 00:00:00 +0000,$6.00,Pilot,iaas
Droplets,,build-runner (s-1vcpu-1gb),720,2026-04-01 00:00:00 +0000,2026-05-01 00:00:00 +0000,$6.00,Platform,iaas
Credits,,Promo credit,,2026-04-01 00:00:00 +0000,2026-05-01 00:00:00 +0000,-$5.00,,credit
Taxes,,GST (10%),,2026-04-01 00:00:00 +0000,2026-05-01 00:00:00 +0000,$1.90,,tax
`;
const AMOUNT = '20.90';

export async function demoMargin(prisma: PrismaClient, options: { config?: Config; outDir?: string } = {}): Promise<string> {
  const config = options.config ?? processConfig();
  const period = parsePeriod('2026-04');
  const now = new Date();
  const out: string[] = [];

  // 1. The provider invoice, served by a stand-in on 127.0.0.1 and ingested by the real code.
  const server = createServer((req, res) => {
    if (req.url === `/v2/customers/my/invoices/${INVOICE_UUID}/csv`) res.writeHead(200, { 'content-type': 'text/csv' }).end(CSV);
    else res.writeHead(404, { 'content-type': 'application/json' }).end('{"id":"not_found","message":"not found"}');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const provider = createProviderClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'demo-token' });
  try {
    await upsertHeader(prisma, { invoiceUuid: INVOICE_UUID, invoiceId: 'DEMO-2026-04', period: period.start, amount: AMOUNT, description: 'Invoice for April 2026', date: new Date('2026-05-01T08:00:00Z') }, now);
    const ingest = await ingestInvoice({ prisma, boss: null, provider, now }, { invoiceUuid: INVOICE_UUID });
    out.push(`provider invoice ${period.key} (USD ${AMOUNT}): ${ingest.status}, ${ingest.lineCount} lines, ${ingest.matchedCount} matched to resources`);
  } finally {
    await provider.close();
    await new Promise((ok) => server.close(ok));
  }

  // 2. The exchange rate the margin report needs.
  const fx = await recordFxRate(prisma, { period, from: 'USD', to: 'AUD', rate: USD_AUD }, 'demo');
  out.push(`FX rate ${period.key}: 1 USD = ${fx.fx_rate.rate} AUD (${fx.status})`);

  // 3. The pilot's April invoice as a PDF.
  const invoice = await prisma.tenantInvoice.findFirst({ where: { tenant: { slug: 'pilot' }, periodStart: period.start, status: { not: 'void' } } });
  if (invoice) {
    const content = await loadInvoiceDocument(prisma, null, invoice.id, config);
    const dir = resolve(options.outDir ?? '.data/documents');
    await mkdir(dir, { recursive: true });
    const file = resolve(dir, `${content.fileName}.pdf`);
    await writeFile(file, await renderDocumentPdf(content));
    out.push(`invoice PDF (${invoice.status}${invoice.number ? ` ${invoice.number}` : ''}): ${file}`);
    out.push(`pilot invoice ${period.key}: subtotal ${formatMinor(invoice.subtotalMinor, invoice.currency)} + GST ${formatMinor(invoice.taxMinor, invoice.currency)} = ${formatMinor(invoice.totalMinor, invoice.currency)} ${invoice.currency}`);
  } else {
    out.push(`no April invoice for the pilot yet: run the month close first`);
  }

  // 4. Margin: the pilot's revenue (net of GST) against its share of the provider bill.
  const report = await marginReport(prisma, period, 'AUD');
  out.push('', marginTable(report, { tenantSlug: 'pilot' }));
  out.push(`platform overhead (costs owned by no tenant, e.g. build-runner and the credit): ${report.overhead.cost.formatted} AUD`);
  return out.join('\n');
}
