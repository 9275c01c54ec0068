// Changes a tenant's name and billing details. The billing currency can change only while the
// tenant has no invoice: an invoice never mixes currencies, and neither does a tenant's history.
import { z } from 'zod';
import type { Db } from '../platform/database.ts';
import { NotFoundError, ValidationError } from '../platform/errors.ts';
import { currencyCode } from '../http/request-support.ts';
import { billingDetailsShape } from './create-tenant.ts';
import { findTenant, type TenantWithProfiles } from './repository.ts';

export const updateTenantBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    billing_currency: currencyCode.optional(),
    ...billingDetailsShape,
  })
  .refine((b) => Object.keys(b).length > 0, { error: 'name at least one field to change' });

export type UpdateTenantInput = z.output<typeof updateTenantBody>;

export async function updateTenant(db: Db, id: string, input: UpdateTenantInput, now: Date): Promise<{ tenant: TenantWithProfiles; outcome: 'updated' | 'unchanged' }> {
  const tenant = await findTenant(db, id);
  if (!tenant) throw new NotFoundError('tenant');
  const changes: Record<string, unknown> = {};
  const set = <K extends keyof typeof tenant>(key: K, value: (typeof tenant)[K] | undefined) => {
    if (value !== undefined && value !== tenant[key]) changes[key] = value;
  };
  set('name', input.name);
  set('billingCurrency', input.billing_currency);
  set('legalName', input.legal_name);
  set('abn', input.abn);
  set('billingEmail', input.billing_email);
  set('billingAddress', input.billing_address);
  if (Object.keys(changes).length === 0) return { tenant, outcome: 'unchanged' };
  if (changes.billingCurrency !== undefined) {
    const invoiced = await db.tenantInvoice.count({ where: { tenantId: id } });
    if (invoiced > 0) {
      throw new ValidationError({ field: 'billing_currency', message: `the tenant has ${invoiced} invoice(s); its billing currency can no longer change` });
    }
  }
  await db.tenant.update({ where: { id }, data: { ...changes, updatedAt: now } });
  return { tenant: (await findTenant(db, id))!, outcome: 'updated' };
}
