// npm run bench:month-close -- [--tenants 10000] [--events 1000000] [--keep]
// Seeds a fresh database set-based (N tenants on the pilot plan, 3 droplets each, M LLM events
// spread over April 2026), then times a month close, a re-run (all skipped), a dry run and a
// forced re-run, and checks the invoiced total against the expected one. Prints figures only.
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { closeMonth } from '../src/invoicing/month-close.ts';
import { parsePeriod } from '../src/invoicing/period.ts';
import { config } from '../src/platform/config.ts';
import { createPrisma, resolveDatabase } from '../src/platform/database.ts';
import { migrate } from '../src/platform/migrate.ts';

const { values } = parseArgs({ options: { tenants: { type: 'string', default: '10000' }, events: { type: 'string', default: '1000000' }, keep: { type: 'boolean', default: false } } });
const tenants = Number.parseInt(values.tenants, 10);
const events = Number.parseInt(values.events, 10);
if (!(tenants > 0) || !(events >= 0)) {
  console.error('--tenants must be > 0 and --events ≥ 0');
  process.exit(2);
}

const server = await resolveDatabase(config());
const name = `invoicing_bench_${Date.now()}`;
const withDb = (url: string, db: string) => Object.assign(new URL(url), { pathname: `/${db}` }).toString();
const admin = new pg.Client({ connectionString: server.url });
await admin.connect();
await admin.query(`CREATE DATABASE "${name}"`);
const url = withDb(server.url, name);
await migrate(url);
const prisma = createPrisma(url, { max: 10 });

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  const result = await fn();
  const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
  console.log(`${label.padEnd(44)} ${String(ms).padStart(8)} ms`);
  return result;
}

try {
  console.log(`month close benchmark: ${tenants} tenants, ${events} LLM events, database ${name}`);
  await timed('seed (set-based SQL)', async () => {
    await prisma.$executeRawUnsafe(`INSERT INTO tenants (name, slug) SELECT 'Bench ' || g, 'bench-' || g FROM generate_series(1, ${tenants}) g`);
    await prisma.$executeRawUnsafe(`INSERT INTO plans (code, name) VALUES ('studio', 'Studio')`);
    await prisma.$executeRawUnsafe(`INSERT INTO plan_versions (plan_id, version, base_price_minor, currency) SELECT id, 1, 5000, 'AUD' FROM plans`);
    await prisma.$executeRawUnsafe(`INSERT INTO plan_version_allowances (plan_version_id, resource_kind, included_hours, overage_unit_price) SELECT id, 'droplet', 1488, 0.01 FROM plan_versions`);
    await prisma.$executeRawUnsafe(`INSERT INTO addons (code, name, price_minor, currency) VALUES ('storage_50gb', 'Storage 50 GB', 750, 'AUD')`);
    await prisma.$executeRawUnsafe(`INSERT INTO deployments (tenant_id, slug, display_name, region, state, created_at) SELECT id, 'main', 'Main', 'syd1', 'active', '2026-03-01Z' FROM tenants`);
    await prisma.$executeRawUnsafe(`INSERT INTO subscriptions (deployment_id, status, started_at, current_period_start, current_period_end) SELECT id, 'active', '2026-03-01Z', '2026-03-01Z', '2026-04-01Z' FROM deployments`);
    await prisma.$executeRawUnsafe(`INSERT INTO subscription_segments (subscription_id, plan_version_id, status, valid_from) SELECT s.id, pv.id, 'active', '2026-03-01Z' FROM subscriptions s CROSS JOIN plan_versions pv`);
    await prisma.$executeRawUnsafe(`INSERT INTO subscription_addons (subscription_id, addon_id, addon_code, addon_name, unit_price_minor, currency, quantity, attached_at) SELECT s.id, a.id, a.code, a.name, a.price_minor, 'AUD', 1, '2026-03-01Z' FROM subscriptions s CROSS JOIN addons a`);
    await prisma.$executeRawUnsafe(`INSERT INTO cloud_resources (provider, provider_resource_id, kind, name, deployment_id, created_at) SELECT 'digitalocean', d.id || '-' || k, 'droplet', 'web-' || k, d.id, '2026-03-15Z' FROM deployments d CROSS JOIN generate_series(1, 3) k`);
    await prisma.$executeRawUnsafe(`
      INSERT INTO llm_usage_events (gateway_request_id, tenant_id, deployment_id, model, provider, prompt_tokens, completion_tokens, total_tokens, charge, currency, occurred_at, body_hash)
      SELECT 'bench-' || g, d.tenant_id, d.id, 'gpt-bench', 'openai', 100, 50, 150, 0.00125, 'AUD',
             '2026-04-01Z'::timestamptz + make_interval(secs => (g * 7) % (30 * 86400)), md5(g::text)
        FROM generate_series(0, ${events} - 1) g
        JOIN (SELECT id, tenant_id, row_number() OVER (ORDER BY id) - 1 AS n FROM deployments) d ON d.n = g % ${tenants}`);
    await prisma.$executeRawUnsafe('ANALYZE');
  });

  const april = parsePeriod('2026-04');
  const now = new Date('2026-05-01T03:00:00Z');
  const options = (o: { force?: boolean; dryRun?: boolean } = {}) => ({ runId: randomUUID(), period: april, force: false, dryRun: false, tenantId: null, reason: 'bench', requestedBy: 'bench', ...o });

  const first = await timed('month close (creates every invoice)', () => closeMonth({ prisma, now }, options()));
  const again = await timed('re-run without force (skips every invoice)', () => closeMonth({ prisma, now }, options()));
  const dry = await timed('dry run (computes and diffs, writes nothing)', () => closeMonth({ prisma, now }, options({ dryRun: true })));
  const forced = await timed('forced re-run (regenerates every invoice)', () => closeMonth({ prisma, now }, options({ force: true })));

  const [check] = await prisma.$queryRawUnsafe<{ invoices: bigint; total: string; llm: string }[]>(
    `SELECT COUNT(*) AS invoices, SUM(total_minor)::text AS total,
            (SELECT SUM(amount_minor) FROM tenant_invoice_lines WHERE kind = 'llm_usage')::text AS llm FROM tenant_invoices`,
  );
  console.log(`\ncreated ${first.created}, failed ${first.failed}; re-run skipped ${again.skipped}; dry run unchanged ${dry.skipped}; forced regenerated ${forced.regenerated}`);
  console.log(`invoices ${check!.invoices}, sum of totals ${check!.total} minor units, LLM lines ${check!.llm} minor units`);
} finally {
  await prisma.$disconnect();
  if (!values.keep) await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
  await admin.end();
  await server.release();
}
