// Direct seeding for invoicing tests: the admin API has its own tests; these set up exact timelines.
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../src/platform/database.ts';
import { FIRST_PROFILE_FROM } from '../../src/tenants/tax-profiles.ts';

export async function seedTenant(prisma: PrismaClient, o: { slug?: string; currency?: string; taxRate?: string; country?: string } = {}) {
  const slug = o.slug ?? `t-${randomUUID().slice(0, 8)}`;
  return prisma.tenant.create({
    data: {
      name: `Tenant ${slug}`,
      slug,
      billingCurrency: o.currency ?? 'AUD',
      taxProfiles: { create: { country: o.country ?? 'AU', gstRate: o.taxRate ?? '0.1', effectiveFrom: FIRST_PROFILE_FROM, createdBy: 'test' } },
    },
  });
}

export async function seedPlanVersion(
  prisma: PrismaClient,
  o: { code?: string; version?: number; baseMinor?: bigint; currency?: string; allowances?: { kind: string; included: bigint; price: string }[] } = {},
) {
  const code = o.code ?? `plan-${randomUUID().slice(0, 8)}`;
  const plan = (await prisma.plan.findUnique({ where: { code } })) ?? (await prisma.plan.create({ data: { code, name: code } }));
  return prisma.planVersion.create({
    data: {
      planId: plan.id,
      version: o.version ?? 1,
      basePriceMinor: o.baseMinor ?? 5000n,
      currency: o.currency ?? 'AUD',
      allowances: { create: (o.allowances ?? [{ kind: 'droplet', included: 1488n, price: '0.01' }]).map((a) => ({ resourceKind: a.kind, includedHours: a.included, overageUnitPrice: a.price })) },
    },
  });
}

export interface SegmentSeed {
  planVersionId: string;
  status?: 'active' | 'paused' | 'cancelled';
  from: string;
  to?: string | null;
}

export async function seedSubscribedDeployment(
  prisma: PrismaClient,
  o: {
    tenantId: string;
    slug?: string;
    segments: SegmentSeed[];
    trialEndsAt?: string | null;
    addons?: { code: string; priceMinor: bigint; quantity?: number; attachedAt: string; detachedAt?: string | null }[];
  },
) {
  const first = o.segments[0]!;
  const deployment = await prisma.deployment.create({
    data: { tenantId: o.tenantId, slug: o.slug ?? `d-${randomUUID().slice(0, 8)}`, displayName: 'Deployment', region: 'syd1', state: 'active', createdAt: new Date(first.from) },
  });
  const addonRows = [];
  for (const a of o.addons ?? []) {
    const addon = (await prisma.addon.findUnique({ where: { code: a.code } })) ?? (await prisma.addon.create({ data: { code: a.code, name: a.code, priceMinor: a.priceMinor, currency: 'AUD' } }));
    addonRows.push({ addonId: addon.id, addonCode: a.code, addonName: a.code, unitPriceMinor: a.priceMinor, currency: 'AUD', quantity: a.quantity ?? 1, attachedAt: new Date(a.attachedAt), detachedAt: a.detachedAt ? new Date(a.detachedAt) : null });
  }
  const subscription = await prisma.subscription.create({
    data: {
      deploymentId: deployment.id,
      status: 'active',
      startedAt: new Date(first.from),
      currentPeriodStart: new Date(first.from),
      currentPeriodEnd: new Date(first.from),
      trialEndsAt: o.trialEndsAt ? new Date(o.trialEndsAt) : null,
      segments: { create: o.segments.map((s) => ({ planVersionId: s.planVersionId, status: s.status ?? 'active', validFrom: new Date(s.from), validTo: s.to ? new Date(s.to) : null })) },
      addons: { create: addonRows },
    },
  });
  return { deployment, subscription };
}

export async function seedResources(prisma: PrismaClient, o: { deploymentId: string; kind?: string; count: number; createdAt: string; deletedAt?: string | null }) {
  await prisma.cloudResource.createMany({
    data: Array.from({ length: o.count }, () => ({
      provider: 'digitalocean',
      providerResourceId: randomUUID(),
      kind: o.kind ?? 'droplet',
      name: `r-${randomUUID().slice(0, 6)}`,
      deploymentId: o.deploymentId,
      createdAt: new Date(o.createdAt),
      deletedAt: o.deletedAt ? new Date(o.deletedAt) : null,
    })),
  });
}

/** `count` LLM events of `charge` each, spread over the hours after `from`, inserted set-based. */
export async function seedLlmEvents(prisma: PrismaClient, o: { tenantId: string; deploymentId: string; count: number; charge: string; from: string; currency?: string }) {
  const prefix = randomUUID();
  await prisma.$executeRaw`
    INSERT INTO llm_usage_events (gateway_request_id, tenant_id, deployment_id, model, provider, prompt_tokens, completion_tokens, total_tokens, charge, currency, occurred_at, body_hash)
    SELECT ${prefix} || '-' || g, ${o.tenantId}::uuid, ${o.deploymentId}::uuid, 'gpt-test', 'openai', 10, 5, 15, ${o.charge}::numeric, ${o.currency ?? 'AUD'},
           ${new Date(o.from)}::timestamptz + make_interval(secs => g), md5(${prefix} || g)
      FROM generate_series(1, ${o.count}) g`;
}

/** The pilot scenario of the issue: expected April 2026 invoice 5000 + 750 + 672, GST 642, total 7064. */
export async function seedPilot(prisma: PrismaClient, slug = 'pilot') {
  const tenant = await seedTenant(prisma, { slug });
  const version = await seedPlanVersion(prisma, { code: `studio-${slug}`, baseMinor: 5000n, allowances: [{ kind: 'droplet', included: 1488n, price: '0.01' }] });
  const { deployment } = await seedSubscribedDeployment(prisma, {
    tenantId: tenant.id,
    slug: 'pilot',
    segments: [{ planVersionId: version.id, from: '2026-03-01T00:00:00Z' }],
    addons: [{ code: `storage_50gb`, priceMinor: 750n, attachedAt: '2026-03-01T00:00:00Z' }],
  });
  await seedResources(prisma, { deploymentId: deployment.id, count: 3, createdAt: '2026-03-15T00:00:00Z' });
  return { tenant, version, deployment };
}
