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

/**
 * For billing a tenant over [periodStart, periodEnd): each of its deployments' subscriptions with
 * only the segments and add-on rows that overlap the period, segments carrying their plan version
 * (base price, currency, allowances). Rows are half-open intervals; a null end means "still open".
 * Segment status decides what is billed: 'active' is billable, 'paused' and 'cancelled' are not.
 */
export async function listBillableSubscriptions(db: Db, query: { tenantId: string; periodStart: Date; periodEnd: Date }) {
  const overlapsSegment = { validFrom: { lt: query.periodEnd }, OR: [{ validTo: null }, { validTo: { gt: query.periodStart } }] };
  const overlapsAddon = { attachedAt: { lt: query.periodEnd }, OR: [{ detachedAt: null }, { detachedAt: { gt: query.periodStart } }] };
  return db.subscription.findMany({
    where: { deployment: { tenantId: query.tenantId }, segments: { some: overlapsSegment } },
    orderBy: { deploymentId: 'asc' },
    include: {
      deployment: { select: { id: true, slug: true, displayName: true, state: true, billingActionSuspended: true } },
      segments: {
        where: overlapsSegment,
        orderBy: { validFrom: 'asc' },
        include: {
          planVersion: { include: { plan: { select: { code: true, name: true } }, allowances: { orderBy: { resourceKind: 'asc' } } } },
        },
      },
      addons: { where: overlapsAddon, orderBy: [{ attachedAt: 'asc' }, { addonCode: 'asc' }] },
    },
  });
}
