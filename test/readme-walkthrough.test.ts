// The README's curl walkthrough, run as written (bash, curl, jq) against `npm start` on a database
// where the demo has already run: it must not collide with the demo's slugs and codes, and must
// end with that tenant's April invoice.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createRun, executeRun } from '../src/invoicing/month-close-runs.ts';
import { parsePeriod } from '../src/invoicing/period.ts';
import { seedPilotScenario } from '../scripts/lib/pilot-scenario.ts';
import { useTestDatabase } from './support/db.ts';
import { waitFor } from './support/wait.ts';

const db = useTestDatabase();

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function walkthroughBlock(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Walkthrough'));
  const start = section.indexOf('```sh\n') + '```sh\n'.length;
  return section.slice(start, section.indexOf('```', start));
}

describe('README walkthrough', () => {
  it.skipIf(!has('jq') || !has('curl'))('works as written after the demo: the tenant’s April invoice, issued, adjusted and paid', { timeout: 90_000 }, async () => {
    // What the demo leaves behind: the pilot scenario with April closed.
    await seedPilotScenario(db().prisma);
    const runId = await createRun(db().prisma, { period: parsePeriod('2026-04'), trigger: 'demo', requestedBy: 'demo' });
    await executeRun({ prisma: db().prisma, now: new Date() }, runId);

    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const env = { ...process.env, NODE_ENV: 'development', DATABASE_URL: db().url, PORT: String(port), LOG_LEVEL: 'info' };
    const server = spawn('npm', ['start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let serverOutput = '';
    server.stdout!.on('data', (c: Buffer) => (serverOutput += c.toString()));
    server.stderr!.on('data', (c: Buffer) => (serverOutput += c.toString()));
    const exited = new Promise((resolve) => server.once('exit', resolve));
    try {
      await waitFor(async () => /"msg":"started"/.test(serverOutput), 'npm start', 60_000);
      const output = await new Promise<{ code: number | null; text: string }>((resolve) => {
        const shell = spawn('bash', ['-e', '-c', walkthroughBlock()], { env: { ...env, API: `http://127.0.0.1:${port}` }, stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        shell.stdout.on('data', (c: Buffer) => (text += c.toString()));
        shell.stderr.on('data', (c: Buffer) => (text += c.toString()));
        shell.once('exit', (code) => resolve({ code, text }));
      });
      expect(output.text).toContain('"total": "127.96"');
      expect(output.text).toContain('"subtotal": "116.33"');
      // Issued, corrected by a debit adjustment note (0.05 + GST 0.01), then paid.
      expect(output.text).toMatch(/"number": "INV-2026-\d{6}"/);
      expect(output.text).toMatch(/"total_delta": "0.06"/);
      expect(output.text).toContain('"net_total": "128.02"');
      expect(output.text).toContain('{"outcome":"paid","status":"paid"}');
      expect(output.code, output.text).toBe(0);
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
  });
});
