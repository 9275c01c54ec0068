// Subscription queries. Each takes a Db so a caller's transaction can pass through.
import type { Db } from '../platform/database.ts';
import type { Prisma } from '../platform/database.ts';

const detail = {
  segments: {
    orderBy: { validFrom: 'asc' },
    include: { planVersion: { include: { plan: { select: { code: true, name: true } } } } },
  },
  addons: { orderBy: [{ attachedAt: 'asc' }, { addonCode: 'asc' }] },
} satisfies Prisma.SubscriptionInclude;

export type SubscriptionDetail = Prisma.SubscriptionGetPayload<{ include: typeof detail }>;

/** A deployment's subscription with its whole timeline: segments by valid_from, add-on rows by attached_at. */
export async function findSubscriptionByDeployment(db: Db, deploymentId: string): Promise<SubscriptionDetail | null> {
  return db.subscription.findUnique({ where: { deploymentId }, include: detail });
}
