// PURE: what a tax invoice or an adjustment note says, built from plain stored data. The PDF and
// HTML renderers only lay this out, so both show exactly the same words and numbers. No I/O, no
// clock: everything (including the parties as billed) comes in as arguments.
import { differenceInCalendarDays } from 'date-fns/differenceInCalendarDays';
import { format } from 'date-fns/format';
import { utc } from '@date-fns/utc';
import { exponentOf, formatMinor } from '../money/money.ts';
import { formatDecimal, parseDecimalOrScientific, trimDecimal } from '../money/decimal.ts';
import { formatAbn } from '../tenants/abn.ts';
import { periodOf } from '../invoicing/period.ts';

// ---------------------------------------------------------------------------------------------
// Input: the stored rows, as plain data.

export interface SupplierParty {
  legal_name: string;
  abn: string | null;
  address: string | null;
  email: string | null;
}

export interface BilledToParty {
  legal_name: string | null;
  name: string;
  abn: string | null;
  email: string | null;
  address: string | null;
}

export interface InvoiceLineData {
  lineNo: number;
  kind: string;
  deploymentId: string | null;
  description: string;
  /** Exact decimal strings as stored. */
  quantity: string;
  unitPrice: string;
  amountMinor: bigint;
}

export interface InvoiceData {
  status: 'draft' | 'issued' | 'paid' | 'void';
  number: string | null;
  currency: string;
  periodStart: Date;
  periodEnd: Date;
  issuedAt: Date | null;
  dueAt: Date | null;
  paidAt: Date | null;
  voidedAt: Date | null;
  voidReason: string | null;
  /** GST rate as an exact fraction ("0.1"). */
  taxRate: string;
  subtotalMinor: bigint;
  taxMinor: bigint;
  totalMinor: bigint;
  lines: InvoiceLineData[];
}

export interface DeploymentRef {
  id: string;
  slug: string;
  displayName: string;
}

export interface InvoiceDocumentInput {
  invoice: InvoiceData;
  supplier: SupplierParty;
  billedTo: BilledToParty;
  deployments: DeploymentRef[];
  /** INVOICE_PAYMENT_TERMS_DAYS: what a draft will say once issued. */
  paymentTermsDays?: number;
}

export interface AdjustmentNoteLineData {
  lineNo: number;
  kind: string;
  deploymentId: string | null;
  description: string;
  quantity: string;
  unitPrice: string;
  oldAmountMinor: bigint;
  newAmountMinor: bigint;
  deltaMinor: bigint;
}

export interface AdjustmentNoteDocumentInput {
  note: {
    number: string;
    currency: string;
    reason: string;
    taxRate: string;
    issuedAt: Date;
    periodStart: Date;
    subtotalDeltaMinor: bigint;
    taxDeltaMinor: bigint;
    totalDeltaMinor: bigint;
    lines: AdjustmentNoteLineData[];
  };
  invoice: { number: string | null; issuedAt: Date | null; totalMinor: bigint };
  supplier: SupplierParty;
  billedTo: BilledToParty;
  deployments: DeploymentRef[];
}

// ---------------------------------------------------------------------------------------------
// Output: what the renderers lay out.

export type Align = 'left' | 'right';

export interface DocumentTable {
  /** "Deployment Pilot (pilot)"; null for an untitled table. */
  heading: string | null;
  columns: { label: string; align: Align; width: number }[];
  rows: string[][];
}

export interface DocumentContent {
  /** "Tax invoice" or "Adjustment note". */
  title: string;
  /** "DRAFT" or "VOID", printed across the document; null for a document in force. */
  mark: 'DRAFT' | 'VOID' | null;
  /** The file name without extension, e.g. "INV-2026-000001" or "draft-2026-04". */
  fileName: string;
  supplier: { heading: string; lines: string[] };
  customer: { heading: string; lines: string[] };
  /** Label/value pairs under the title: number, dates, period, terms. */
  facts: { label: string; value: string }[];
  tables: DocumentTable[];
  totals: { label: string; value: string; strong?: boolean }[];
  notes: string[];
}

// ---------------------------------------------------------------------------------------------
// Formatting (one place, used by both documents).

/** 1234.5 → "1,234.50": the stored minor units in the currency's own digits (JPY none, KWD three), grouped. */
export function formatDocumentMoney(minor: bigint, currency: string): string {
  return groupThousands(formatMinor(minor, currency));
}

/** A signed adjustment: "+12.30", "-4.00", "0.00". */
export function formatSignedMoney(minor: bigint, currency: string): string {
  return `${minor > 0n ? '+' : ''}${formatDocumentMoney(minor, currency)}`;
}

function groupThousands(decimal: string): string {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(decimal);
  if (!m) return decimal;
  return `${m[1]}${m[2]!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${m[3] ?? ''}`;
}

