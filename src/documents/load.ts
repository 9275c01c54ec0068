// Loads what a document shows, with the same tenant scoping as the invoice JSON: a caller who
// does not see every tenant gets "not found" for another tenant's invoice or note.
import { z } from 'zod';
import type { Principal } from '../auth/tokens.ts';
import { seesAllTenants } from '../auth/tokens.ts';
import type { Config } from '../platform/config.ts';
import type { Db } from '../platform/database.ts';
import { ForbiddenError, NotFoundError } from '../platform/errors.ts';
import { billedTo as currentBilledTo, supplierFromConfig } from '../receivables/parties.ts';
import {
  buildAdjustmentNoteDocument,
  buildInvoiceDocument,
  type BilledToParty,
  type DeploymentRef,
  type DocumentContent,
  type SupplierParty,
} from './content.ts';

/** Who may read: null for staff (every tenant), else the caller's own tenant. */
function readerTenant(principal: Principal | null): string | null {
  if (principal === null || seesAllTenants(principal)) return null;
  if (!principal.tenantId) throw new ForbiddenError('this token is not bound to a tenant');
  return principal.tenantId;
}

const supplierJson = z.object({ legal_name: z.string(), abn: z.string().nullish(), address: z.string().nullish(), email: z.string().nullish() });
const billedToJson = z.object({ legal_name: z.string().nullish(), name: z.string(), abn: z.string().nullish(), email: z.string().nullish(), address: z.string().nullish() });

function storedSupplier(value: unknown): SupplierParty | null {
  const parsed = supplierJson.safeParse(value);
  return parsed.success ? { legal_name: parsed.data.legal_name, abn: parsed.data.abn ?? null, address: parsed.data.address ?? null, email: parsed.data.email ?? null } : null;
}

function storedBilledTo(value: unknown): BilledToParty | null {
  const parsed = billedToJson.safeParse(value);
  return parsed.success
    ? { legal_name: parsed.data.legal_name ?? null, name: parsed.data.name, abn: parsed.data.abn ?? null, email: parsed.data.email ?? null, address: parsed.data.address ?? null }
    : null;
}

const TENANT_DETAILS = { name: true, legalName: true, abn: true, billingEmail: true, billingAddress: true } as const;

async function deploymentsOf(db: Db, ids: (string | null)[]): Promise<DeploymentRef[]> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  if (wanted.length === 0) return [];
  return db.deployment.findMany({ where: { id: { in: wanted } }, select: { id: true, slug: true, displayName: true } });
}

/** The invoice's document. A draft has no frozen parties yet: it shows the tenant's current details and the configured supplier. */
export async function loadInvoiceDocument(db: Db, principal: Principal | null, id: string, config: Config): Promise<DocumentContent> {
  const tenantId = readerTenant(principal);
  const invoice = await db.tenantInvoice.findFirst({
    where: { id, ...(tenantId ? { tenantId } : {}) },
    include: { lines: { orderBy: { lineNo: 'asc' } }, tenant: { select: TENANT_DETAILS } },
  });
  if (!invoice) throw new NotFoundError('invoice');
  return buildInvoiceDocument({
    invoice: {
      status: invoice.status,
      number: invoice.number,
      currency: invoice.currency,
      periodStart: invoice.periodStart,
      periodEnd: invoice.periodEnd,
      issuedAt: invoice.issuedAt,
      dueAt: invoice.dueAt,
      paidAt: invoice.paidAt,
      voidedAt: invoice.voidedAt,
      voidReason: invoice.voidReason,
      taxRate: invoice.taxRate.toString(),
      subtotalMinor: invoice.subtotalMinor,
      taxMinor: invoice.taxMinor,
      totalMinor: invoice.totalMinor,
      lines: invoice.lines.map((l) => ({
        lineNo: l.lineNo,
        kind: l.kind,
        deploymentId: l.deploymentId,
        description: l.description,
        quantity: l.quantity.toString(),
        unitPrice: l.unitPrice.toString(),
        amountMinor: l.amountMinor,
      })),
    },
    supplier: storedSupplier(invoice.supplier) ?? supplierFromConfig(config),
    paymentTermsDays: config.INVOICE_PAYMENT_TERMS_DAYS,
    billedTo: storedBilledTo(invoice.billedTo) ?? currentBilledTo(invoice.tenant),
    deployments: await deploymentsOf(db, invoice.lines.map((l) => l.deploymentId)),
  });
}

export async function loadAdjustmentNoteDocument(db: Db, principal: Principal | null, id: string, config: Config): Promise<DocumentContent> {
  const tenantId = readerTenant(principal);
  const note = await db.adjustmentNote.findFirst({
    where: { id, ...(tenantId ? { tenantId } : {}) },
    include: { lines: { orderBy: { lineNo: 'asc' } }, invoice: { select: { number: true, issuedAt: true, totalMinor: true, tenant: { select: TENANT_DETAILS } } } },
  });
  if (!note) throw new NotFoundError('adjustment_note');
  return buildAdjustmentNoteDocument({
    note: {
      number: note.number,
      currency: note.currency,
      reason: note.reason,
      taxRate: note.taxRate.toString(),
      issuedAt: note.issuedAt,
      periodStart: note.periodStart,
      subtotalDeltaMinor: note.subtotalDeltaMinor,
      taxDeltaMinor: note.taxDeltaMinor,
      totalDeltaMinor: note.totalDeltaMinor,
      lines: note.lines.map((l) => ({
        lineNo: l.lineNo,
        kind: l.kind,
        deploymentId: l.deploymentId,
        description: l.description,
        quantity: l.quantity.toString(),
        unitPrice: l.unitPrice.toString(),
        oldAmountMinor: l.oldAmountMinor,
        newAmountMinor: l.newAmountMinor,
        deltaMinor: l.deltaMinor,
      })),
    },
    invoice: note.invoice,
    supplier: storedSupplier(note.supplier) ?? supplierFromConfig(config),
    billedTo: storedBilledTo(note.billedTo) ?? currentBilledTo(note.invoice.tenant),
    deployments: await deploymentsOf(db, note.lines.map((l) => l.deploymentId)),
  });
}

/** Whether `id` names an adjustment note (the CLI takes either kind of id). */
export async function isAdjustmentNote(db: Db, id: string): Promise<boolean> {
  return (await db.adjustmentNote.count({ where: { id } })) > 0;
}
