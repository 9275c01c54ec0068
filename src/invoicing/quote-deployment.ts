// The price of one deployment for a period as it stands: the same engine and the same inputs as
// month close, with usage counted up to `now` (a projection of the month so far).
import { seesAllTenants, type Principal } from '../auth/tokens.ts';
import type { Db } from '../platform/database.ts';
import { NotFoundError } from '../platform/errors.ts';
import { moneyJson } from '../money/money.ts';
import { billedLine } from './adjustment.ts';
import { loadTenantBilling } from './billing-inputs.ts';
import type { Period } from './period.ts';
import { computeQuote } from './quote-engine.ts';

export async function quoteDeployment(db: Db, principal: Principal, input: { deploymentId: string; period: Period; now: Date }) {
  const deployment = await db.deployment.findUnique({ where: { id: input.deploymentId }, select: { id: true, tenantId: true, slug: true } });
  if (!deployment || (!seesAllTenants(principal) && principal.tenantId !== deployment.tenantId)) throw new NotFoundError('deployment');

  const asOf = input.now < input.period.end ? input.now : input.period.end;
  const billing = (await loadTenantBilling(db, [deployment.tenantId], input.period, asOf, { deploymentId: deployment.id })).get(deployment.tenantId);
  if (!billing) throw new NotFoundError('tenant');
  const quote = computeQuote(billing.input);
  const c = quote.currency;
  return {
    deployment_id: deployment.id,
    period: input.period.key,
    as_of: asOf.toISOString(),
    projection: asOf < input.period.end,
    billable: quote.billable,
    currency: c,
    lines: quote.lines.map((l) => ({ ...billedLine(l), amount: moneyJson(l.amountMinor, c) })),
    subtotal: moneyJson(quote.subtotalMinor, c),
    tax: moneyJson(quote.taxMinor, c),
    total: moneyJson(quote.totalMinor, c),
  };
}
