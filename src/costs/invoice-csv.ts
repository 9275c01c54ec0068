// Parses a cloud provider's invoice CSV (DigitalOcean's format) into cost lines.
// Pure: no I/O, no clock. Money is never a float: amounts become exact bigint
// micro-dollars (millionths of a dollar) and exact decimal strings.
import { createHash, type Hash } from 'node:crypto';
import { exactAtScale, formatDecimal, parseGroupedDecimal, roundHalfAwayFromZero, trimDecimal } from '../money/decimal.ts';
import { parseInstantDate } from '../time/instant.ts';
import { CsvError, Parser, type Options as CsvOptions } from 'csv-parse';
import { parse } from 'csv-parse/sync';

export const REQUIRED_INVOICE_COLUMNS = [
  'product',
  'group_description',
  'description',
  'hours',
  'start',
  'end',
  'USD',
  'project_name',
  'category',
] as const;

type RequiredColumn = (typeof REQUIRED_INVOICE_COLUMNS)[number];

export type CostKind =
  | 'droplet'
  | 'volume'
  | 'snapshot'
  | 'spaces'
  | 'floating_ip'
  | 'load_balancer'
  | 'kubernetes'
  | 'database'
  | 'tax'
  | 'other';

export interface InvoiceCostLine {
  /** 1-based DATA row number: the first row after the header is 1. Not the file line number (quoted fields may span lines). */
  readonly rowNumber: number;
  /** Every source column by its header name, raw as in the file (including columns we do not know). */
  readonly fields: Readonly<Record<string, string>>;
  /** Raw source fields, as in the file. */
  readonly product: string;
  readonly groupDescription: string;
  readonly description: string;
  readonly projectName: string;
  readonly category: string;
  readonly usd: string;
  /** Derived from `product`. */
  readonly kind: CostKind;
  /** `web-1` from `web-1 (s-1vcpu-1gb)`; null when the description is not of that form (or the line is a tax). */
  readonly resourceName: string | null;
  /** Exact decimal string (thousands separators removed), null when the column is empty. */
  readonly hours: string | null;
  /** Null only when the source field is empty (some non-usage lines carry no period). */
  readonly periodStart: Date | null;
  readonly periodEnd: Date | null;
  /** Amount in millionths of a dollar, exact. */
  readonly amountMicros: bigint;
  /** Amount in cents as an exact decimal string: `$1.2345` -> `"123.45"`, `-$1.00` -> `"-100"`. */
  readonly amountMinor: string;
}

export class InvoiceCsvError extends Error {
  override readonly name = 'InvoiceCsvError';
  /** 1-based data row number (0 for the header row). */
  readonly rowNumber: number;
  readonly reason: string;
  constructor(rowNumber: number, reason: string) {
    super(rowNumber === 0 ? `invoice CSV header: ${reason}` : `invoice CSV row ${rowNumber}: ${reason}`);
    this.rowNumber = rowNumber;
    this.reason = reason;
  }
}

const KIND_BY_PRODUCT: ReadonlyMap<string, CostKind> = new Map([
  ['droplets', 'droplet'],
  ['volumes', 'volume'],
  ['snapshots', 'snapshot'],
  ['volume snapshots', 'snapshot'],
  ['spaces subscription', 'spaces'],
  ['floating ips', 'floating_ip'],
  ['reserved ips', 'floating_ip'],
  ['load balancers', 'load_balancer'],
  ['kubernetes clusters', 'kubernetes'],
  ['managed databases', 'database'],
  ['taxes', 'tax'],
]);

export function costKindOf(product: string): CostKind {
  return KIND_BY_PRODUCT.get(product.trim().toLowerCase()) ?? 'other';
}

// Same options for the whole-text and the streaming parser.
const CSV_OPTIONS: CsvOptions = {
  bom: true,
  skip_empty_lines: true,
  // Accept files whose line endings are not consistent (e.g. edited on Windows).
  record_delimiter: ['\r\n', '\n', '\r'],
};

/**
 * The stream parser's: the Transform's own readableHighWaterMark, so a write never waits for its
 * records to be read (recordBatches reads them all after every write, so the readable side never
 * holds more than one chunk's records).
 */
const STREAM_OPTIONS = { ...CSV_OPTIONS, readableHighWaterMark: 1 << 30 };

