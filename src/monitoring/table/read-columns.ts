// Reads a whole CSV or JSONL data file into typed columns, for drift comparisons of large files: numbers go
// straight from the file's bytes into one Float64Array per column, with no string or record per cell.
//
// It follows read-table.ts (the row reader the profiles use) in what a file means: the same null tokens,
// BOM, blank lines skipped, "Unnamed: <i>" for an empty header cell, quotes let through inside unquoted
// fields, and the same decimal-only rule for what counts as a number (cellNumber). Measured against
// csv-parse in bench-read.ts, which is why the CSV parser is written here rather than taken from a library.
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { ModelgateError } from '../../errors/index.js';
import { cellNumber } from '../../registry/profile/compute-profile.js';
import { CSV_NULL_TOKENS, tableFormatOf } from '../../registry/profile/read-table.js';

export interface Column {
  name: string;
  /** Numbers when every non-missing value parses as a finite number, NaN for missing. A column with no values at all is numbers (all NaN). */
  numbers: Float64Array | null;
  /** Otherwise the values as text (null for missing). */
  strings: (string | null)[] | null;
  missing: number;
}

export interface ColumnTable {
  rows: number;
  columns: Column[];
  format: 'csv' | 'jsonl';
  /** The file's size in bytes as read. */
  bytes: number;
}

export interface ReadColumnsOptions {
  /** Read only these columns, in this order; MG_ERR_REFERENCE_MISSING_COLUMN if the file lacks one. */
  columns?: string[];
  /**
   * Force a column's type. 'string' keeps every value as text (and skips number parsing); 'number' refuses
   * a value that is not a number with MG_ERR_REFERENCE_NON_NUMERIC instead of turning the column to text.
   */
  types?: Record<string, 'number' | 'string'>;
  /** Refuse files larger than this many bytes (MG_ERR_REFERENCE_TOO_LARGE). */
  maxBytes?: number;
}

/** Reads the file at `path` (format by extension: .csv, .jsonl, .ndjson) into typed columns. */
export async function readColumns(path: string, options: ReadColumnsOptions = {}): Promise<ColumnTable> {
  return readColumnsInChunks(path, options, CHUNK);
}

/** readColumns reading `chunkBytes` at a time; tests use small chunks to put records across chunk boundaries. */
export async function readColumnsInChunks(path: string, options: ReadColumnsOptions, chunkBytes: number): Promise<ColumnTable> {
  const format = tableFormatOf(path);
  for (const name of Object.keys(options.types ?? {})) {
    if (options.columns !== undefined && !options.columns.includes(name)) {
      throw new ModelgateError('MG_ERR_REFERENCE_MISSING_COLUMN', `readColumns: types names the column "${name}", which is not among the columns asked for. Add it to columns or drop it from types.`, { column: name });
    }
  }
  const table = format === 'csv' ? await readCsv(path, options, chunkBytes) : await readJsonl(path, options, chunkBytes);
  if (table.rows === 0) {
    throw new ModelgateError('MG_ERR_REFERENCE_EMPTY', `Data file "${path}" has no rows${format === 'csv' ? ' below its header' : ''}. Give a file with at least one row of data.`);
  }
  return table;
}

// ---------------------------------------------------------------------------------------------------------
// Column storage

const NUMBER = 0;
const STRING = 1;
/** Turned to text after numbers were stored: the numbers' original text is gone, so the column is read again. */
const REREAD = 2;

class ColumnBuilder {
  kind: number;
  nums: Float64Array;
  strs: (string | null)[] = [];

  constructor(
    readonly name: string,
    readonly forced: 'number' | 'string' | undefined,
    capacity: number,
  ) {
    this.kind = forced === 'string' ? STRING : NUMBER;
    this.nums = new Float64Array(this.kind === NUMBER ? capacity : 0);
  }

