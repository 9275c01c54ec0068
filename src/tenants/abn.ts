// The ATO's ABN check: subtract 1 from the first digit, weight the 11 digits by
// 10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19; the sum must divide by 89.
const WEIGHTS = [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19] as const;

/** The ABN's 11 digits (spaces removed), or null when it is not a valid ABN. */
export function normalizeAbn(value: string): string | null {
  const digits = value.replace(/\s+/g, '');
  if (!/^\d{11}$/.test(digits) || digits[0] === '0') return null;
  let sum = 0;
  for (let i = 0; i < 11; i++) sum += (Number(digits[i]) - (i === 0 ? 1 : 0)) * WEIGHTS[i]!;
  return sum % 89 === 0 ? digits : null;
}

/** "51 824 753 556", as the ATO writes it. */
export function formatAbn(digits: string): string {
  return `${digits.slice(0, 2)} ${digits.slice(2, 5)} ${digits.slice(5, 8)} ${digits.slice(8)}`;
}