function malformed(err: CsvError): InvoiceCsvError {
  // csv-parse counts records including the header, so `records` (those already emitted) is the
  // 1-based data row number of the record that failed (0 for the header itself).
  const records = (err as { records?: unknown }).records;
  return new InvoiceCsvError(typeof records === 'number' ? records : 0, `malformed CSV: ${err.message}`);
}

/** A period instant of the CSV, parsed once per distinct text (invoice periods repeat on almost every line). */
export interface CsvInstant {
  readonly ms: number;
  /** The instant in ISO 8601 UTC with milliseconds, as TIMESTAMPTZ(3) takes it. */
  readonly iso: string;
}

/**
 * One data row, checked: the values cost_lines stores besides the raw fields, without the
 * objects an InvoiceCostLine carries (the bulk path writes these straight into COPY rows).
 */
export interface InvoiceCsvRow {
  /** 1-based data row number. */
  readonly rowNumber: number;
  /** The record's fields in file order, raw. */
  readonly record: readonly string[];
  readonly amountMicros: bigint;
  /** Exact decimal string (thousands separators removed), null when the column is empty. */
  readonly hours: string | null;
  readonly periodStart: CsvInstant | null;
  readonly periodEnd: CsvInstant | null;
  readonly kind: CostKind;
  readonly resourceName: string | null;
}

/** Caches stop growing here: an invoice of unique values still parses in bounded memory. */
const CACHE_LIMIT = 20_000;

/** `compute` of a text, remembered: the last one (columns repeat line after line), then up to CACHE_LIMIT others. */
class Memo<V> {
  readonly #compute: (key: string) => V;
  readonly #map = new Map<string, V>();
  #lastKey: string | undefined;
  #lastValue: V | undefined;

  constructor(compute: (key: string) => V) {
    this.#compute = compute;
  }