  /**
   * Row `row` holds a value that is not a number: text from here on. With `reread` (CSV), a column that
   * already holds numbers is marked to be read again, since their text ("1.50", "007") is gone; otherwise
   * the numbers so far become their shortest text, as cellCategory writes them.
   */
  toText(row: number, reread: boolean): void {
    let anyNumber = false;
    for (let i = 0; i < row; i++) {
      if (this.nums[i] === this.nums[i]) {
        anyNumber = true;
        break;
      }
    }
    if (anyNumber && reread) {
      this.kind = REREAD;
    } else {
      const strs = new Array<string | null>(row);
      for (let i = 0; i < row; i++) {
        const v = this.nums[i] as number;
        strs[i] = v === v ? String(v) : null;
      }
      this.strs = strs;
      this.kind = STRING;
    }
    this.nums = new Float64Array(0);
  }

  finish(rows: number): Column {
    let missing = 0;
    if (this.kind === NUMBER) {
      let nums = this.nums;
      for (let i = 0; i < rows; i++) if (nums[i] !== nums[i]) missing++;
      // A view when the estimate was close, a copy when it left much unused, so a column costs about 8 bytes a cell.
      nums = nums.length - rows > nums.length >> 4 ? nums.slice(0, rows) : nums.subarray(0, rows);
      return { name: this.name, numbers: nums, strings: null, missing };
    }
    const strs = this.strs;
    strs.length = rows;
    for (let i = 0; i < rows; i++) if (strs[i] === null) missing++;
    return { name: this.name, numbers: null, strings: strs, missing };
  }
}

function grow(b: ColumnBuilder, rows: number, capacity: number): void {
  const next = new Float64Array(capacity);
  next.set(b.nums.subarray(0, rows));
  b.nums = next;
}

function unreadable(message: string, details?: Record<string, unknown>, cause?: unknown): ModelgateError {
  return new ModelgateError('MG_ERR_REFERENCE_UNREADABLE', message, details, cause === undefined ? undefined : { cause });
}

function nonNumeric(path: string, column: string, line: number, text: string): ModelgateError {
  return new ModelgateError(
    'MG_ERR_REFERENCE_NON_NUMERIC',
    `Data file "${basename(path)}" line ${line}: the column "${column}" must hold numbers but has ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}. Clean the column or read it as text.`,
    { line, column },
  );
}

/** The wanted names must all be in the file; returns them in the order asked for, or the file's order. */
function selectColumns(path: string, available: readonly string[], options: ReadColumnsOptions): string[] {
  const wanted = options.columns ?? [...available];
  const have = new Set(available);
  for (const name of [...wanted, ...Object.keys(options.types ?? {})]) {
    if (!have.has(name)) {
      throw new ModelgateError(
        'MG_ERR_REFERENCE_MISSING_COLUMN',
        `Data file "${basename(path)}" has no column "${name}" (it has ${available.length > 12 ? `${available.slice(0, 12).join(', ')}, …` : available.join(', ')}). Add the column or correct the column list.`,
        { column: name },
      );
    }
  }
  return wanted;
}

// ---------------------------------------------------------------------------------------------------------
// Reading the file in chunks

const CHUNK = 4 * 1024 * 1024;

/**
 * Feeds the file to `consume` in chunks. consume(buf, end, eof) parses complete records from buf[0, end)
 * and returns where the first incomplete one starts; those bytes are carried to the front of the next read.
 * buf[end] is always 0.
 */
