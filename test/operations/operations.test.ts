// Operator views: GET /api/v1/month-close-runs and the dead letters (API list, CLI redrive).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_QUEUE } from '../../jobs/catalog.ts';
import { createRun } from '../../src/invoicing/month-close-runs.ts';
import { parsePeriod } from '../../src/invoicing/period.ts';
import { redriveQueue } from '../../src/operations/dead-letters.ts';
import { useTestApp } from '../support/app.ts';

const run = promisify(execFile);
const ctx = useTestApp();

describe('GET /api/v1/month-close-runs', () => {
  const ids: string[] = [];
  beforeAll(async () => {
    const { prisma } = ctx().db;
    // Created one after the other: newest first means the reverse of this order.
    for (const [period, status] of [['2026-02', 'completed'], ['2026-03', 'failed'], ['2026-03', 'completed'], ['2026-04', 'queued']] as const) {
      ids.push(await createRun(prisma, { period: parsePeriod(period), trigger: 'api', requestedBy: `ops-${period}`, reason: 'test' }, status));
      await new Promise((r) => setTimeout(r, 5));
    }
  });

  const get = async (query: string, role: 'finance' | 'platform_admin' | 'tenant_admin' = 'finance') =>
    ctx().app.inject({ method: 'GET', url: `/api/v1/month-close-runs${query}`, headers: await ctx().auth(role) });

  it('lists runs newest first with status, period, options, who asked and summary', async () => {
    const res = await get('');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.data.map((r: { id: string }) => r.id)).toEqual([...ids].reverse());
    expect(body.data[0]).toMatchObject({ id: ids[3], status: 'queued', period: '2026-04', trigger: 'api', force: false, dry_run: false, requested_by: 'ops-2026-04', reason: 'test', summary: null });
    expect((await get('', 'platform_admin')).statusCode).toBe(200);
  });

  it('filters by period and status and pages with a cursor', async () => {
    expect((await get('?period=2026-03')).json().data.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    expect((await get('?period=2026-03&status=failed')).json().data.map((r: { id: string }) => r.id)).toEqual([ids[1]]);
    const first = (await get('?limit=3')).json();
    expect(first.data).toHaveLength(3);
    const second = (await get(`?limit=3&cursor=${first.next_cursor}`)).json();
    expect(second.data.map((r: { id: string }) => r.id)).toEqual([ids[0]]);
    expect(second.next_cursor).toBeNull();
  });

  it('refuses tenant roles, a bad status and a foreign cursor, naming the field', async () => {
    expect((await get('', 'tenant_admin')).statusCode).toBe(403);
    const badStatus = await get('?status=done');
    expect(badStatus.statusCode).toBe(400);
    expect(badStatus.json().field).toBe('status');
    const badCursor = await get('?cursor=nope');
    expect(badCursor.statusCode).toBe(400); // like every list: a cursor that is not ours is a bad request
    expect(badCursor.json().field).toBe('cursor');
  });
});

describe('dead letters', () => {
  const QUEUE = 'ops-test-source';

  async function deadLetter(data: object, queue = QUEUE): Promise<string> {
    const { boss } = ctx();
    await boss.createQueue(queue, { retryLimit: 0, deadLetter: DEAD_LETTER_QUEUE });
    const id = await boss.send(queue, data);
    const [job] = await boss.fetch(queue);
    expect(job?.id).toBe(id);
    await boss.fail(queue, id!, { message: 'provider said no' });
    const [letter] = (await boss.findJobs(DEAD_LETTER_QUEUE, { data })).filter((j) => j.sourceId === id);
    return letter!.id;
  }

  it('GET /api/v1/jobs/dead-letters lists them with their queue, payload and error (finance, platform_admin)', async () => {
    const letterId = await deadLetter({ invoiceUuid: 'list-me' });
    const res = await ctx().app.inject({ method: 'GET', url: `/api/v1/jobs/dead-letters?queue=${QUEUE}`, headers: await ctx().auth('finance') });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toContainEqual(
      expect.objectContaining({ id: letterId, queue: QUEUE, data: { invoiceUuid: 'list-me' }, error: expect.objectContaining({ message: 'provider said no' }) }),
    );
    const tenant = await ctx().app.inject({ method: 'GET', url: '/api/v1/jobs/dead-letters', headers: await ctx().auth('tenant_admin') });
    expect(tenant.statusCode).toBe(403);
  });

  it('npm run jobs:dead-letters -- --redrive <id> re-sends the original job to its queue once; again says unchanged', { timeout: 60_000 }, async () => {
    const letterId = await deadLetter({ invoiceUuid: 'redrive-me' });
    const cli = (...args: string[]) =>
      run('npm', ['run', '-s', 'jobs:dead-letters', '--', ...args], { env: { ...process.env, DATABASE_URL: ctx().db.url, LOG_LEVEL: 'silent' } });

    const listed = await cli('--queue', QUEUE);
    expect(listed.stdout).toContain(letterId);

    expect((await cli('--redrive', letterId)).stdout.trim()).toBe(`redriven ${letterId}`);
    const back = await ctx().boss.findJobs(QUEUE, { data: { invoiceUuid: 'redrive-me' }, queued: true });
    expect(back).toHaveLength(1);
    expect(await ctx().boss.findJobs(DEAD_LETTER_QUEUE, { id: letterId })).toEqual([]);

    expect((await cli('--redrive', letterId)).stdout.trim()).toMatch(/^unchanged/);
    expect(await ctx().boss.findJobs(QUEUE, { data: { invoiceUuid: 'redrive-me' }, queued: true })).toHaveLength(1);
  });

  it('redrive-all re-sends every dead letter of one queue, then says unchanged', async () => {
    const other = 'ops-test-all';
    await deadLetter({ invoiceUuid: 'all-1' }, other);
    await deadLetter({ invoiceUuid: 'all-2' }, other);
    expect(await redriveQueue(ctx().boss, other)).toEqual({ status: 'redriven', count: 2 });
    expect(await ctx().boss.findJobs(other, { queued: true })).toHaveLength(2);
    expect(await redriveQueue(ctx().boss, other)).toEqual({ status: 'unchanged', count: 0 });
  });
});