/** A unit price, exact: at least the currency's minor digits ("50.00"), more when stored ("0.00125"). */
export function formatUnitPrice(value: string, currency: string): string {
  const d = trimDecimal(parseDecimalOrScientific(value));
  const digits = Math.max(d.scale, exponentOf(currency));
  const widened = { amount: d.amount * 10n ** BigInt(digits - d.scale), scale: digits };
  return groupThousands(formatDecimal(widened));
}

/** A quantity, exact and without trailing zeros ("672", "0.5"). */
export function formatQuantity(value: string): string {
  return groupThousands(formatDecimal(trimDecimal(parseDecimalOrScientific(value))));
}

/** "1 May 2026" (UTC). */
export function formatDocumentDate(instant: Date): string {
  return format(instant, 'd MMMM yyyy', { in: utc });
}

/** 0.1 → "10%", 0.0825 → "8.25%". */
export function formatRate(rate: string): string {
  const d = parseDecimalOrScientific(rate);
  return `${formatDecimal(trimDecimal({ amount: d.amount * 100n, scale: d.scale }))}%`;
}

function periodLabel(start: Date, end: Date): string {
  const last = new Date(end.getTime() - 1);
  return `${format(start, 'MMMM yyyy', { in: utc })} (${format(start, 'd MMMM', { in: utc })} – ${formatDocumentDate(last)})`;
}


function supplierBlock(s: SupplierParty): { heading: string; lines: string[] } {
  return {
    heading: 'From',
    lines: [s.legal_name, ...(s.abn ? [`ABN ${formatAbn(s.abn)}`] : []), ...(s.address ? [s.address] : []), ...(s.email ? [s.email] : [])],
  };
}

/** The tenant's legal name; ABN whenever known (ATO: required when the total is $1,000 or more). */
function customerBlock(b: BilledToParty, totalMinor: bigint, currency: string, notes: string[]): { heading: string; lines: string[] } {
  const lines = [b.legal_name ?? b.name];
  if (b.legal_name && b.legal_name !== b.name) lines.push(`trading as ${b.name}`);
  if (b.abn) lines.push(`ABN ${formatAbn(b.abn)}`);
  else if (totalMinor >= 1000n * 10n ** BigInt(exponentOf(currency))) notes.push("The customer's ABN is required on a tax invoice of 1,000 or more and is not on record.");
  if (b.address) lines.push(b.address);
  if (b.email) lines.push(b.email);
  return { heading: 'Bill to', lines };
}

/** Lines grouped by deployment in the invoice's line order; lines of no deployment come last, under the tenant. */
function groupByDeployment<T extends { deploymentId: string | null }>(lines: T[], deployments: DeploymentRef[]): { heading: string; lines: T[] }[] {
  const byId = new Map(deployments.map((d) => [d.id, d]));
  const groups = new Map<string | null, T[]>();
  for (const line of lines) {
    const key = line.deploymentId;
    const list = groups.get(key) ?? [];
    list.push(line);
    groups.set(key, list);
  }
  const ordered = [...groups.entries()].sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : 0));
  return ordered.map(([id, ls]) => {
    const d = id ? byId.get(id) : undefined;
    return { heading: id === null ? 'Account' : d ? `Deployment ${d.displayName} (${d.slug})` : `Deployment ${id}`, lines: ls };
  });
}

// ---------------------------------------------------------------------------------------------
// The two documents.

