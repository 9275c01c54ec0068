import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { exactAtScale, formatDecimal, parseGroupedDecimal } from '../../src/money/decimal.ts';
import {
  csvChecksum,
  csvHasher,
  decodeCsvText,
  InvoiceCsvError,
  microsToCentsHalfAwayFromZero,
  parseDollarsToMicros,
  parseInvoiceCsv,
  parseInvoiceCsvStream,
  splitNetAndTax,
  sumAmountMicros,
  type InvoiceCostLine,
} from '../../src/costs/invoice-csv.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const HEADER = 'product,group_description,description,hours,start,end,USD,project_name,category';
const row = (usd: string, extra: Partial<Record<'product' | 'description' | 'hours' | 'start' | 'end', string>> = {}) =>
  [
    extra.product ?? 'Droplets',
    '',
    extra.description ?? 'web-1 (s-1vcpu-1gb)',
    extra.hours ?? '744',
    extra.start ?? '2020-07-01 00:00:00 +0000',
    extra.end ?? '2020-08-01 00:00:00 +0000',
    usd,
    'Default',
    'iaas',
  ].join(',');

function parseError(text: string): InvoiceCsvError {
  try {
    parseInvoiceCsv(text);
  } catch (err) {
    expect(err).toBeInstanceOf(InvoiceCsvError);
    return err as InvoiceCsvError;
  }
  throw new Error('expected the CSV to be rejected');
}