async function scanFile(
  path: string,
  maxBytes: number | undefined,
  consume: (buf: Buffer, end: number, eof: boolean) => number,
  onSize: ((bytes: number) => void) | undefined,
  chunkBytes: number,
): Promise<number> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw unreadable(`Cannot read data file "${path}": ${(e as Error).message}. Check the path and that the file is readable.`, undefined, e);
  }
  try {
    const info = await fh.stat();
    if (!info.isFile()) throw unreadable(`Data file "${path}" is not a file. Give the path of a .csv or .jsonl file.`);
    if (maxBytes !== undefined && info.size > maxBytes) throw tooLarge(path, info.size, maxBytes);
    onSize?.(info.size);
    // One byte more than is read, for the parsers' 0 sentinel after the last byte.
    let buf = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, info.size + 1)) + 1);
    let carry = 0;
    let total = 0;
    for (;;) {
      // A record longer than the buffer: make room for it.
      if (carry === buf.length - 1) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(buf, carry, buf.length - 1 - carry, null));
      } catch (e) {
        throw unreadable(`Cannot read data file "${path}": ${(e as Error).message}.`, undefined, e);
      }
      total += bytesRead;
      // Checked again while reading since the file may grow.
      if (maxBytes !== undefined && total > maxBytes) throw tooLarge(path, total, maxBytes);
      const end = carry + bytesRead;
      const eof = bytesRead === 0;
      buf[end] = 0;
      const used = consume(buf, end, eof);
      if (eof) return total;
      buf.copyWithin(0, used, end);
      carry = end - used;
    }
  } finally {
    await fh.close();
  }
}

function tooLarge(path: string, bytes: number, maxBytes: number): ModelgateError {
  return new ModelgateError('MG_ERR_REFERENCE_TOO_LARGE', `Data file "${basename(path)}" is larger than the limit of ${maxBytes} bytes (the file has at least ${bytes}). Sample it down or raise the limit.`, {
    maxBytes,
  });
}

// ---------------------------------------------------------------------------------------------------------
// CSV

const LF = 10;
const CR = 13;
const QUOTE = 34;
const COMMA = 44;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const LOWER_E = 101;
const UPPER_E = 69;

/** Exactly representable powers of ten: m × 10^e and m / 10^e are correctly rounded for m < 2^53 and e ≤ 22 (Clinger's fast path). */
const POW10 = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

function isNullText(text: string): boolean {
  const padded = text.length > 0 && (text.charCodeAt(0) <= 32 || text.charCodeAt(text.length - 1) <= 32);
  const t = padded ? text.trim() : text;
  return t.length <= 4 && CSV_NULL_TOKENS.has(t);
}

async function readCsv(path: string, options: ReadColumnsOptions, chunkBytes: number): Promise<ColumnTable> {
  const parser = new CsvColumnParser(path, options);
  const bytes = await scanFile(path, options.maxBytes, (buf, end, eof) => parser.consume(buf, end, eof), (size) => (parser.fileSize = size), chunkBytes);
  const table = parser.finish(bytes);
  const reread = parser.rereadColumns();
  if (reread.length > 0) {
    // These columns turned to text after numbers had been stored; read them again as text so every value
    // keeps its exact text ("1.50", "007"), as read-table gives it.
    const types: Record<string, 'string'> = {};
    for (const name of reread) types[name] = 'string';
    const again = new CsvColumnParser(path, { columns: reread, types });
    const againBytes = await scanFile(path, options.maxBytes, (buf, end, eof) => again.consume(buf, end, eof), (size) => (again.fileSize = size), chunkBytes);
    const texts = again.finish(againBytes);
    if (texts.rows !== table.rows) throw unreadable(`Data file "${path}" changed while it was being read. Read it again once it is complete.`);
    const byName = new Map(texts.columns.map((c) => [c.name, c]));
    table.columns = table.columns.map((c) => byName.get(c.name) ?? c);
  }
  return table;
}

class CsvColumnParser {
  /** The file's size when opened, for estimating how many rows it holds. */
  fileSize = 0;
  private readonly name: string;
  private header: string[] | undefined;
  /** One slot per field of the file: the builder, or undefined for a column not asked for (or read again later). */
  private slots: (ColumnBuilder | undefined)[] = [];
  private builders: ColumnBuilder[] = [];
  private rows = 0;
  private capacity = 0;
  /** The line the next record starts on. */
  private line = 1;
  /** Line breaks seen inside quoted fields of the record being parsed. */
  private pendingLines = 0;
  private started = false;
  /** The file offset of buf[0] in the current consume(). */
  private offset = 0;
  /** The file offset where the rows start. */
  private dataStart = 0;

  constructor(
    private readonly path: string,
    private readonly options: ReadColumnsOptions,
  ) {
    this.name = basename(path);
  }

