// draft-refresh (hourly): recomputes each draft whose inputs changed (late usage during the grace
// period) as a new revision; an unchanged draft is left alone, with no revision bump.
import { refreshDrafts } from '../src/invoicing/issue-drafts.ts';
import { receivablesSettings } from '../src/receivables/settings.ts';
import type { JobDeps } from './worker.ts';

export async function handleDraftRefresh(deps: JobDeps) {
  const summaries = await refreshDrafts({ prisma: deps.prisma, now: deps.now(), receivables: receivablesSettings(deps.config, deps.boss), logger: deps.logger });
  return summaries.map((s) => ({ period: s.period, drafts: s.tenants, regenerated: s.regenerated, unchanged: s.unchanged, failed: s.failed }));
}