  get(key: string): V {
    if (key === this.#lastKey) return this.#lastValue as V;
    let value = this.#map.get(key);
    if (value === undefined && !this.#map.has(key)) {
      value = this.#compute(key);
      if (this.#map.size < CACHE_LIMIT) this.#map.set(key, value);
    }
    this.#lastKey = key;
    this.#lastValue = value;
    return value as V;
  }
}

/**
 * Reads the data records of one file (built from its header record): each record checked into an
 * InvoiceCsvRow, an InvoiceCostLine built from a row, a row's fields as JSON. Values that repeat
 * from line to line (dates, hours, products, descriptions) are parsed once.
 */
export class InvoiceCsvReader {
  /** Header names, trimmed, in file order. */
  readonly headerNames: readonly string[];
  readonly #at: Record<RequiredColumn, number>;
  /** `{"name":` / `,"name":` per column, JSON-escaped once, in #jsonOrder, for fieldsJson. */
  readonly #jsonKeys: string[];
  /** Column indexes in the order jsonb keeps object keys (shorter first, then bytewise), so PostgreSQL finds them sorted. */
  readonly #jsonOrder: number[];
  readonly #instants = new Memo(csvInstant);
  readonly #hours = new Memo(parseDecimal);
  readonly #kinds = new Memo(costKindOf);
  readonly #resourceNames = new Memo(resourceNameOf);

  constructor(header: readonly string[]) {
    this.#at = indexRequiredColumns(header);
    this.headerNames = header.map((name) => name.trim());
    const utf8 = this.headerNames.map((name) => Buffer.from(name));
    this.#jsonOrder = utf8.map((_, i) => i).sort((a, b) => utf8[a]!.length - utf8[b]!.length || Buffer.compare(utf8[a]!, utf8[b]!));
    this.#jsonKeys = this.#jsonOrder.map((column, i) => `${i === 0 ? '{' : ','}${JSON.stringify(this.headerNames[column])}:`);
  }

  /** Checks one data record (the checks and their order are toCostLine's); throws InvoiceCsvError. */
  read(record: readonly string[], rowNumber: number): InvoiceCsvRow {
    const at = this.#at;
    const usd = record[at.USD] ?? '';
    const amountMicros = parseDollarsToMicros(usd);
    if (amountMicros === null) throw new InvoiceCsvError(rowNumber, `unparsable USD amount ${JSON.stringify(usd)}`);

    const rawHours = record[at.hours] ?? '';
    let hours: string | null = null;
    if (isPlainDecimal(rawHours)) hours = rawHours;
    else if (rawHours.trim() !== '') {
      hours = this.#hours.get(rawHours);
      if (hours === null) throw new InvoiceCsvError(rowNumber, `unparsable hours ${JSON.stringify(rawHours)}`);
    }

    const periodStart = this.#instant(record, 'start', rowNumber);
    const periodEnd = this.#instant(record, 'end', rowNumber);
    if (periodStart && periodEnd && periodEnd.ms < periodStart.ms) {
      throw new InvoiceCsvError(rowNumber, `end ${record[at.end] ?? ''} is before start ${record[at.start] ?? ''}`);
    }

    const kind = this.#kinds.get(record[at.product] ?? '');
    return {
      rowNumber,
      record,
      amountMicros,
      hours,
      periodStart,
      periodEnd,
      kind,
      // "GST (10%)" has the same shape as "web-1 (s-1vcpu-1gb)" but names no resource.
      resourceName: kind === 'tax' ? null : this.#resourceNames.get(record[at.description] ?? ''),
    };
  }

  #instant(record: readonly string[], column: 'start' | 'end', rowNumber: number): CsvInstant | null {
    const raw = record[this.#at[column]] ?? '';
    if (raw.trim() === '') return null;
    const instant = this.#instants.get(raw);
    if (instant === null) throw new InvoiceCsvError(rowNumber, `unparsable ${column} date ${JSON.stringify(raw)}`);
    return instant;
  }

  /**
   * Every source column of the record by its header name, raw, as JSON text (what cost_lines.fields
   * holds), keys in jsonb's own order. JSON.stringify escapes a value only when it must (a quote, a backslash, a control
   * character, a surrogate): otherwise the value is written between quotes as it is. So the text
   * has a backslash only when a field has one of those.
   */
  fieldsJson(record: readonly string[]): string {
    const keys = this.#jsonKeys;
    const order = this.#jsonOrder;
    if (keys.length === 0) return '{}';
    let json = '';
    for (let i = 0; i < keys.length; i++) {
      const value = record[order[i]!] ?? '';
      json += keys[i]! + (isPlainJsonString(value) ? `"${value}"` : JSON.stringify(value));
    }
    return `${json}}`;
  }

  /** The same row as an InvoiceCostLine. */
  costLine(row: InvoiceCsvRow): InvoiceCostLine {
    const { record } = row;
    const at = this.#at;
    const get = (column: RequiredColumn): string => record[at[column]] ?? '';
    // No prototype: a header named "__proto__" must stay an ordinary field.
    const fields: Record<string, string> = Object.create(null) as Record<string, string>;
    const names = this.headerNames;
    for (let i = 0; i < names.length; i++) fields[names[i]!] = record[i] ?? '';
    return {
      rowNumber: row.rowNumber,
      fields,
      product: get('product'),
      groupDescription: get('group_description'),
      description: get('description'),
      projectName: get('project_name'),
      category: get('category'),
      usd: get('USD'),
      kind: row.kind,
      resourceName: row.resourceName,
      hours: row.hours,
      // A fresh Date per line: callers may mutate theirs.
      periodStart: row.periodStart ? new Date(row.periodStart.ms) : null,
      periodEnd: row.periodEnd ? new Date(row.periodEnd.ms) : null,
      amountMicros: row.amountMicros,
      amountMinor: microsToCentsDecimal(row.amountMicros),
    };
  }

  /** The raw value of a required column. */
  column(record: readonly string[], column: RequiredColumn): string {
    return record[this.#at[column]] ?? '';
  }
}

/**
 * True for a decimal parseDecimal gives back unchanged (`744`, `0.5`, `1.50`): digits without a
 * leading zero (or a lone 0), then optionally a fraction. Most hours are; the others are parsed.
 */
function isPlainDecimal(value: string): boolean {
  const n = value.length;
  if (n === 0) return false;
  let i = 0;
  const first = value.charCodeAt(0);
  if (first === DIGIT_0) i = 1;
  else {
    while (i < n && value.charCodeAt(i) >= DIGIT_0 && value.charCodeAt(i) <= DIGIT_9) i++;
    if (i === 0) return false;
  }
  if (i === n) return true;
  if (value.charCodeAt(i) !== 46 /* . */ || i + 1 === n) return false;
  for (i++; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < DIGIT_0 || c > DIGIT_9) return false;
  }
  return true;
}

/** True when JSON.stringify(value) is value between quotes: no quote, backslash, control character or surrogate. */
function isPlainJsonString(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

function csvInstant(raw: string): CsvInstant | null {
  const date = parseInstant(raw);
  return date ? { ms: date.getTime(), iso: date.toISOString() } : null;
}

/**
 * Parses the whole CSV. Throws InvoiceCsvError on a missing required column,
 * a malformed CSV record, or an unparsable amount, hours value or date.
 */
export function parseInvoiceCsv(text: string | Uint8Array): InvoiceCostLine[] {
  let records: string[][];
  try {
    records = parse(text, CSV_OPTIONS);
  } catch (err) {
    throw err instanceof CsvError ? malformed(err) : err;
  }
  const header = records[0];
  if (header === undefined) throw new InvoiceCsvError(0, 'the file is empty');
  const reader = new InvoiceCsvReader(header);
  const lines: InvoiceCostLine[] = new Array(records.length - 1);
  for (let r = 1; r < records.length; r++) lines[r - 1] = reader.costLine(reader.read(records[r]!, r));
  return lines;
}

/**
 * The records of a stream of text, a batch per text chunk, read by csv-parse's stream parser:
 * each chunk is written to it and the records it parsed are read back at once (csv-parse parses
 * a write synchronously), so no record waits on a promise. A malformed record ends it with its
 * InvoiceCsvError after the records before it. An error of the source itself (a dropped
 * connection) comes out unchanged.
 */
async function* recordBatches(text: AsyncIterable<string>): AsyncGenerator<string[][]> {
  const parser = new Parser(STREAM_OPTIONS);
  parser.on('error', () => {}); // read from parser.errored after each write
  const drain = (): string[][] => {
    const batch: string[][] = [];
    for (let record: string[] | null; (record = parser.read() as string[] | null) !== null; ) batch.push(record);
    return batch;
  };
  const failed = (): InvoiceCsvError | undefined => {
    const err = parser.errored;
    if (err === null) return undefined;
    if (err instanceof CsvError) return malformed(err);
    throw err;
  };
  try {
    for await (const chunk of text) {
      parser.write(chunk);
      const batch = drain();
      if (batch.length > 0) yield batch;
      const error = failed();
      if (error) throw error;
    }
    parser.end();
    const batch = drain();
    if (batch.length > 0) yield batch;
    const error = failed();
    if (error) throw error;
    if (parser.info.records === 0) throw new InvoiceCsvError(0, 'the file is empty');
  } finally {
    parser.destroy();
  }
}

/**
 * The same parse over a stream of text, one line at a time, so a long invoice never sits in
 * memory whole. Errors are the same InvoiceCsvError; an error of the source itself (a dropped
 * connection) comes out unchanged.
 */
export async function* parseInvoiceCsvStream(text: AsyncIterable<string>): AsyncGenerator<InvoiceCostLine> {
  let reader: InvoiceCsvReader | undefined;
  let rowNumber = 0;
  for await (const batch of recordBatches(text)) {
    for (const record of batch) {
      if (reader === undefined) reader = new InvoiceCsvReader(record);
      else yield reader.costLine(reader.read(record, ++rowNumber));
    }
  }
}

/**
 * The bulk path: the checked rows of each piece of text as it arrives (a few hundred lines), with
 * the reader of the file, so a caller can turn them into bytes before the next piece and keep no
 * row objects. `check` (the caller's own checks, which throw InvoiceCsvError) runs on each row as
 * it is read, so the error reported is always the first row's. Errors as parseInvoiceCsvStream's.
 */
export async function* readInvoiceCsvRows(
  text: AsyncIterable<string>,
  check: (row: InvoiceCsvRow) => void = () => {},
): AsyncGenerator<{ reader: InvoiceCsvReader; rows: InvoiceCsvRow[] }> {
  let reader: InvoiceCsvReader | undefined;
  let rowNumber = 0;
  for await (const batch of recordBatches(text)) {
    const rows: InvoiceCsvRow[] = [];
    for (const record of batch) {
      if (reader === undefined) reader = new InvoiceCsvReader(record);
      else {
        const row = reader.read(record, ++rowNumber);
        check(row);
        rows.push(row);
      }
    }
    if (rows.length > 0) yield { reader: reader!, rows };
  }
}

/**
 * UTF-8 text of a response body, chunk by chunk, as undici's `text()` would decode it (a
 * leading BOM dropped, invalid bytes replaced), each chunk also fed to `hash`: the sha256 of the
 * whole text comes out equal to csvChecksum(text) without the text ever being held whole.
 */
export async function* decodeCsvText(body: AsyncIterable<Uint8Array>, hash: Hash): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of body) {
    const text = decoder.decode(chunk, { stream: true });
    if (text !== '') {
      hash.update(text);
      yield text;
    }
  }
  const tail = decoder.decode();
  if (tail !== '') {
    hash.update(tail);
    yield tail;
  }
}

/** csvChecksum of a response body's decoded text, streamed: the body is never held whole. */
export async function csvChecksumOfBody(body: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = csvHasher();
  for await (const text of decodeCsvText(body, hash)) void text;
  return hash.digest('hex');
}

/** A sha256 to feed chunk by chunk (decodeCsvText); its hex digest equals csvChecksum of the same text. */
export function csvHasher(): Hash {
  return createHash('sha256');
}

function indexRequiredColumns(header: readonly string[]): Record<RequiredColumn, number> {
  // Header-keyed, case-insensitive: the provider has reordered columns before.
  const positions = new Map<string, number>();
  header.forEach((name, i) => {
    const key = name.trim().toLowerCase();
    if (positions.has(key)) throw new InvoiceCsvError(0, `duplicate column "${name.trim()}"`);
    positions.set(key, i);
  });
  const missing = REQUIRED_INVOICE_COLUMNS.filter((c) => !positions.has(c.toLowerCase()));
  if (missing.length > 0) throw new InvoiceCsvError(0, `missing required column(s): ${missing.join(', ')}`);
  return Object.fromEntries(REQUIRED_INVOICE_COLUMNS.map((c) => [c, positions.get(c.toLowerCase())!])) as Record<
    RequiredColumn,
    number
  >;
}


const RESOURCE_DESCRIPTION = /^\s*(.+?)\s+\(([^()]+)\)\s*$/;

/** `web-1 (s-1vcpu-1gb)` -> `web-1`; null when the description is not `name (size)`. */
export function resourceNameOf(description: string): string | null {
  const match = RESOURCE_DESCRIPTION.exec(description);
  return match ? match[1]! : null;
}

// ---------------------------------------------------------------- amounts
// The arithmetic is src/money/decimal.ts's; these name the cost side's units.

/** Micro-dollars (10^-6 USD) per amount: the scale amounts are exact to. */
const MICRO_SCALE = 6;
/** Micro-dollars as cents: 10^-4 cents. */
const MICROS_AS_CENTS_SCALE = 4;

/** `$1,234.56` -> 1234560000n micros; null when not a dollar amount or finer than a micro-dollar. */
export function parseDollarsToMicros(raw: string): bigint | null {
  const fast = plainDollarsToMicros(raw);
  if (fast !== undefined) return fast;
  const amount = parseGroupedDecimal(raw, { dollarSign: true });
  return amount ? exactAtScale(amount, MICRO_SCALE) : null;
}

const DIGIT_0 = 48;
const DIGIT_9 = 57;

/**
 * The amounts of almost every line (`$0.104730`, `-$1.00`, `"$1,234.56"`), read without a regular
 * expression: the value when `raw` is a well-formed amount under $1,000,000,000 exact to the
 * micro-dollar, undefined for anything else (parseGroupedDecimal decides those). Every amount it
 * reads, parseGroupedDecimal reads the same (test/costs/invoice-csv.test.ts checks it on random text).
 */
function plainDollarsToMicros(raw: string): bigint | undefined {
  const n = raw.length;
  let i = 0;
  let negative = false;
  if (raw.charCodeAt(i) === 45 /* - */) {
    negative = true;
    i++;
  }
  if (raw.charCodeAt(i) === 36 /* $ */) {
    i++;
    if (raw.charCodeAt(i) === 45) {
      if (negative) return undefined;
      negative = true;
      i++;
    }
  }
  // Whole dollars: digits, or groups of three after one to three digits.
  let whole = 0;
  let digits = 0;
  let sinceComma = -1; // digits since the last comma; -1 before the first
  for (; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c >= DIGIT_0 && c <= DIGIT_9) {
      whole = whole * 10 + (c - DIGIT_0);
      digits++;
      if (sinceComma >= 0) sinceComma++;
    } else if (c === 44 /* , */) {
      if (sinceComma === -1 ? digits < 1 || digits > 3 : sinceComma !== 3) return undefined;
      sinceComma = 0;
    } else break;
  }
  if (digits === 0 || digits > 9 || (sinceComma !== -1 && sinceComma !== 3)) return undefined;
  let micros = whole * 1_000_000;
  if (i < n) {
    if (raw.charCodeAt(i) !== 46 /* . */ || i + 1 === n) return undefined;
    let scale = 100_000;
    for (i++; i < n; i++) {
      const c = raw.charCodeAt(i);
      if (c < DIGIT_0 || c > DIGIT_9) return undefined;
      if (scale >= 1) micros += (c - DIGIT_0) * scale;
      else if (c !== DIGIT_0) return undefined; // finer than a micro-dollar
      scale /= 10;
    }
  }
  return negative ? -BigInt(micros) : BigInt(micros);
}