  rereadColumns(): string[] {
    return this.builders.filter((b) => b.kind === REREAD).map((b) => b.name);
  }

  finish(bytes: number): ColumnTable {
    if (this.header === undefined) {
      throw new ModelgateError('MG_ERR_REFERENCE_EMPTY', `Data file "${this.path}" is empty: it has no header row. Give a CSV file with a header row and at least one row of data.`);
    }
    return { rows: this.rows, columns: this.builders.map((b) => b.finish(this.rows)), format: 'csv', bytes };
  }

  consume(buf: Buffer, end: number, eof: boolean): number {
    let pos = 0;
    if (!this.started) {
      if (end < 3 && !eof) return 0;
      this.started = true;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
    }
    if (this.header === undefined) pos = this.readHeader(buf, pos, end, eof);
    if (this.header !== undefined) pos = this.readRows(buf, pos, end, eof);
    this.offset += pos;
    return pos;
  }

  /** Parses the header record if it is complete; returns where parsing stopped. */
  private readHeader(buf: Buffer, pos: number, end: number, eof: boolean): number {
    let p = pos;
    // Blank lines before the header are skipped, as they are between rows.
    for (;;) {
      if (p < end && buf[p] === LF) {
        p++;
        this.line++;
      } else if (p + 1 < end && buf[p] === CR && buf[p + 1] === LF) {
        p += 2;
        this.line++;
      } else break;
    }
    const recordStart = p;
    if (p >= end) return eof ? end : p;
    this.pendingLines = 0;
    const fields: string[] = [];
    for (;;) {
      const f = this.textField(buf, p, end, eof);
      if (f === undefined) return recordStart;
      fields.push(f.text);
      p = f.next;
      if (f.last) break;
    }
    const seen = new Set<string>();
    const header = fields.map((raw, i) => {
      // pandas writes its index column with an empty header and reads it back as "Unnamed: <i>".
      const name = raw === '' ? `Unnamed: ${i}` : raw;
      if (seen.has(name)) throw unreadable(`Data file "${this.name}": the header names the column "${name}" more than once. Rename one of them.`, { line: this.line, column: name });
      seen.add(name);
      return name;
    });
    this.line += 1 + this.pendingLines;
    this.pendingLines = 0;
    const wanted = selectColumns(this.path, header, this.options);
    const types = this.options.types ?? {};
    this.dataStart = this.offset + Math.min(p, end);
    this.capacity = 1024;
    const byName = new Map<string, ColumnBuilder>();
    for (const name of wanted) byName.set(name, new ColumnBuilder(name, types[name], this.capacity));
    this.builders = wanted.map((n) => byName.get(n) as ColumnBuilder);
    this.slots = header.map((n) => byName.get(n));
    this.header = header;
    return Math.min(p, end);
  }

  /**
   * One field as text, starting at p. `next` is where the following field (or record) starts; `last` says
   * the field ended its record. Undefined when the field runs past `end` before the file's end.
   */
  private textField(buf: Buffer, p: number, end: number, eof: boolean): { text: string; next: number; last: boolean } | undefined {
    if (p < end && buf[p] === QUOTE) {
      const q = this.quotedField(buf, p, end, eof);
      if (q !== null) return q;
      // A quote that does not close the field: the whole field is plain text, quotes and all (csv-parse's relax_quotes).
    }
    let e = p;
    while (e < end && buf[e] !== COMMA && buf[e] !== LF) e++;
    if (e === end && !eof) return undefined;
    const last = e >= end || buf[e] === LF;
    let textEnd = e;
    if (last && textEnd > p && buf[textEnd - 1] === CR) textEnd--;
    return { text: buf.toString('utf8', p, textEnd), next: e + 1, last };
  }

