// Creates a catalog add-on. Its price is the price for NEW attachments only: a subscription
// snapshots it when the add-on is attached (see src/subscriptions/README.md).
import { z } from 'zod';
import type { Db } from '../platform/database.ts';
import type { Addon } from '../generated/prisma/client.ts';
import { ConflictError } from '../platform/errors.ts';
import { code, currencyCode, isUniqueViolation, minorAmount } from '../http/request-support.ts';

export const createAddonBody = z.strictObject({
  code,
  name: z.string().trim().min(1).max(200),
  price_minor: minorAmount,
  currency: currencyCode,
});

export type CreateAddonInput = z.output<typeof createAddonBody>;

export async function createAddon(db: Db, input: CreateAddonInput, now: Date): Promise<Addon> {
  try {
    return await db.addon.create({
      data: { code: input.code, name: input.name, priceMinor: BigInt(input.price_minor), currency: input.currency, createdAt: now, updatedAt: now },
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError('addon_code_taken', `an add-on with code "${input.code}" already exists`, { field: 'code' });
    }
    throw error;
  }
}