/** Exact decimal string with thousands separators removed, or null. */
function parseDecimal(raw: string): string | null {
  const value = parseGroupedDecimal(raw);
  return value ? formatDecimal(value) : null;
}

/** 1234500n micros ($1.2345) -> "123.45" cents; exact, trailing zeros dropped. */
export function microsToCentsDecimal(micros: bigint): string {
  return formatDecimal(trimDecimal({ amount: micros, scale: MICROS_AS_CENTS_SCALE }));
}

/** Rounds micro-dollars to cents once, half away from zero (the vendor-bill push sends minor units). */
export function microsToCentsHalfAwayFromZero(micros: bigint): bigint {
  return roundHalfAwayFromZero({ amount: micros, scale: MICROS_AS_CENTS_SCALE }, 0);
}

export function sumAmountMicros(lines: Iterable<Pick<InvoiceCostLine, 'amountMicros'>>): bigint {
  let total = 0n;
  for (const line of lines) total += line.amountMicros;
  return total;
}

export interface NetAndTax {
  readonly netMicros: bigint;
  readonly taxMicros: bigint;
  /** Always netMicros + taxMicros. */
  readonly grossMicros: bigint;
}

// Whole words only: a droplet called "syntax-checker" or "taxi-app" is not a tax.
const TAX_WORDS = /\b(?:gst|tax|taxes)\b/i;

