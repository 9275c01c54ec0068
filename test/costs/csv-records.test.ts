// The invoice CSV's record reader against csv-parse, whose grammar it replaces (same options as the
// invoice parser had): on random text, whole and cut into random chunks, the same records, or the
// same error (code, message, and records emitted before it, which the invoice error's row number is).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CsvError } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { CsvRecords, CsvRecordsError, csvRecords } from '../../src/costs/csv-records.ts';

const CSV_PARSE_OPTIONS = { bom: true, skip_empty_lines: true, record_delimiter: ['\r\n', '\n', '\r'] };

type Outcome = { records: string[][] } | { code: string; message: string; records: number };

function viaCsvParse(text: string): Outcome {
  try {
    return { records: parse(text, CSV_PARSE_OPTIONS) as string[][] };
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    return { code: err.code, message: err.message, records: (err as unknown as { records: number }).records };
  }
}

function viaCsvRecords(chunks: string[]): Outcome {
  const records: string[][] = [];
  const reader = new CsvRecords((r) => records.push(r));
  try {
    for (const chunk of chunks) reader.push(chunk);
    reader.end();
    return { records };
  } catch (err) {
    if (!(err instanceof CsvRecordsError)) throw err;
    return { code: err.code, message: err.message, records: err.records };
  }
}

/** `text` cut at the given positions (never inside a surrogate pair: decoded text never is). */
function cut(text: string, at: number[]): string[] {
  const inPair = (p: number) => p > 0 && p < text.length && /[\uD800-\uDBFF]/.test(text[p - 1]!);
  const points = [...new Set(at.map((p) => p % (text.length + 1)).filter((p) => !inPair(p)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(text.slice(from, p));
    from = p;
  }
  chunks.push(text.slice(from));
  return chunks;
}

// Few characters, so quotes, delimiters and line ends meet in every arrangement.
const csvText = fc
  .array(fc.constantFrom('a', 'b', ',', ',', '"', '"', '\r', '\n', '\n', ' ', 'é', '€', '\uFEFF', '𝄞', 'x"y', '"",', '\r\n'), { maxLength: 40 })
  .map((parts) => parts.join(''));

describe('CsvRecords: the grammar csv-parse applied to the invoice CSV', () => {
  it('reads what csv-parse reads, and refuses what it refuses, with the same error', () => {
    fc.assert(
      fc.property(csvText, (text) => {
        expect(viaCsvRecords([text])).toEqual(viaCsvParse(text));
      }),
      { numRuns: Number(process.env.CSV_RUNS ?? 5_000) },
    );
  });

  it('gives the same outcome however the text is cut into chunks', () => {
    fc.assert(
      fc.property(csvText, fc.array(fc.nat(), { maxLength: 8 }), (text, at) => {
        expect(viaCsvRecords(cut(text, at))).toEqual(viaCsvRecords([text]));
      }),
      { numRuns: Number(process.env.CSV_RUNS ?? 5_000) },
    );
  });

  it('reads well-formed files of the provider shape, quoted commas and line breaks included', () => {
    const record = fc.array(
      fc.oneof(
        fc.string({ unit: fc.constantFrom('a', '1', ' ', '$', '.', '-', 'é') }),
        fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' ') }).map((s) => `"${s.replaceAll('"', '""')}"`),
      ),
      { minLength: 3, maxLength: 3 },
    );
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 6 }), fc.constantFrom('\n', '\r\n', '\r'), fc.array(fc.nat(), { maxLength: 6 }), (records, eol, at) => {
        const text = records.map((r) => r.join(',')).join(eol);
        const expected = viaCsvParse(text);
        expect(viaCsvRecords([text])).toEqual(expected);
        expect(viaCsvRecords(cut(text, at))).toEqual(expected);
      }),
      { numRuns: 5_000 },
    );
  });

  it('strips one leading byte order mark, keeps empty trailing fields, skips empty lines', () => {
    expect(csvRecords('\uFEFFa,b\r\n\r\n1,\n\n')).toEqual([
      ['a', 'b'],
      ['1', ''],
    ]);
    expect(csvRecords('')).toEqual([]);
  });
});
