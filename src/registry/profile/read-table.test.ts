import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ModelgateError } from '../../errors/modelgate-error.js';
import { readTable, type TableRecord } from './read-table.js';

const dir = mkdtempSync(join(tmpdir(), 'mg-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function readAll(path: string, maxBytes?: number): Promise<{ rows: TableRecord[]; lines: number[]; columns: readonly string[] }> {
  const reader = readTable(path, { maxBytes });
  const rows: TableRecord[] = [];
  const lines: number[] = [];
  for await (const r of reader) {
    rows.push({ ...r });
    lines.push(reader.line);
  }
  return { rows, lines, columns: reader.columns };
}

function rejectsWith(code: string, pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof ModelgateError, `expected a ModelgateError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  };
}

describe('readTable', () => {
  it('reads CSV rows as strings, with the null tokens as null', async () => {
    const p = file('nulls.csv', 'a,b,c\n1,NA,x\n,NaN, null \n"",null,"y, z"\n');
    const { rows, columns } = await readAll(p);
    assert.deepEqual(columns, ['a', 'b', 'c']);
    assert.deepEqual(rows, [
      { a: '1', b: null, c: 'x' },
      { a: null, b: null, c: null },
      { a: null, b: null, c: 'y, z' },
    ]);
  });

  it('reports the line a CSV row starts on, across quoted newlines, blank lines, CRLF and a BOM', async () => {
    const p = file('lines.csv', '\ufeffid,note\r\n1,"two\r\nlines"\r\n\r\n2,plain\r\n3,"a ""quoted"" word"\r\n');
    const { rows, lines, columns } = await readAll(p);
    assert.deepEqual(columns, ['id', 'note']);
    assert.deepEqual(rows, [
      { id: '1', note: 'two\r\nlines' },
      { id: '2', note: 'plain' },
      { id: '3', note: 'a "quoted" word' },
    ]);
    assert.deepEqual(lines, [2, 5, 6]);
    // Lone CRs and LFs inside quotes are line breaks too, as editors show them.
    const mixed = await readAll(file('mixed-breaks.csv', 'a,b\n1,"x\r\ny\r\nz"\n2,"c\rd"\n\n3,"e\nf"\n4,g\n'));
    assert.deepEqual(mixed.lines, [2, 5, 8, 10]);
  });

  it('names an empty CSV header cell as pandas does, and rejects a repeated one', async () => {
    const { columns } = await readAll(file('index.csv', ',x\n0,1\n'));
    assert.deepEqual(columns, ['Unnamed: 0', 'x']);
    await assert.rejects(readAll(file('dup.csv', 'x,y,x\n1,2,3\n')), rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /"x" more than once/));
  });

  it('computes the sha256 and size of the bytes it read', async () => {
    const content = 'a,b\n' + Array.from({ length: 5000 }, (_, i) => `${i},${i * 2}`).join('\n') + '\n';
    const p = file('hash.csv', content);
    const reader = readTable(p);
    assert.throws(() => reader.source(), /after all rows/);
    let n = 0;
    for await (const _ of reader) n++;
    assert.equal(n, 5000);
    assert.deepEqual(reader.source(), {
      format: 'csv',
      sha256: createHash('sha256').update(readFileSync(p)).digest('hex'),
      bytes: Buffer.byteLength(content),
    });
  });

  it('reads JSONL, skipping blank lines and keeping JSON types', async () => {
    const p = file('rows.jsonl', '{"a":1,"b":"x","c":true}\n\n  \n{"b":null,"d":{"k":[1]}}\r\n{"a":2.5}');
    const { rows, lines, columns } = await readAll(p);
    assert.deepEqual(columns, ['a', 'b', 'c', 'd']);
    assert.deepEqual(rows, [{ a: 1, b: 'x', c: true }, { b: null, d: '{"k":[1]}' }, { a: 2.5 }]);
    assert.deepEqual(lines, [1, 4, 5]);
  });

  it('takes .ndjson as JSONL, and the extension in any case', async () => {
    const reader = readTable(file('rows.NDJSON', '{"a":1}\n'));
    assert.equal(reader.format, 'jsonl');
    for await (const _ of reader) {
      // drain
    }
    assert.equal(reader.source().format, 'jsonl');
  });

  it('rejects other extensions with MG_ERR_REFERENCE_UNSUPPORTED_FORMAT', () => {
    assert.throws(() => readTable(join(dir, 'data.parquet')), rejectsWith('MG_ERR_REFERENCE_UNSUPPORTED_FORMAT', /"\.parquet"/));
    assert.throws(() => readTable(join(dir, 'data')), rejectsWith('MG_ERR_REFERENCE_UNSUPPORTED_FORMAT', /no extension/));
  });

  it('rejects an unclosed quote and a ragged row, naming the line', async () => {
    await assert.rejects(readAll(file('quote.csv', 'a,b\n1,2\n3,"4\n5,6\n')), rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /line \d+.*Quote Not Closed/));
    await assert.rejects(readAll(file('ragged.csv', 'a,b\n1,2\n3\n5,6\n')), (e) => {
      rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /not valid CSV at line 3/)(e);
      assert.deepEqual((e as ModelgateError).details, { line: 3 });
      return true;
    });
  });

  it('rejects a JSONL line that is not an object, or not JSON, naming the line', async () => {
    await assert.rejects(readAll(file('array.jsonl', '{"a":1}\n\n[1,2]\n')), rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /line 3 is an array/));
    await assert.rejects(readAll(file('scalar.jsonl', '{"a":1}\n42\n')), rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /line 2 is a number/));
    await assert.rejects(readAll(file('broken.jsonl', '{"a":1}\n{"a":\n')), rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /line 2 is not valid JSON/));
  });

  it('rejects a missing file as unreadable and a file over maxBytes as too large', async () => {
    await assert.rejects(readAll(join(dir, 'absent.csv')), rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /ENOENT/));
    const p = file('big.csv', 'a\n' + '1\n'.repeat(100));
    await assert.rejects(readAll(p, 100), rejectsWith('MG_ERR_REFERENCE_TOO_LARGE', /maxReferenceBytes \(100 bytes/));
    assert.equal((await readAll(p, 1000)).rows.length, 100);
  });

  it('can be abandoned part-way without leaking the file', async () => {
    const reader = readTable(file('stop.csv', 'a\n' + '1\n'.repeat(50_000)));
    let n = 0;
    for await (const _ of reader) if (++n === 10) break;
    assert.equal(reader.row, 10);
    assert.throws(() => reader.source(), /after all rows/);
  });
});
