// The pilot scenario from a real month close, seeded idempotently (a re-run finds what exists):
// tenant pilot (AU, GST 10 %, AUD); plan studio v1 at 50.00 a month including 1,488 droplet hours,
// overage 0.01 per droplet hour; add-on storage_50gb at 7.50, quantity 1; deployment pilot active
// and subscribed since March with the add-on; three droplets running all of April 2026.
import type { PrismaClient } from '../../src/platform/database.ts';
import { FIRST_PROFILE_FROM } from '../../src/tenants/tax-profiles.ts';

const SINCE = new Date('2026-03-01T00:00:00Z');

export async function seedPilotScenario(prisma: PrismaClient): Promise<{ tenantId: string; deploymentId: string }> {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('seed:pilot', 0))`;
    const tenant =
      (await tx.tenant.findUnique({ where: { slug: 'pilot' } })) ??
      (await tx.tenant.create({
        data: {
          name: 'Pilot Pty Ltd',
          slug: 'pilot',
          billingCurrency: 'AUD',
          legalName: 'Pilot Pty Ltd',
          abn: '51824753556',
          billingEmail: 'accounts@pilot.example',
          billingAddress: '1 Example Street, Sydney NSW 2000',
          taxProfiles: { create: { country: 'AU', gstRate: '0.1', effectiveFrom: FIRST_PROFILE_FROM, createdBy: 'demo' } },
        },
      }));
    const plan = (await tx.plan.findUnique({ where: { code: 'studio' } })) ?? (await tx.plan.create({ data: { code: 'studio', name: 'Studio' } }));
    const version =
      (await tx.planVersion.findUnique({ where: { planId_version: { planId: plan.id, version: 1 } } })) ??
      (await tx.planVersion.create({
        data: {
          planId: plan.id,
          version: 1,
          basePriceMinor: 5000n,
          currency: 'AUD',
          allowances: { create: [{ resourceKind: 'droplet', includedHours: 1488n, overageUnitPrice: '0.01' }] },
        },
      }));
    const addon =
      (await tx.addon.findUnique({ where: { code: 'storage_50gb' } })) ??
      (await tx.addon.create({ data: { code: 'storage_50gb', name: 'Storage 50 GB', priceMinor: 750n, currency: 'AUD' } }));
    let deployment = await tx.deployment.findUnique({ where: { tenantId_slug: { tenantId: tenant.id, slug: 'pilot' } } });
    if (!deployment) {
      deployment = await tx.deployment.create({
        data: { tenantId: tenant.id, slug: 'pilot', displayName: 'Pilot', region: 'syd1', state: 'active', createdAt: SINCE },
      });
      await tx.deploymentEvent.create({ data: { deploymentId: deployment.id, fromState: null, toState: 'active', actor: 'demo', reason: 'seeded', at: SINCE } });
      await tx.subscription.create({
        data: {
          deploymentId: deployment.id,
          status: 'active',
          startedAt: SINCE,
          currentPeriodStart: SINCE,
          currentPeriodEnd: new Date('2026-04-01T00:00:00Z'),
          segments: { create: [{ planVersionId: version.id, status: 'active', validFrom: SINCE }] },
          addons: {
            create: [{ addonId: addon.id, addonCode: addon.code, addonName: addon.name, unitPriceMinor: addon.priceMinor, currency: addon.currency, quantity: 1, attachedAt: SINCE }],
          },
        },
      });
    }
    await tx.cloudResource.createMany({
      data: [1, 2, 3].map((n) => ({
        provider: 'digitalocean',
        providerResourceId: `pilot-droplet-${n}`,
        kind: 'droplet',
        name: `pilot-web-${n}`,
        size: 's-2vcpu-4gb',
        deploymentId: deployment.id,
        createdAt: new Date('2026-03-15T00:00:00Z'),
      })),
      skipDuplicates: true,
    });
    return { tenantId: tenant.id, deploymentId: deployment.id };
  });
}