  /**
   * A quoted field starting at the quote at p. Undefined when incomplete, null when the closing quote is
   * followed by more text (then the field is read as plain text).
   */
  private quotedField(buf: Buffer, p: number, end: number, eof: boolean): { text: string; next: number; last: boolean } | undefined | null {
    let i = p + 1;
    let segStart = i;
    let text = '';
    let lines = 0;
    for (;;) {
      while (i < end && buf[i] !== QUOTE) {
        const c = buf[i];
        // CRLF, lone CR and LF each count as one line, as editors count them.
        if (c === LF || (c === CR && buf[i + 1] !== LF)) lines++;
        i++;
      }
      if (i >= end) {
        if (!eof) return undefined;
        throw unreadable(`Data file "${this.name}" is not valid CSV at line ${this.line}: a quoted field is never closed. Close the quote, or write a quote inside a quoted field as "".`, { line: this.line });
      }
      // i is at a quote: an escaped quote when another follows, else the closing quote.
      if (i + 1 >= end && !eof) return undefined;
      if (buf[i + 1] === QUOTE) {
        text += buf.toString('utf8', segStart, i + 1);
        i += 2;
        segStart = i;
        continue;
      }
      text += buf.toString('utf8', segStart, i);
      let after = i + 1;
      if (after < end && buf[after] === CR) {
        if (after + 1 >= end && !eof) return undefined;
        if (after + 1 >= end || buf[after + 1] === LF) after++;
      }
      if (after >= end) {
        this.pendingLines += lines;
        return { text, next: after + 1, last: true };
      }
      const c = buf[after];
      if (c === COMMA || c === LF) {
        this.pendingLines += lines;
        return { text, next: after + 1, last: c === LF };
      }
      return null;
    }
  }

  private readRows(buf: Buffer, start: number, end: number, eof: boolean): number {
    let slots = this.slots;
    const nfields = slots.length;
    let pos = start;
    let rows = this.rows;
    records: while (pos < end) {
      const recordStart = pos;
      let c = buf[pos] as number;
      // Blank lines are skipped, as pandas and read-table do.
      if (c === LF) {
        pos++;
        this.line++;
        continue;
      }
      if (c === CR) {
        if (pos + 1 >= end && !eof) break;
        if (pos + 1 >= end || buf[pos + 1] === LF) {
          pos += pos + 1 >= end ? 1 : 2;
          this.line++;
          continue;
        }
      }
      if (rows >= this.capacity) this.growTo(rows, this.offset + pos - this.dataStart);
      this.pendingLines = 0;
      slots = this.slots;
      let field = 0;
      for (;;) {
        const b = field < nfields ? slots[field] : undefined;
        let p = pos;
        // buf[end] is a 0 sentinel, so the loops below stop at the end of the bytes without a bounds test.
        c = buf[p] as number;
        if (b !== undefined && b.kind === NUMBER && c !== QUOTE) {
          // The fast path: a plain decimal number parsed from the bytes. An empty field is missing.
          if (c === COMMA) {
            b.nums[rows] = NaN;
            field++;
            pos = p + 1;
            continue;
          }
          let neg = false;
          if (c === MINUS) {
            neg = true;
            c = buf[++p] as number;
          } else if (c === PLUS) {
            c = buf[++p] as number;
          }
          let m = 0;
          let digits = 0;
          let scale = 0;
          while (c >= ZERO && c <= NINE) {
            m = m * 10 + (c - ZERO);
            digits++;
            c = buf[++p] as number;
          }
          if (c === DOT) {
            c = buf[++p] as number;
            while (c >= ZERO && c <= NINE) {
              m = m * 10 + (c - ZERO);
              digits++;
              scale--;
              c = buf[++p] as number;
            }
          }
          let ok = digits > 0 && digits <= 15;
          if (ok && (c === LOWER_E || c === UPPER_E)) {
            c = buf[++p] as number;
            let eneg = false;
            if (c === MINUS) {
              eneg = true;
              c = buf[++p] as number;
            } else if (c === PLUS) {
              c = buf[++p] as number;
            }
            let ex = 0;
            let exDigits = 0;
            while (c >= ZERO && c <= NINE && exDigits < 6) {
              ex = ex * 10 + (c - ZERO);
              exDigits++;
              c = buf[++p] as number;
            }
            if (exDigits === 0) ok = false;
            scale += eneg ? -ex : ex;
          }
          if (ok && scale >= -22 && scale <= 22) {
            let last = false;
            let next = -1;
            if (c === COMMA) next = p + 1;
            else if (c === LF) {
              next = p + 1;
              last = true;
            } else if (c === CR && p + 1 < end && buf[p + 1] === LF) {
              next = p + 2;
              last = true;
            } else if (c === 0 && p >= end && eof) {
              next = end + 1;
              last = true;
            } else if (c === CR && p + 1 >= end && eof) {
              next = end + 1;
              last = true;
            }
            if (next !== -1) {
              const v = scale >= 0 ? m * (POW10[scale] as number) : m / (POW10[-scale] as number);
              b.nums[rows] = neg ? -v : v;
              field++;
              pos = next;
              if (last) break;
              continue;
            }
            if ((c === 0 && p >= end) || (c === CR && p + 1 >= end)) {
              // Ran off the bytes read so far: the record is finished in the next chunk.
              pos = recordStart;
              break records;
            }
          }
          // Anything else (padding, a null token, 16+ digits, a huge exponent, text) takes the text path.
          p = pos;
        } else if (b === undefined && c !== QUOTE) {
          // A column not asked for (or a field beyond the header): only find its end.
          while (p < end && (c = buf[p] as number) !== COMMA && c !== LF) p++;
          if (p >= end && !eof) {
            pos = recordStart;
            break records;
          }
          field++;
          pos = p + 1;
          if (p >= end || c === LF) break;
          continue;
        }
        const f = this.textField(buf, p, end, eof);
        if (f === undefined) {
          pos = recordStart;
          break records;
        }
        if (b !== undefined) this.storeText(b, rows, f.text);
        field++;
        pos = f.next;
        if (f.last) break;
      }
      if (field !== nfields) {
        throw unreadable(
          `Data file "${this.name}" is not valid CSV at line ${this.line}: the row has ${field} field${field === 1 ? '' : 's'} but the header has ${nfields}. Give every row as many fields as the header.`,
          { line: this.line },
        );
      }
      rows++;
      this.rows = rows;
      this.line += 1 + this.pendingLines;
    }
    this.pendingLines = 0;
    return Math.min(pos, end);
  }

