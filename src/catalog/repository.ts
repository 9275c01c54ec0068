// Catalog queries. Each takes a Db so a caller's transaction can pass through.
import type { Db } from '../platform/database.ts';
import type { Addon, Plan, PlanVersion, PlanVersionAllowance } from '../generated/prisma/client.ts';

export type PlanVersionWithAllowances = PlanVersion & { allowances: PlanVersionAllowance[] };
export type PlanWithVersions = Plan & { versions: PlanVersionWithAllowances[] };

const withVersions = {
  versions: { orderBy: { version: 'asc' as const }, include: { allowances: { orderBy: { resourceKind: 'asc' as const } } } },
};

export async function findPlanByCode(db: Db, code: string): Promise<PlanWithVersions | null> {
  return db.plan.findUnique({ where: { code }, include: withVersions });
}

export async function listPlans(db: Db): Promise<PlanWithVersions[]> {
  return db.plan.findMany({ orderBy: { code: 'asc' }, include: withVersions });
}

/** The given version of a plan, or its latest when `version` is undefined; null when there is none. */
export async function findPlanVersion(db: Db, planId: string, version?: number): Promise<PlanVersion | null> {
  if (version !== undefined) return db.planVersion.findUnique({ where: { planId_version: { planId, version } } });
  return db.planVersion.findFirst({ where: { planId }, orderBy: { version: 'desc' } });
}

export async function findAddonByCode(db: Db, code: string): Promise<Addon | null> {
  return db.addon.findUnique({ where: { code } });
}

export async function findAddonsByCodes(db: Db, codes: string[]): Promise<Addon[]> {
  return db.addon.findMany({ where: { code: { in: codes } } });
}

export async function listAddons(db: Db): Promise<Addon[]> {
  return db.addon.findMany({ orderBy: { code: 'asc' } });
}
