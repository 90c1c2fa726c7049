// Streams the rows of a reference data file (CSV with a header row, or JSONL) without holding the file
// in memory, and fingerprints the bytes on the way through so the profile can name the exact file.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { CsvError, parse } from 'csv-parse';
import { ModelgateError } from '../../errors/modelgate-error.js';
import type { ProfileSource, TableFormat } from './types.js';

export type CellValue = string | number | boolean | null;
/** One row. Built without a prototype, so a column named e.g. "constructor" reads as its own value or undefined. */
export type TableRecord = Record<string, CellValue>;

export interface ReadTableOptions {
  /** Refuse files larger than this many bytes. */
  maxBytes?: number;
}

export interface TableReader extends AsyncIterable<TableRecord> {
  readonly path: string;
  readonly format: TableFormat;
  /**
   * Column names in file order: the CSV header (known once the first row is read), or for JSONL the keys
   * seen so far in first-seen order. A JSONL row lacking a key means null for that column.
   */
  readonly columns: readonly string[];
  /** 1-based data row number of the row most recently yielded (the CSV header is not a row). */
  readonly row: number;
  /** 1-based line of the file on which that row starts. */
  readonly line: number;
  /** The file's format, sha256 and size. Throws until the rows have been read to the end. */
  source(): ProfileSource;
}

/** CSV cells that mean "no value", compared after trimming. These are what pandas and R write for missing values. */
export const CSV_NULL_TOKENS: ReadonlySet<string> = new Set(['', 'NA', 'NaN', 'null']);

const FORMATS: Record<string, TableFormat> = { '.csv': 'csv', '.jsonl': 'jsonl', '.ndjson': 'jsonl' };

/** The table format a path's extension names; MG_ERR_REFERENCE_UNSUPPORTED_FORMAT for anything else. */
export function tableFormatOf(path: string): TableFormat {
  const ext = extname(path).toLowerCase();
  const format = FORMATS[ext];
  if (format === undefined) {
    throw new ModelgateError(
      'MG_ERR_REFERENCE_UNSUPPORTED_FORMAT',
      `Reference data "${basename(path)}" has ${ext ? `the extension "${ext}"` : 'no extension'}; it must be .csv, .jsonl or .ndjson.`,
    );
  }
  return format;
}

/**
 * Opens a reference data file for reading. The format comes from the extension, checked here; the file
 * itself is opened when iteration starts, and a reader can be iterated once.
 */
export function readTable(path: string, options: ReadTableOptions = {}): TableReader {
  return new StreamingTableReader(path, tableFormatOf(path), options);
}

function isNullCell(cell: string): boolean {
  // Most cells are neither short nor padded, so the trim and the set lookup are skipped for them.
  const padded = cell.length > 0 && (cell.charCodeAt(0) <= 32 || cell.charCodeAt(cell.length - 1) <= 32);
  const text = padded ? cell.trim() : cell;
  return text.length <= 4 && CSV_NULL_TOKENS.has(text);
}

/** Line breaks inside a quoted field, counting CRLF, CR and LF each as one, as editors do. */
function lineBreaks(field: string): number {
  if (field.indexOf('\n') === -1 && field.indexOf('\r') === -1) return 0;
  let n = 0;
  for (let i = 0; i < field.length; i++) {
    const c = field.charCodeAt(i);
    if (c === 10 || (c === 13 && field.charCodeAt(i + 1) !== 10)) n++;
  }
  return n;
}

function unreadable(message: string, details?: Record<string, unknown>, cause?: unknown): ModelgateError {
  return new ModelgateError('MG_ERR_REFERENCE_UNREADABLE', message, details, cause === undefined ? undefined : { cause });
}

class StreamingTableReader implements TableReader {
  readonly format: TableFormat;
  private readonly cols: string[] = [];
  private rowNo = 0;
  private lineNo = 0;
  private started = false;
  private finished: ProfileSource | undefined;
  private readonly name: string;

  constructor(
    readonly path: string,
    format: TableFormat,
    private readonly options: ReadTableOptions,
  ) {
    this.format = format;
    this.name = basename(path);
  }

  get columns(): readonly string[] {
    return this.cols;
  }

  get row(): number {
    return this.rowNo;
  }

  get line(): number {
    return this.lineNo;
  }

  source(): ProfileSource {
    if (!this.finished) throw new Error(`readTable(${this.path}): source() is known only after all rows have been read`);
    return this.finished;
  }

  [Symbol.asyncIterator](): AsyncIterator<TableRecord> {
    if (this.started) throw new Error(`readTable(${this.path}): a table reader can be iterated only once`);
    this.started = true;
    return this.format === 'csv' ? this.csvRows() : this.jsonlRows();
  }

