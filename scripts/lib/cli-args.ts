// What every CLI does with its arguments: a usage error prints the usage line and exits 2.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parsePeriod, type Period } from '../../src/invoicing/period.ts';

export function usageError(usage: string, message?: string): never {
  console.error(message ? `${message}\n${usage}` : usage);
  process.exit(2);
}

/** The options given, or exit 2 with the usage line for an unknown or malformed one. */
export function cliArgs<const O extends NonNullable<ParseArgsConfig['options']>>(usage: string, options: O) {
  try {
    return parseArgs({ options, strict: true }).values;
  } catch (error) {
    return usageError(usage, (error as Error).message);
  }
}

/** `--period YYYY-MM` as a period; missing or malformed exits 2 naming the problem. */
export function periodArg(value: string | undefined, usage: string): Period {
  if (!value) return usageError(usage);
  try {
    return parsePeriod(value);
  } catch (error) {
    return usageError(usage, (error as Error).message);
  }
}

/** An id option (`--tenant`, `--document`): a uuid or exit 2. */
export function idArg(value: string | undefined, name: string, usage: string): string | undefined {
  if (value !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) return usageError(usage, `--${name} must be an id (uuid)`);
  return value;
}
