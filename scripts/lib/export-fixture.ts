// A generated period of N issued invoices (one tenant each, three lines: plan base, overage, GST),
// written set-based; shared by the export test and `npm run bench:export`. Rows are tagged with
// `prefix` (tenant slugs, invoice numbers) so the benchmark can delete exactly what it made.
import type { PrismaClient } from '../../src/platform/database.ts';
import type { Period } from '../../src/invoicing/period.ts';

export async function generateInvoicePeriod(prisma: PrismaClient, o: { prefix: string; period: Period; count: number }): Promise<void> {
  await prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`
        INSERT INTO tenants (name, slug, billing_currency, legal_name)
        SELECT 'Tenant ' || ${o.prefix} || ' ' || g, ${o.prefix} || '-' || g, 'AUD', 'Tenant "' || g || '", Pty Ltd'
          FROM generate_series(1, ${o.count}) g`;
      // subtotal = 5000 + (g % 1000) cents; GST = 10 % rounded half up (all positive).
      await tx.$executeRaw`
        INSERT INTO tenant_invoices (tenant_id, period_start, period_end, status, currency, subtotal_minor, tax_minor, total_minor,
                                     inputs, inputs_hash, computed_at, number, tax_rate, issued_at, due_at)
        SELECT t.id, ${o.period.start}::timestamptz, ${o.period.end}::timestamptz, 'issued', 'AUD',
               5000 + g % 1000, round((5000 + g % 1000) / 10.0), 5000 + g % 1000 + round((5000 + g % 1000) / 10.0),
               '{}'::jsonb, 'bench', ${o.period.end}::timestamptz, ${o.prefix} || '-' || lpad(g::text, 6, '0'), 0.1,
               ${o.period.end}::timestamptz, ${o.period.end}::timestamptz + interval '14 days'
          FROM generate_series(1, ${o.count}) g JOIN tenants t ON t.slug = ${o.prefix} || '-' || g`;
      await tx.$executeRaw`
        INSERT INTO tenant_invoice_lines (invoice_id, line_no, kind, description, quantity, unit_price, amount_minor)
        SELECT i.id, x.line_no, x.kind::invoice_line_kind, x.description, x.quantity, x.unit_price, x.amount
          FROM tenant_invoices i
          CROSS JOIN LATERAL (VALUES
            (1, 'plan_base', 'Studio plan, base', 1::numeric, 50::numeric, 5000::bigint),
            (2, 'overage', 'Droplet hours over the allowance', (i.subtotal_minor - 5000)::numeric, 0.01::numeric, i.subtotal_minor - 5000),
            (3, 'tax', 'GST 10%', 1::numeric, 0::numeric, i.tax_minor)) AS x(line_no, kind, description, quantity, unit_price, amount)
         WHERE i.number LIKE ${o.prefix} || '-%'`;
    },
    { timeout: 10 * 60_000 },
  );
}

export async function deleteInvoicePeriod(prisma: PrismaClient, prefix: string): Promise<void> {
  await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`DELETE FROM tenant_invoice_lines WHERE invoice_id IN (SELECT id FROM tenant_invoices WHERE number LIKE ${prefix} || '-%')`;
    await tx.$executeRaw`DELETE FROM tenant_invoices WHERE number LIKE ${prefix} || '-%'`;
    await tx.$executeRaw`DELETE FROM tenants WHERE slug LIKE ${prefix} || '-%'`;
  }, { timeout: 10 * 60_000 });
}