  /** The file's bytes, hashed and counted as they pass; records the source once the last byte is through. */
  private async *bytes(): AsyncGenerator<Buffer> {
    const { maxBytes } = this.options;
    let size: number;
    try {
      const info = await stat(this.path);
      if (!info.isFile()) throw unreadable(`Reference data "${this.path}" is not a file.`);
      size = info.size;
    } catch (e) {
      if (e instanceof ModelgateError) throw e;
      throw unreadable(`Cannot read reference data "${this.path}": ${(e as Error).message}`, undefined, e);
    }
    // Checked before reading so an oversized upload fails at once, and again while reading since the file may grow.
    if (maxBytes !== undefined && size > maxBytes) throw this.tooLarge(size, maxBytes);
    const hash = createHash('sha256');
    let total = 0;
    const stream = createReadStream(this.path);
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        hash.update(chunk);
        total += chunk.length;
        if (maxBytes !== undefined && total > maxBytes) throw this.tooLarge(total, maxBytes);
        yield chunk;
      }
    } catch (e) {
      if (e instanceof ModelgateError) throw e;
      throw unreadable(`Cannot read reference data "${this.path}": ${(e as Error).message}`, undefined, e);
    } finally {
      stream.destroy();
    }
    this.finished = { format: this.format, sha256: hash.digest('hex'), bytes: total };
  }

  private tooLarge(bytes: number, maxBytes: number): ModelgateError {
    return new ModelgateError('MG_ERR_REFERENCE_TOO_LARGE', `Reference data "${this.name}" is larger than registry.maxReferenceBytes (${maxBytes} bytes; the file has at least ${bytes}). Sample it down or raise the limit.`, {
      maxBytes,
    });
  }

  private async *csvRows(): AsyncGenerator<TableRecord> {
    // relax_quotes lets a quote inside an unquoted field through (e.g. 5'11" heights), as pandas does;
    // an opening quote that is never closed is still an error. Field counts and blank lines are checked
    // here rather than by csv-parse so that lines can be counted here too: csv-parse's own line count
    // needs its per-record info objects, which double the parsing time, and it counts a CRLF inside a
    // quoted field as two lines.
    const parser = parse({ bom: true, relax_quotes: true, relax_column_count: true });
    // Any failure (a read error, an oversized file, a stop by the consumer) destroys the parser with it,
    // so errors surface through the iteration below and the callback has nothing left to do.
    pipeline(Readable.from(this.bytes()), parser, () => {});
    let header: string[] | undefined;
    let nextLine = 1;
    try {
      for await (const record of parser as AsyncIterable<string[]>) {
        const line = nextLine;
        nextLine += 1;
        for (const field of record) nextLine += lineBreaks(field);
        // Blank lines are skipped, as pandas does; in a one-column file that includes a lone empty cell.
        if (record.length === 1 && record[0] === '') continue;
        if (header === undefined) {
          header = this.readHeader(record);
          continue;
        }
        if (record.length !== header.length) {
          throw unreadable(
            `Reference data "${this.name}" is not valid CSV at line ${line}: the row has ${record.length} field${record.length === 1 ? '' : 's'} but the header has ${header.length}.`,
            { line },
          );
        }
        this.lineNo = line;
        this.rowNo++;
        const out: TableRecord = Object.create(null) as TableRecord;
        for (let i = 0; i < header.length; i++) {
          const cell = record[i] as string;
          out[header[i] as string] = isNullCell(cell) ? null : cell;
        }
        yield out;
      }
    } catch (e) {
      throw this.csvError(e);
    }
  }

  private readHeader(record: string[]): string[] {
    const seen = new Set<string>();
    return record.map((raw, i) => {
      // pandas writes its index column with an empty header and reads it back as "Unnamed: <i>".
      const name = raw === '' ? `Unnamed: ${i}` : raw;
      if (seen.has(name)) {
        throw unreadable(`Reference data "${this.name}": the header names the column "${name}" more than once.`, { line: 1, column: name });
      }
      seen.add(name);
      this.cols.push(name);
      return name;
    });
  }

  private csvError(e: unknown): unknown {
    if (e instanceof ModelgateError) return e;
    if (e instanceof CsvError) {
      const line = typeof e.lines === 'number' ? e.lines : undefined;
      return unreadable(
        `Reference data "${this.name}" is not valid CSV${line === undefined ? '' : ` at line ${line}`}: ${e.message}`,
        line === undefined ? undefined : { line },
        e,
      );
    }
    return e;
  }

  private async *jsonlRows(): AsyncGenerator<TableRecord> {
    const decoder = new StringDecoder('utf8');
    const seen = new Set<string>();
    let pending = '';
    let lineNo = 0;
    const parseLine = (text: string): TableRecord | undefined => {
      lineNo++;
      if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text.trim() === '') return undefined;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        throw unreadable(`Reference data "${this.name}" line ${lineNo} is not valid JSON: ${(e as Error).message}`, { line: lineNo }, e);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
        throw unreadable(`Reference data "${this.name}" line ${lineNo} is ${kind}; each line must be one JSON object.`, { line: lineNo });
      }
      const out: TableRecord = Object.create(null) as TableRecord;
      for (const [key, v] of Object.entries(value)) {
        if (!seen.has(key)) {
          seen.add(key);
          this.cols.push(key);
        }
        // Nested values are not features a tabular model takes; keeping them as JSON text lets files with
        // extra nested fields through, and profiles them as categories if they are asked for.
        out[key] = v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v);
      }
      this.rowNo++;
      this.lineNo = lineNo;
      return out;
    };

    for await (const chunk of this.bytes()) {
      pending += decoder.write(chunk);
      let start = 0;
      for (let nl = pending.indexOf('\n', start); nl !== -1; nl = pending.indexOf('\n', start)) {
        const end = nl > start && pending.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        const rec = parseLine(pending.slice(start, end));
        start = nl + 1;
        if (rec) yield rec;
      }
      pending = pending.slice(start);
    }
    pending += decoder.end();
    if (pending !== '') {
      const rec = parseLine(pending.endsWith('\r') ? pending.slice(0, -1) : pending);
      if (rec) yield rec;
    }
  }
}
