// The month-close CLI as an operator runs it: a real subprocess against the test database.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../support/db.ts';
import { seedPilot } from '../support/seed.ts';

const db = useTestDatabase();
const script = fileURLToPath(new URL('../../scripts/month-close.ts', import.meta.url));

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [script, ...args], {
    env: { ...process.env, DATABASE_URL: db().url, LOG_LEVEL: 'silent', NODE_ENV: 'test' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('npm run month-close', () => {
  it('closes a period, prints the summary, skips on a re-run, and shows a dry run line by line', async () => {
    const { tenant } = await seedPilot(db().prisma, 'cli');
    const first = cli('--period', '2026-04');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/created/);
    expect(await db().prisma.tenantInvoice.count({ where: { tenantId: tenant.id } })).toBe(1);
    // The CLI stamped its run's heartbeat (the catch-up's sign that it is alive).
    expect((await db().prisma.monthCloseRun.findFirstOrThrow({ where: { trigger: 'cli' } })).heartbeatAt).not.toBeNull();

    const again = cli('--period', '2026-04', '--tenant', tenant.id);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/│ 2026-04\s+│ 1\s+│ 0\s+│ 1 /); // tenants 1, created 0, skipped 1

    const dry = cli('--period', '2026-04', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('(dry run)');
  }, 90_000);

  it('refuses bad arguments with exit code 2 and exits 1 when a tenant fails', async () => {
    expect(cli().code).toBe(2);
    const bad = cli('--period', '2026-4');
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/period/);
    expect(cli('--period', '2026-04', '--tenant', 'nope').code).toBe(2);

    const broken = await seedPilot(db().prisma, 'cli-broken');
    await db().prisma.tenant.update({ where: { id: broken.tenant.id }, data: { billingCurrency: 'ZZZ' } });
    const failed = cli('--period', '2026-04');
    expect(failed.code).toBe(1);
    expect(failed.out).toMatch(/FAILED cli-broken: unknown ISO 4217 currency: ZZZ/);
  }, 90_000);
});
