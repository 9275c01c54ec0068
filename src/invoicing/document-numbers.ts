// Gap-free document numbers: `INV-2026-000001`, one sequence per series and calendar year of issue.
// The counter row is bumped inside the caller's transaction (never max + 1): two issuers queue on
// the row lock, and a rolled-back issue rolls its number back with it, so no number is skipped or
// used twice.
import type { Tx } from '../platform/database.ts';

export type NumberSeries = 'invoice' | 'adjustment_note';

export async function nextDocumentNumber(tx: Tx, series: NumberSeries, prefix: string, issuedAt: Date): Promise<string> {
  const year = issuedAt.getUTCFullYear();
  const [row] = await tx.$queryRaw<{ last_value: bigint }[]>`
    INSERT INTO document_number_counters (series, year, last_value) VALUES (${series}, ${year}, 1)
    ON CONFLICT (series, year) DO UPDATE SET last_value = document_number_counters.last_value + 1
    RETURNING last_value`;
  return formatDocumentNumber(prefix, year, row!.last_value);
}

export function formatDocumentNumber(prefix: string, year: number, sequence: bigint): string {
  return `${prefix}-${year}-${sequence.toString().padStart(6, '0')}`;
}
