// The provider CSV's records, read from text a chunk at a time: the grammar csv-parse applies with
// the options the invoice parser used (`bom`, `skip_empty_lines`, record delimiters \r\n, \n and
// \r; `,` and `"` with `""` as the escaped quote; every record as long as the first), with the same
// records and the same errors (code, message, records emitted before), at a fraction of the cost:
// it scans JavaScript strings with indexOf and slices fields out, where csv-parse walks a Buffer
// byte by byte. test/costs/csv-records.test.ts checks it against csv-parse on random text.
//
// Text, not bytes: the delimiters and the quote are ASCII, so in UTF-16 they are found exactly
// where csv-parse finds them in UTF-8.

export type CsvRecordsErrorCode =
  | 'CSV_QUOTE_NOT_CLOSED'
  | 'INVALID_OPENING_QUOTE'
  | 'CSV_INVALID_CLOSING_QUOTE'
  | 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH';

export class CsvRecordsError extends Error {
  override readonly name = 'CsvRecordsError';
  readonly code: CsvRecordsErrorCode;
  /** Records emitted before the one that failed (the header counts): the failing data row's number. */
  readonly records: number;
  constructor(code: CsvRecordsErrorCode, message: string, records: number) {
    super(message);
    this.code = code;
    this.records = records;
  }
}

const COMMA = 44;
const QUOTE = 34;
const CR = 13;
const LF = 10;

/**
 * Push text in, get records out (`onRecord`, in order); `end()` after the last chunk. Throws
 * CsvRecordsError from `push` or `end` at the first malformed record; nothing is emitted after it.
 */
export class CsvRecords {
  readonly #onRecord: (record: string[]) => void;
  /** Text not consumed yet: always the start of a record. */
  #pending = '';
  #started = false;
  #records = 0;
  #expectedLength = -1;
  /** csv-parse's line number at the start of #pending. */
  #lines = 1;

  constructor(onRecord: (record: string[]) => void) {
    this.#onRecord = onRecord;
  }

  get records(): number {
    return this.#records;
  }

  push(text: string): void {
    if (text === '') return;
    if (!this.#started) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // bom: true
    }
    this.#scan(this.#pending === '' ? text : this.#pending + text, false);
  }

  end(): void {
    this.#started = true;
    this.#scan(this.#pending, true);
  }

