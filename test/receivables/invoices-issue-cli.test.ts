// `npm run invoices:issue` as finance runs it: a real subprocess against the test database,
// without FINANCE_URL (deliveries recorded as skipped), then a second run that finds nothing to do.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { closeMonth } from '../../src/invoicing/month-close.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';
import { useTestDatabase } from '../support/db.ts';
import { seedPilot } from '../support/seed.ts';

const db = useTestDatabase();
const script = fileURLToPath(new URL('../../scripts/invoices-issue.ts', import.meta.url));

async function cli(...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, ...args], {
      env: { ...process.env, DATABASE_URL: db().url, LOG_LEVEL: 'silent', NODE_ENV: 'test', FINANCE_URL: '', FINANCE_JWT_SECRET: '' },
      timeout: 60_000,
    });
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

describe('npm run invoices:issue', () => {
  it('issues the period’s drafts with numbers, prints the summary, and finds nothing the second time', async () => {
    const april = parsePeriod('2026-04');
    const a = await seedPilot(db().prisma, 'cli-a');
    const b = await seedPilot(db().prisma, 'cli-b');
    await closeMonth({ prisma: db().prisma, now: new Date('2026-05-01T03:00:00Z') }, { runId: randomUUID(), period: april, force: false, dryRun: false, tenantId: null, reason: null, requestedBy: 'test' });

    const first = await cli('--period', '2026-04', '--tenant', a.tenant.id);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/│ 2026-04\s+│ 1\s+│ 0\s+│ 1\s+│ 0\s+│ 0\s+│ 0\s+│ 1\s+│ 0\s+│/); // drafts 1, issued 1, push skipped 1
    expect(first.out).toMatch(/INV-2026-000001\s+│ cli-a\s+│ 70\.64 AUD\s+│ skipped/);
    expect((await db().prisma.tenantInvoice.findFirstOrThrow({ where: { tenantId: b.tenant.id } })).status).toBe('draft');

    const rest = await cli('--period', '2026-04');
    expect(rest.out).toMatch(/INV-2026-000002\s+│ cli-b/);
    const again = await cli('--period', '2026-04');
    expect(again.code).toBe(0);
    expect(again.out).toContain('no drafts to issue for 2026-04');

    expect((await cli('--period', 'April')).code).toBe(2);
    expect((await cli()).code).toBe(2);
    expect(await db().prisma.receivableDelivery.count({ where: { state: 'skipped' } })).toBe(2);
  }, 120_000);
});