  /**
   * Makes room for more rows. The new size is the file's rows as estimated from the bytes per row so far,
   * so a file of similar rows is stored in one or two allocations rather than a chain of doublings.
   */
  private growTo(rows: number, dataBytes: number): void {
    let target = Math.ceil(rows * 1.5) + 1024;
    if (rows > 0 && dataBytes > 0 && this.fileSize > 0) {
      const estimate = Math.ceil(((this.fileSize - this.dataStart) / dataBytes) * rows * 1.02) + 1024;
      if (estimate > rows) target = estimate;
    }
    for (const b of this.builders) if (b.kind === NUMBER) grow(b, rows, target);
    this.capacity = target;
  }

  private storeText(b: ColumnBuilder, row: number, text: string): void {
    if (b.kind === STRING) {
      b.strs[row] = isNullText(text) ? null : text;
      return;
    }
    if (b.kind === REREAD) return;
    if (isNullText(text)) {
      b.nums[row] = NaN;
      return;
    }
    const n = cellNumber(text);
    if (n !== undefined) {
      b.nums[row] = n;
      return;
    }
    if (b.forced === 'number') throw nonNumeric(this.path, b.name, this.line, text);
    b.toText(row, true);
    if (b.kind === STRING) b.strs[row] = text;
    // A column to be read again is skipped for the rest of this pass.
    else this.slots = this.slots.map((s) => (s === b ? undefined : s));
  }
}

// ---------------------------------------------------------------------------------------------------------
// JSONL