describe('parseInvoiceCsv: the provider format', () => {
  const lines = parseInvoiceCsv(fixture('invoice-basic.csv'));

  it('reads every row despite the BOM and the missing final newline', () => {
    expect(lines).toHaveLength(7);
    expect(lines.map((l) => l.rowNumber)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(Object.keys(lines[0]!.fields)[0]).toBe('product'); // BOM not glued to the first header
    expect(lines[6]!.category).toBe('tax'); // last line, no newline after it
  });

  it('keeps the raw source fields and derives kind, resource name, hours, period and amounts', () => {
    const web = lines[0]!;
    expect(web).toMatchObject({
      product: 'Droplets',
      kind: 'droplet',
      description: 'web-1 (s-1vcpu-1gb)',
      resourceName: 'web-1',
      hours: '744',
      usd: '$5.00',
      projectName: 'Acme, Inc. production', // quoted comma
      amountMicros: 5_000_000n,
      amountMinor: '500',
    });
    expect(web.fields).toEqual({
      product: 'Droplets',
      group_description: '',
      description: 'web-1 (s-1vcpu-1gb)',
      hours: '744',
      start: '2020-07-01 00:00:00 +0000',
      end: '2020-08-01 00:00:00 +0000',
      USD: '$5.00',
      project_name: 'Acme, Inc. production',
      category: 'iaas',
    });
    expect(web.periodStart?.toISOString()).toBe('2020-07-01T00:00:00.000Z');
    expect(web.periodEnd?.toISOString()).toBe('2020-08-01T00:00:00.000Z');
  });

  it('handles thousands separators in amounts and hours', () => {
    expect(lines[1]).toMatchObject({ resourceName: 'db-primary', hours: '1488', amountMicros: 1_234_560_000n, amountMinor: '123456' });
  });

  it('keeps commas inside a quoted description', () => {
    expect(lines[2]).toMatchObject({ kind: 'volume', description: 'data, logs (100 GiB)', resourceName: 'data, logs' });
  });

  it('reads both forms of a negative credit', () => {
    expect(lines[4]).toMatchObject({ usd: '-$1.00', amountMicros: -1_000_000n, amountMinor: '-100', kind: 'other', hours: null });
    expect(lines[5]).toMatchObject({ usd: '$-1.00', amountMicros: -1_000_000n, amountMinor: '-100' });
  });

  it('classifies the Taxes line, which names no resource', () => {
    expect(lines[6]).toMatchObject({ product: 'Taxes', kind: 'tax', description: 'GST (10%)', resourceName: null, amountMicros: 125_260_000n });
  });

  it('sums and splits net and tax exactly', () => {
    expect(sumAmountMicros(lines)).toBe(1_377_820_000n);
    expect(splitNetAndTax(lines)).toEqual({ netMicros: 1_252_560_000n, taxMicros: 125_260_000n, grossMicros: 1_377_820_000n });
  });
});

describe('parseInvoiceCsv: header-keyed columns', () => {
  it('accepts reordered columns and an unknown extra column, with CRLF line ends and offsets', () => {
    const lines = parseInvoiceCsv(fixture('invoice-reordered.csv'));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ product: 'Droplets', kind: 'droplet', resourceName: 'a', hours: '1.5', projectName: 'P', amountMinor: '33.33' });
    expect(lines[0]!.fields.region).toBe('nyc3'); // unknown column kept raw, never required
    // +0200 and -0530 offsets become the right instants
    expect(lines[0]!.periodStart?.toISOString()).toBe('2020-07-01T08:00:00.000Z');
    expect(lines[1]!.periodStart?.toISOString()).toBe('2020-07-01T05:30:00.000Z');
    expect(lines[1]!.periodEnd?.toISOString()).toBe('2020-07-01T07:30:00.000Z');
    expect(lines[2]).toMatchObject({ kind: 'snapshot', groupDescription: 'Backups', resourceName: null, hours: null });
  });

  it('keeps a column named __proto__ as an ordinary field', () => {
    const [line] = parseInvoiceCsv(`${HEADER},__proto__\n${row('$1.00')},polluted\n`);
    expect(line!.fields['__proto__']).toBe('polluted');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('sums three lines of $0.3333 exactly', () => {
    const lines = parseInvoiceCsv(fixture('invoice-reordered.csv'));
    expect(lines.map((l) => l.amountMicros)).toEqual([333_300n, 333_300n, 333_300n]);
    expect(sumAmountMicros(lines)).toBe(999_900n);
    expect(microsToCentsHalfAwayFromZero(sumAmountMicros(lines))).toBe(100n);
  });

  it('maps every known product to its kind', () => {
    const products: Array<[string, InvoiceCostLine['kind']]> = [
      ['Droplets', 'droplet'],
      ['Volumes', 'volume'],
      ['Snapshots', 'snapshot'],
      ['Volume Snapshots', 'snapshot'],
      ['Spaces Subscription', 'spaces'],
      ['Floating IPs', 'floating_ip'],
      ['Reserved IPs', 'floating_ip'],
      ['Load Balancers', 'load_balancer'],
      ['Kubernetes Clusters', 'kubernetes'],
      ['Managed Databases', 'database'],
      ['Taxes', 'tax'],
      ['App Platform', 'other'],
    ];
    const csv = [HEADER, ...products.map(([product]) => row('$1.00', { product }))].join('\n');
    expect(parseInvoiceCsv(csv).map((l) => l.kind)).toEqual(products.map(([, kind]) => kind));
  });
});

describe('parseInvoiceCsv: malformed files', () => {
  it('names a missing required column', () => {
    const err = parseError('product,group_description,description,hours,start,end,project_name,category\nDroplets,,x,1,,,P,iaas\n');
    expect(err.rowNumber).toBe(0);
    expect(err.reason).toContain('USD');
  });

  it('gives the data row number of an unparsable amount', () => {
    const err = parseError([HEADER, row('$5.00'), row('$5.00'), row('five dollars')].join('\n'));
    expect(err.rowNumber).toBe(3);
    expect(err.reason).toContain('five dollars');
    expect(err.message).toContain('row 3');
  });

  it('rejects badly grouped thousands, double signs and sub-micro amounts', () => {
    for (const usd of ['"$1,23.00"', '-$-1.00', '$1.0000001', '', '$', '1.2.3']) {
      expect(parseError([HEADER, row(usd)].join('\n')).rowNumber).toBe(1);
    }
  });

  it('gives the row number of an unparsable date, and of an impossible one', () => {
    expect(parseError([HEADER, row('$1.00'), row('$1.00', { start: '07/01/2020' })].join('\n')).rowNumber).toBe(2);
    expect(parseError([HEADER, row('$1.00', { end: '2020-02-30 00:00:00 +0000' })].join('\n')).reason).toContain('end');
    // without an offset the instant is ambiguous
    expect(parseError([HEADER, row('$1.00', { start: '2020-07-01 00:00:00' })].join('\n')).rowNumber).toBe(1);
  });

  it('gives the row number of a record with the wrong number of fields, or an unclosed quote', () => {
    expect(parseError([HEADER, row('$1.00'), 'Droplets,,short'].join('\n')).rowNumber).toBe(2);
    expect(parseError([HEADER, row('$1.00'), row('"$1.00')].join('\n')).rowNumber).toBe(2);
  });

  it('rejects an empty file', () => {
    expect(parseError('').rowNumber).toBe(0);
  });
});

describe('money helpers', () => {
  it('parses dollars to exact micros', () => {
    expect(parseDollarsToMicros('$1.2345')).toBe(1_234_500n);
    expect(parseDollarsToMicros('$0.000001')).toBe(1n);
    expect(parseDollarsToMicros('$1.5000000')).toBe(1_500_000n); // zeros beyond micros are still exact
    expect(parseDollarsToMicros('$1,234,567.89')).toBe(1_234_567_890_000n);
    expect(parseDollarsToMicros('12')).toBe(12_000_000n);
  });

  it('reads every amount as the grouped-decimal parser does (the plain forms have a fast path)', () => {
    const reference = (raw: string) => {
      const amount = parseGroupedDecimal(raw, { dollarSign: true });
      return amount ? exactAtScale(amount, 6) : null;
    };
    const amount = fc.array(fc.constantFrom('0', '1', '9', '5', ',', '.', '$', '-', ' ', '0', '00', '999', ',000', '.000000'), { maxLength: 16 }).map((p) => p.join(''));
    fc.assert(
      fc.property(amount, (raw) => {
        expect(parseDollarsToMicros(raw)).toBe(reference(raw));
      }),
      { numRuns: 50_000 },
    );
    for (const raw of ['$999,999,999.999999', '$1,000,000,000.00', '-$0.0000001', '$0.1234560000', '-0', '$-1,234.5']) {
      expect(parseDollarsToMicros(raw)).toBe(reference(raw));
    }
  });

  it('reads every hours value as the grouped-decimal parser does (plain ones are taken as written)', () => {
    const hours = fc.array(fc.constantFrom('0', '1', '7', '44', '.', ',', '000', ' ', '-', '5'), { maxLength: 8 }).map((p) => p.join(''));
    fc.assert(
      fc.property(hours, (raw) => {
        const quoted = `"${raw}"`;
        const parsed = raw.trim() === '' ? null : parseGroupedDecimal(raw);
        if (raw.trim() !== '' && parsed === null) {
          expect(parseError([HEADER, row('$1.00', { hours: quoted })].join('\n')).reason).toContain('hours');
        } else {
          expect(parseInvoiceCsv([HEADER, row('$1.00', { hours: quoted })].join('\n'))[0]!.hours).toBe(parsed === null ? null : formatDecimal(parsed));
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('keeps fractions of a cent in amountMinor', () => {
    const [line] = parseInvoiceCsv([HEADER, row('$1.2345')].join('\n'));
    expect(line!.amountMinor).toBe('123.45');
    const [tiny] = parseInvoiceCsv([HEADER, row('-$0.000001')].join('\n'));
    expect(tiny!.amountMinor).toBe('-0.0001');
  });

  it('rounds micros to cents once, half away from zero', () => {
    expect(microsToCentsHalfAwayFromZero(5_000n)).toBe(1n); // $0.005
    expect(microsToCentsHalfAwayFromZero(4_999n)).toBe(0n);
    expect(microsToCentsHalfAwayFromZero(-5_000n)).toBe(-1n);
    expect(microsToCentsHalfAwayFromZero(-4_999n)).toBe(0n);
    expect(microsToCentsHalfAwayFromZero(1_234_565_000n)).toBe(123_457n);
    expect(microsToCentsHalfAwayFromZero(0n)).toBe(0n);
  });

  it('splits net and tax on GST / tax in product or description, net + tax = gross', () => {
    const lines = parseInvoiceCsv(
      [
        HEADER,
        row('$10.00'),
        row('$1.00', { product: 'Taxes', description: 'GST (10%)' }),
        row('$0.50', { product: 'Sales Tax', description: 'State' }),
        row('$0.25', { product: 'Adjustments', description: 'VAT/gst correction' }),
        row('$3.00', { description: 'tax-service (s-1vcpu-1gb)' }), // a droplet named "tax…" is usage
        row('$2.00', { product: 'App Platform', description: 'syntax-checker' }),
      ].join('\n'),
    );
    const split = splitNetAndTax(lines);
    expect(split).toEqual({ netMicros: 15_000_000n, taxMicros: 1_750_000n, grossMicros: 16_750_000n });
    expect(split.netMicros + split.taxMicros).toBe(split.grossMicros);
  });

  it('checksums the CSV text with sha256', () => {
    const text = fixture('invoice-basic.csv');
    expect(csvChecksum(text)).toBe(createHash('sha256').update(readFileSync(new URL('./fixtures/invoice-basic.csv', import.meta.url))).digest('hex'));
    expect(csvChecksum(text)).toMatch(/^[0-9a-f]{64}$/);
    expect(csvChecksum(`${text}\n`)).not.toBe(csvChecksum(text));
  });
});

describe('parseInvoiceCsv: volume', () => {
  // Speed is measured by `npm run bench:csv`, beside a COPY baseline; a wall-clock bound here only
  // measured how busy the machine was.
  it('parses 100,000 lines and sums them exactly', () => {
    const rows = [HEADER];
    for (let i = 0; i < 100_000; i++) {
      rows.push(`Droplets,,"web-${i} (s-1vcpu-1gb)",744,2020-07-01 00:00:00 +0000,2020-08-01 00:00:00 +0000,"$1,000.000001",Acme,iaas`);
    }
    const lines = parseInvoiceCsv(rows.join('\n'));
    expect(lines).toHaveLength(100_000);
    expect(sumAmountMicros(lines)).toBe(100_000_000_100_000n); // $100,000,000.100000
    expect(lines[99_999]!.resourceName).toBe('web-99999');
  });
});

describe('parseInvoiceCsvStream: the same parse, chunk by chunk', () => {
  /** The bytes in slices of `size`, splitting multi-byte characters and the BOM. */
  async function* slices(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  async function streamed(text: string, size: number): Promise<{ lines: InvoiceCostLine[]; checksum: string }> {
    const hash = csvHasher();
    const lines: InvoiceCostLine[] = [];
    for await (const line of parseInvoiceCsvStream(decodeCsvText(slices(new TextEncoder().encode(text), size), hash))) lines.push(line);
    return { lines, checksum: hash.digest('hex') };
  }

  it('gives the lines of parseInvoiceCsv, and the checksum of the text without its BOM', async () => {
    const body = fixture('invoice-basic.csv').replace(/^\uFEFF/, '');
    const text = `\uFEFF${body}${body.endsWith('\n') ? '' : '\r\n'}${body.split(/\r?\n/)[1]!.replace('web-1', 'café-ü')}\r\n`;
    for (const size of [1, 3, 7, 64 * 1024]) {
      const { lines, checksum } = await streamed(text, size);
      expect(lines).toEqual(parseInvoiceCsv(text));
      expect(checksum).toBe(csvChecksum(text.slice(1)));
    }
  });

  it('throws the same InvoiceCsvError, with the same row number', async () => {
    const bad = [HEADER, row('$5.00'), row('$5.00'), row('five dollars')].join('\n');
    await expect(streamed(bad, 5)).rejects.toMatchObject({ name: 'InvoiceCsvError', rowNumber: 3 });
    const unclosed = [HEADER, row('$1.00'), 'Droplets,,"unclosed'].join('\n');
    await expect(streamed(unclosed, 5)).rejects.toMatchObject({ rowNumber: parseError(unclosed).rowNumber });
    await expect(streamed('', 5)).rejects.toMatchObject({ rowNumber: 0, reason: 'the file is empty' });
  });
});