  /**
   * Emits every complete record of `buf`; keeps the rest in #pending. A record is complete at its
   * record delimiter; a chunk that ends inside a record (or on a \r that may be half of \r\n, or
   * on a quote that may be half of "") is scanned again from the record's start with the next one.
   */
  #scan(buf: string, final: boolean): void {
    const len = buf.length;
    let pos = 0;
    let lines = this.#lines;
    let record: string[] = [];
    let recordStart = 0;
    let recordLines = lines;
    for (;;) {
      // At the start of a field.
      if (pos >= len) {
        if (!final) break;
        // A trailing field after a delimiter (`a,` then end) is a field; an empty last line is not.
        if (record.length > 0) this.#emit(record.concat(''), lines);
        record = [];
        recordStart = pos;
        break;
      }
      let field: string;
      let c = buf.charCodeAt(pos);
      if (c === QUOTE) {
        // Quoted: up to the quote that is followed by a delimiter, a record delimiter or the end.
        let p = pos + 1;
        field = '';
        let closed = false;
        for (;;) {
          const q = buf.indexOf('"', p);
          if (q === -1) {
            if (!final) break;
            lines += newlinesIn(buf, p, len);
            // csv-parse counts a line when it reads the character after its \n (or \r): not for the last one.
            const last = buf.charCodeAt(len - 1);
            if (len > p && (last === LF || last === CR)) lines -= 1;
            throw new CsvRecordsError('CSV_QUOTE_NOT_CLOSED', `Quote Not Closed: the parsing is finished with an opening quote at line ${lines}`, this.#records);
          }
          lines += newlinesIn(buf, p, q);
          if (q + 1 >= len && !final) break; // `"` then more text: "" or the closing quote?
          const next = q + 1 < len ? buf.charCodeAt(q + 1) : -1;
          if (next === QUOTE) {
            field += buf.slice(p, q + 1);
            p = q + 2;
            continue;
          }
          if (next === -1 || next === COMMA || next === CR || next === LF) {
            field += buf.slice(p, q);
            pos = q + 1;
            closed = true;
            break;
          }
          throw new CsvRecordsError(
            'CSV_INVALID_CLOSING_QUOTE',
            `Invalid Closing Quote: got "${firstByteAsChar(buf, q + 1)}" at line ${lines} instead of delimiter, record delimiter, trimable character (if activated) or comment`,
            this.#records,
          );
        }
        if (!closed) break; // wait for more text
        c = pos < len ? buf.charCodeAt(pos) : -1;
      } else {
        // Unquoted: up to the next delimiter or record delimiter; a quote inside is an error.
        let p = pos;
        while (p < len) {
          c = buf.charCodeAt(p);
          if (c === COMMA || c === CR || c === LF) break;
          if (c === QUOTE) {
            throw new CsvRecordsError(
              'INVALID_OPENING_QUOTE',
              `Invalid Opening Quote: a quote is found on field ${record.length} at line ${lines}, value is ${JSON.stringify(buf.slice(pos, p))}${buf.slice(pos, p) === '\uFEFF' ? ' (utf8 bom)' : ''}`,
              this.#records,
            );
          }
          p++;
        }
        if (p >= len) {
          if (!final) break;
          c = -1;
        }
        field = buf.slice(pos, p);
        pos = p;
        // An empty line (nothing before its record delimiter) is skipped, and still counted as a line.
        if (pos === recordStart && record.length === 0 && c !== COMMA) {
          if (c === -1) break;
          const delimiter = c === CR && pos + 1 < len && buf.charCodeAt(pos + 1) === LF ? 2 : 1;
          if (c === CR && pos + 1 >= len && !final) break; // \r then more text: maybe \r\n
          pos += delimiter;
          lines += 1;
          recordStart = pos;
          recordLines = lines;
          continue;
        }
      }
      record.push(field);
      if (c === COMMA) {
        pos += 1;
        continue;
      }
      if (c === -1) {
        // The end of the text ends the last record.
        this.#emit(record, lines);
        record = [];
        recordStart = pos;
        break;
      }
      // c is \r or \n: the record ends here.
      if (c === CR && pos + 1 >= len && !final) break; // maybe \r\n
      this.#emit(record, lines);
      pos += c === CR && pos + 1 < len && buf.charCodeAt(pos + 1) === LF ? 2 : 1;
      lines += 1;
      record = [];
      recordStart = pos;
      recordLines = lines;
    }
    this.#pending = recordStart < len ? buf.slice(recordStart) : '';
    this.#lines = recordLines;
  }

  #emit(record: string[], lines: number): void {
    if (this.#records === 0) this.#expectedLength = record.length;
    else if (record.length !== this.#expectedLength) {
      throw new CsvRecordsError(
        'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH',
        `Invalid Record Length: expect ${this.#expectedLength}, got ${record.length} on line ${lines}`,
        this.#records,
      );
    }
    this.#records++;
    this.#onRecord(record);
  }
}

/** How many \r and \n characters `buf` has in [from, to): csv-parse counts each as a line inside quotes. */
function newlinesIn(buf: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = buf.charCodeAt(i);
    if (c === LF || c === CR) n++;
  }
  return n;
}

/** csv-parse names the character after a bad closing quote by its first UTF-8 byte, as Latin-1. */
function firstByteAsChar(buf: string, at: number): string {
  const code = buf.codePointAt(at)!;
  if (code < 0x80) return String.fromCharCode(code);
  return String.fromCharCode(Buffer.from(String.fromCodePoint(code))[0]!);
}

/** Every record of a whole text (the same grammar, in one call). */
export function csvRecords(text: string): string[][] {
  const records: string[][] = [];
  const reader = new CsvRecords((record) => records.push(record));
  reader.push(text);
  reader.end();
  return records;
}