export function buildInvoiceDocument(input: InvoiceDocumentInput): DocumentContent {
  const { invoice, supplier, billedTo } = input;
  const c = invoice.currency;
  const notes: string[] = [];
  const mark = invoice.status === 'draft' ? 'DRAFT' : invoice.status === 'void' ? 'VOID' : null;
  const number = invoice.status === 'draft' ? null : invoice.number;

  const facts: { label: string; value: string }[] = [];
  facts.push({ label: 'Invoice number', value: number ?? 'not issued (draft)' });
  facts.push({ label: 'Issue date', value: invoice.issuedAt && invoice.status !== 'draft' ? formatDocumentDate(invoice.issuedAt) : 'not issued' });
  facts.push({ label: 'Period', value: periodLabel(invoice.periodStart, invoice.periodEnd) });
  if (invoice.dueAt && invoice.issuedAt && invoice.status !== 'draft') {
    const days = differenceInCalendarDays(invoice.dueAt, invoice.issuedAt, { in: utc });
    facts.push({ label: 'Due date', value: formatDocumentDate(invoice.dueAt) });
    facts.push({ label: 'Payment terms', value: `${days} days from the issue date; please quote ${number ?? 'the invoice number'} with your payment` });
  } else {
    facts.push({ label: 'Due date', value: 'set when issued' });
    facts.push({ label: 'Payment terms', value: input.paymentTermsDays === undefined ? 'set when issued' : `${input.paymentTermsDays} days from the issue date (set when issued)` });
  }
  facts.push({ label: 'Currency', value: c });
  if (invoice.status === 'paid' && invoice.paidAt) facts.push({ label: 'Paid', value: formatDocumentDate(invoice.paidAt) });
  if (invoice.status === 'void') {
    facts.push({ label: 'Void', value: `${invoice.voidedAt ? formatDocumentDate(invoice.voidedAt) : ''}${invoice.voidReason ? ` — ${invoice.voidReason}` : ''}`.trim() || 'yes' });
    notes.push('This invoice is void: nothing is payable on it.');
  }
  if (invoice.status === 'draft') notes.push('Draft: not a tax invoice until it is issued with a number.');

  const columns = [
    { label: 'Description', align: 'left' as const, width: 0.46 },
    { label: 'Quantity', align: 'right' as const, width: 0.14 },
    { label: `Unit price (${c})`, align: 'right' as const, width: 0.2 },
    { label: `Amount (${c})`, align: 'right' as const, width: 0.2 },
  ];
  // GST is shown once, in the totals: the tax line is the tenant-level GST on the subtotal.
  const chargeLines = invoice.lines.filter((l) => l.kind !== 'tax');
  const tables: DocumentTable[] = groupByDeployment(chargeLines, input.deployments).map((g) => ({
    heading: g.heading,
    columns,
    rows: g.lines.map((l) => [l.description, formatQuantity(l.quantity), formatUnitPrice(l.unitPrice, c), formatDocumentMoney(l.amountMinor, c)]),
  }));
  if (tables.length === 0) tables.push({ heading: null, columns, rows: [] });

  return {
    title: 'Tax invoice',
    mark,
    fileName: number ?? `draft-${format(invoice.periodStart, 'yyyy-MM', { in: utc })}`,
    supplier: supplierBlock(supplier),
    customer: customerBlock(billedTo, invoice.totalMinor, c, notes),
    facts,
    tables,
    totals: [
      { label: 'Subtotal (excluding GST)', value: formatDocumentMoney(invoice.subtotalMinor, c) },
      { label: `GST (${formatRate(invoice.taxRate)})`, value: formatDocumentMoney(invoice.taxMinor, c) },
      { label: `Total including GST (${c})`, value: formatDocumentMoney(invoice.totalMinor, c), strong: true },
    ],
    notes,
  };
}

export function buildAdjustmentNoteDocument(input: AdjustmentNoteDocumentInput): DocumentContent {
  const { note, invoice, supplier, billedTo } = input;
  const c = note.currency;
  const notes: string[] = [];
  const facts = [
    { label: 'Adjustment note number', value: note.number },
    { label: 'Issue date', value: formatDocumentDate(note.issuedAt) },
    { label: 'Original invoice', value: invoice.number ?? 'not issued' },
    { label: 'Original invoice date', value: invoice.issuedAt ? formatDocumentDate(invoice.issuedAt) : 'not issued' },
    { label: 'Period', value: periodLabel(note.periodStart, periodOf(note.periodStart).end) },
    { label: 'Reason', value: note.reason },
    { label: 'Currency', value: c },
  ];
  const columns = [
    { label: 'Description', align: 'left' as const, width: 0.4 },
    { label: `Old amount (${c})`, align: 'right' as const, width: 0.2 },
    { label: `New amount (${c})`, align: 'right' as const, width: 0.2 },
    { label: `Change (${c})`, align: 'right' as const, width: 0.2 },
  ];
  const changed = note.lines.filter((l) => l.kind !== 'tax');
  const tables: DocumentTable[] = groupByDeployment(changed, input.deployments).map((g) => ({
    heading: g.heading,
    columns,
    rows: g.lines.map((l) => [l.description, formatDocumentMoney(l.oldAmountMinor, c), formatDocumentMoney(l.newAmountMinor, c), formatSignedMoney(l.deltaMinor, c)]),
  }));
  if (tables.length === 0) tables.push({ heading: null, columns, rows: [] });
  const direction = note.totalDeltaMinor < 0n ? 'reduces' : note.totalDeltaMinor > 0n ? 'increases' : 'does not change';
  notes.push(`This adjustment note ${direction} the amount payable on invoice ${invoice.number ?? ''}`.trimEnd() + '.');
  return {
    title: 'Adjustment note',
    mark: null,
    fileName: note.number,
    supplier: supplierBlock(supplier),
    customer: customerBlock(billedTo, invoice.totalMinor, c, []),
    facts,
    tables,
    totals: [
      { label: 'Adjustment excluding GST', value: formatSignedMoney(note.subtotalDeltaMinor, c) },
      { label: `GST adjustment (${formatRate(note.taxRate)})`, value: formatSignedMoney(note.taxDeltaMinor, c) },
      { label: `Total adjustment including GST (${c})`, value: formatSignedMoney(note.totalDeltaMinor, c), strong: true },
    ],
    notes,
  };
}
