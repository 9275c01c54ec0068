// How documents are numbered, when they fall due and where they are delivered: read once from the
// configuration and handed to every use case that issues a document.
import type { PgBoss } from 'pg-boss';
import type { Config } from '../platform/config.ts';
import { financeOptionsFromConfig } from '../costs/clients.ts';
import type { FinanceClientOptions } from '../costs/finance-client.ts';
import { supplierFromConfig, type Supplier } from './parties.ts';
import type { OutboxDeps } from './outbox.ts';

export interface ReceivablesSettings extends OutboxDeps {
  invoicePrefix: string;
  notePrefix: string;
  paymentTermsDays: number;
  graceHours: number;
  supplier: Supplier;
  finance: FinanceClientOptions | null;
  config: Config;
}

export function receivablesSettings(config: Config, boss?: PgBoss): ReceivablesSettings {
  const finance = financeOptionsFromConfig(config);
  return {
    boss,
    finance,
    financeConfigured: finance !== null,
    invoicePrefix: config.INVOICE_NUMBER_PREFIX,
    notePrefix: config.ADJUSTMENT_NOTE_PREFIX,
    paymentTermsDays: config.INVOICE_PAYMENT_TERMS_DAYS,
    graceHours: config.INVOICE_GRACE_HOURS,
    supplier: supplierFromConfig(config),
    config,
  };
}
