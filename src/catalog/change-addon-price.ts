// Changes an add-on's catalog price. Existing subscription_addons rows keep the price they
// snapshotted when attached; only attachments made after this call use the new price.
import { z } from 'zod';
import type { Db } from '../platform/database.ts';
import type { Addon } from '../generated/prisma/client.ts';
import { NotFoundError } from '../platform/errors.ts';
import { minorAmount } from '../http/request-support.ts';

export const changeAddonPriceBody = z.strictObject({ price_minor: minorAmount });

export async function changeAddonPrice(db: Db, code: string, priceMinor: bigint, now: Date): Promise<Addon> {
  const { count } = await db.addon.updateMany({ where: { code }, data: { priceMinor, updatedAt: now } });
  if (count === 0) throw new NotFoundError('addon', 'addon_not_found', 'code');
  return db.addon.findUniqueOrThrow({ where: { code } });
}