/** A line is tax when its product is `Taxes`, or its product or description names a tax (GST, tax), unless it is a known resource line. */
export function isTaxLine(line: Pick<InvoiceCostLine, 'product' | 'description'>): boolean {
  const kind = costKindOf(line.product);
  if (kind === 'tax') return true;
  // A droplet named "tax-service (s-1vcpu-1gb)" is usage, not tax.
  if (kind !== 'other') return false;
  return TAX_WORDS.test(line.product) || TAX_WORDS.test(line.description);
}

export function splitNetAndTax(lines: Iterable<Pick<InvoiceCostLine, 'product' | 'description' | 'amountMicros'>>): NetAndTax {
  let netMicros = 0n;
  let taxMicros = 0n;
  for (const line of lines) {
    if (isTaxLine(line)) taxMicros += line.amountMicros;
    else netMicros += line.amountMicros;
  }
  return { netMicros, taxMicros, grossMicros: netMicros + taxMicros };
}

/** sha256 hex of the CSV bytes (strings are hashed as UTF-8): detects a re-issued invoice file. */
export function csvChecksum(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

// ---------------------------------------------------------------- dates

/**
 * The provider writes `2020-07-01 00:00:00 +0000` (also with `T`, fractional seconds, `+00:00`, `Z`
 * or `UTC`): the one instant parser (src/time/instant.ts) reads it; the offset is required.
 */
export function parseInstant(raw: string): Date | null {
  return parseInstantDate(raw, { spaced: true });
}
