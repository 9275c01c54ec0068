// Tenant queries. Each takes a Db so a caller's transaction can pass through.
import type { Db } from '../platform/database.ts';
import type { Tenant, TenantTaxProfile } from '../generated/prisma/client.ts';
import { afterCursor, pageOrder, toPage, type PageCursor } from '../http/request-support.ts';

export type TenantWithProfiles = Tenant & { taxProfiles: TenantTaxProfile[] };

const withProfiles = { taxProfiles: { orderBy: { effectiveFrom: 'asc' as const } } };

export async function findTenant(db: Db, id: string): Promise<TenantWithProfiles | null> {
  return db.tenant.findUnique({ where: { id }, include: withProfiles });
}

export async function listTenants(db: Db, page: { limit: number; cursor?: PageCursor | undefined }) {
  const rows = await db.tenant.findMany({ where: afterCursor(page.cursor), orderBy: pageOrder, take: page.limit + 1, include: withProfiles });
  return toPage(rows, page.limit);
}