async function readJsonl(path: string, options: ReadColumnsOptions, chunkBytes: number): Promise<ColumnTable> {
  const name = basename(path);
  const types = options.types ?? {};
  const wanted = options.columns === undefined ? undefined : new Set(options.columns);
  const byName = new Map<string, ColumnBuilder>();
  const order: ColumnBuilder[] = [];
  let rows = 0;
  let line = 0;
  let capacity = 1024;
  let started = false;

  const store = (b: ColumnBuilder, v: unknown): void => {
    if (v === null) {
      if (b.kind === NUMBER) b.nums[rows] = NaN;
      else b.strs[rows] = null;
      return;
    }
    if (typeof v === 'number' && b.kind === NUMBER) {
      b.nums[rows] = v;
      return;
    }
    // Nested values are kept as JSON text, as read-table does.
    const text = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
    if (b.kind === NUMBER) {
      if (b.forced === 'number') throw nonNumeric(path, b.name, line, text);
      b.toText(rows, false);
    }
    b.strs[rows] = text;
  };

  const parseLine = (buf: Buffer, s: number, e: number): void => {
    line++;
    if (e > s && buf[e - 1] === CR) e--;
    const text = buf.toString('utf8', s, e);
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw unreadable(`Data file "${name}" line ${line} is not valid JSON: ${(err as Error).message}. Give one JSON object per line.`, { line }, err);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
      throw unreadable(`Data file "${name}" line ${line} is ${kind}; each line must be one JSON object.`, { line });
    }
    if (rows >= capacity) {
      capacity = Math.ceil(capacity * 1.5);
      for (const b of order) if (b.kind === NUMBER) grow(b, rows, capacity);
    }
    const seen = order.length;
    for (const key in value) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      if (wanted !== undefined && !wanted.has(key)) continue;
      let b = byName.get(key);
      if (b === undefined) {
        // A column first seen now: missing in every row before this one.
        b = new ColumnBuilder(key, types[key], capacity);
        if (b.kind === NUMBER) b.nums.fill(NaN, 0, rows);
        else b.strs = new Array<string | null>(rows).fill(null);
        byName.set(key, b);
        order.push(b);
      }
      store(b, (value as Record<string, unknown>)[key]);
    }
    // Keys a row lacks are missing in it. Mark every column missing unless this row set it: cheaper to do
    // by comparing a row stamp than to track which keys appeared.
    if (order.length > 0) markAbsent(order, seen, value as Record<string, unknown>, rows);
    rows++;
  };

  const bytes = await scanFile(path, options.maxBytes, (buf, end, eof) => consumeLines(buf, end, eof), undefined, chunkBytes);
  function consumeLines(buf: Buffer, end: number, eof: boolean): number {
    let pos = 0;
    if (!started) {
      if (end < 3 && !eof) return 0;
      started = true;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
    }
    const view = buf.subarray(0, end);
    for (let nl = view.indexOf(LF, pos); nl !== -1; nl = view.indexOf(LF, pos)) {
      parseLine(buf, pos, nl);
      pos = nl + 1;
    }
    if (eof && pos < end) {
      parseLine(buf, pos, end);
      pos = end;
    }
    return pos;
  }

  const columns = options.columns ?? order.map((b) => b.name);
  for (const c of [...columns, ...Object.keys(types)]) {
    if (!byName.has(c)) {
      if (rows === 0) break;
      throw new ModelgateError('MG_ERR_REFERENCE_MISSING_COLUMN', `Data file "${name}" has no key "${c}" on any line. Add the column or correct the column list.`, { column: c });
    }
  }
  return { rows, columns: columns.filter((c) => byName.has(c)).map((c) => (byName.get(c) as ColumnBuilder).finish(rows)), format: 'jsonl', bytes };
}

/** Sets missing, in row `row`, every column (among the first `known`, which existed before the row) the object lacks. */
function markAbsent(order: ColumnBuilder[], known: number, value: Record<string, unknown>, row: number): void {
  for (let i = 0; i < known; i++) {
    const b = order[i] as ColumnBuilder;
    if (Object.prototype.hasOwnProperty.call(value, b.name)) continue;
    if (b.kind === NUMBER) b.nums[row] = NaN;
    else b.strs[row] = null;
  }
}
