// The two parties a tax invoice names: us (the supplier, from configuration) and the tenant as
// billed. Both are frozen on the invoice when it is issued, so a later change of address or
// legal name never rewrites a document the tenant already holds.
import type { Config } from '../platform/config.ts';
import { ValidationError } from '../platform/errors.ts';
import { normalizeAbn } from '../tenants/abn.ts';

export interface Supplier {
  legal_name: string;
  abn: string | null;
  address: string | null;
  email: string | null;
}

export interface BilledTo {
  name: string;
  legal_name: string;
  abn: string | null;
  email: string | null;
  address: string | null;
}

export function supplierFromConfig(config: Config): Supplier {
  return {
    legal_name: config.SUPPLIER_LEGAL_NAME,
    abn: config.SUPPLIER_ABN ? normalizeAbn(config.SUPPLIER_ABN) : null,
    address: config.SUPPLIER_ADDRESS ?? null,
    email: config.SUPPLIER_EMAIL ?? null,
  };
}

/** A tax invoice must show the supplier's ABN: in production, issuing refuses without one. */
export function assertCanIssue(config: Config): void {
  if (config.NODE_ENV === 'production' && !config.SUPPLIER_ABN) {
    throw new ValidationError({ field: 'SUPPLIER_ABN', message: 'is not configured: a tax invoice must show the supplier ABN, so nothing is issued in production without it' }, 'supplier_abn_missing');
  }
}

export function billedTo(tenant: { name: string; legalName: string | null; abn: string | null; billingEmail: string | null; billingAddress: string | null }): BilledTo {
  return {
    name: tenant.name,
    legal_name: tenant.legalName ?? tenant.name,
    abn: tenant.abn,
    email: tenant.billingEmail,
    address: tenant.billingAddress,
  };
}
