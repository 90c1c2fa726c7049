import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ModelgateError } from '../../errors/index.js';
import { mulberry32 } from '../../random.js';
import { cellNumber } from '../../registry/profile/compute-profile.js';
import { readTable } from '../../registry/profile/read-table.js';
import { readColumns, readColumnsInChunks, type Column, type ColumnTable, type ReadColumnsOptions } from './read-columns.js';

const dir = mkdtempSync(join(tmpdir(), 'mg-cols-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(ext: string, content: string): string {
  const p = join(dir, `t${n++}${ext}`);
  writeFileSync(p, content);
  return p;
}

/** The columns as plain values (null for missing) keyed by name, with each column's type. */
function plain(t: ColumnTable): Record<string, { type: 'number' | 'string'; values: (number | string | null)[]; missing: number }> {
  const out: Record<string, { type: 'number' | 'string'; values: (number | string | null)[]; missing: number }> = {};
  for (const c of t.columns) out[c.name] = { type: c.numbers ? 'number' : 'string', values: values(c), missing: c.missing };
  return out;
}

function values(c: Column): (number | string | null)[] {
  if (c.numbers) return Array.from(c.numbers, (v) => (Number.isNaN(v) ? null : v));
  return [...(c.strings ?? [])];
}

/** Reads with the normal chunk size and with tiny ones (records across every kind of boundary); all must agree. */
async function read(path: string, options: ReadColumnsOptions = {}): Promise<ColumnTable> {
  const whole = await readColumns(path, options);
  for (const chunk of [1, 2, 3, 5, 7, 16, 61]) {
    const small = await readColumnsInChunks(path, options, chunk);
    assert.deepEqual(plain(small), plain(whole), `chunks of ${chunk} bytes`);
    assert.equal(small.rows, whole.rows);
  }
  return whole;
}

function rejectsWith(code: string, pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof ModelgateError, `expected a ModelgateError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  };
}

describe('readColumns (CSV)', () => {
  it('reads numbers, negatives, decimals and exponents into Float64Arrays exactly as Number() does', async () => {
    const cells = ['1', '-2', '+3', '0.1', '-0.25', '.5', '5.', '1e3', '1.5E-3', '-2.5e+2', '123456789012345', '1234567890123456789', '1e-30', '0.000000000000000001', '-0', '3.14159265358979'];
    const p = file('.csv', `x\n${cells.join('\n')}\n`);
    const t = await read(p);
    assert.equal(t.rows, cells.length);
    assert.equal(t.format, 'csv');
    const col = t.columns[0]!;
    assert.ok(col.numbers instanceof Float64Array);
    assert.equal(col.strings, null);
    assert.deepEqual(Array.from(col.numbers), cells.map(Number));
    assert.ok(Object.is(col.numbers[14], -0));
    assert.equal(col.missing, 0);
  });

  it('counts the null tokens (empty, NA, NaN, null, padded) as missing', async () => {
    const p = file('.csv', 'a,b,c\n1,NA,x\n,NaN, null \n"",null,"y, z"\n 4 ,5,\n');
    const t = plain(await read(p));
    assert.deepEqual(t, {
      a: { type: 'number', values: [1, null, null, 4], missing: 2 },
      b: { type: 'number', values: [null, null, null, 5], missing: 3 },
      c: { type: 'string', values: ['x', null, 'y, z', null], missing: 2 },
    });
  });

  it('reads quoted fields with commas, line breaks and "" escapes, and counts lines across them', async () => {
    const p = file('.csv', 'id,note,v\n1,"a, b",2\n2,"two\nlines",3\n3,"say ""hi""","4"\n4,"",5\n5,"x\r\ny",6\n6,7,8,9\n');
    await assert.rejects(read(p), rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /line 9: the row has 4 fields but the header has 3/));
    const ok = file('.csv', 'id,note,v\n1,"a, b",2\n2,"two\nlines",3\n3,"say ""hi""","4"\n4,"",5\n5,"x\r\ny",6\n');
    assert.deepEqual(plain(await read(ok)), {
      id: { type: 'number', values: [1, 2, 3, 4, 5], missing: 0 },
      note: { type: 'string', values: ['a, b', 'two\nlines', 'say "hi"', null, 'x\r\ny'], missing: 1 },
      v: { type: 'number', values: [2, 3, 4, 5, 6], missing: 0 },
    });
  });

  it('reads CRLF files, a BOM, blank lines, and a last row with or without a line break', async () => {
    const expected = { a: { type: 'number', values: [1, 3], missing: 0 }, b: { type: 'string', values: ['x', 'y'], missing: 0 } };
    for (const content of ['a,b\r\n1,x\r\n3,y\r\n', 'a,b\r\n1,x\r\n\r\n3,y', '\ufeffa,b\n1,x\n3,y', 'a,b\n\n1,x\n3,y\n\n']) {
      assert.deepEqual(plain(await read(file('.csv', content))), expected, JSON.stringify(content));
    }
  });

  it('turns a column to text when a non-number appears late, keeping the text of the numbers before it', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `${i % 7 === 0 ? '' : `${i}.50`},${i},007`);
    rows.push('n/a,3000,008', '12,3001,x');
    const p = file('.csv', `late,n,code\n${rows.join('\n')}\n`);
    const t = await read(p);
    const late = t.columns[0]!;
    assert.equal(late.numbers, null);
    assert.equal(late.strings![1], '1.50');
    assert.equal(late.strings![0], null);
    assert.equal(late.strings![3000], 'n/a');
    assert.equal(late.strings![3001], '12');
    assert.equal(late.missing, Math.ceil(3000 / 7));
    assert.ok(t.columns[1]!.numbers);
    assert.equal(t.columns[2]!.strings![0], '007');
  });

  it('turns a column that held only missing values so far to text without a second read', async () => {
    const p = file('.csv', 'a,b\n,1\nNA,2\nred,3\n');
    assert.deepEqual(plain(await read(p)).a, { type: 'string', values: [null, null, 'red'], missing: 2 });
  });

  it('keeps a quote inside an unquoted field, as read-table does', async () => {
    const p = file('.csv', `h,w\n5'11",70\n"6"1,80\n`);
    assert.deepEqual(plain(await read(p)).h!.values, [`5'11"`, `"6"1`]);
  });

  it('names an empty header cell "Unnamed: <i>" and refuses a duplicated one', async () => {
    assert.deepEqual(
      (await read(file('.csv', ',a\n0,1\n'))).columns.map((c) => c.name),
      ['Unnamed: 0', 'a'],
    );
    await assert.rejects(readColumns(file('.csv', 'a,a\n1,2\n')), rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /"a" more than once/));
  });

  it('refuses a ragged row, naming the line it starts on', async () => {
    const p = file('.csv', 'a,b,c\n1,2,3\n\n4,"x\ny",6\n7,8\n');
    await assert.rejects(read(p), rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /line 6: the row has 2 fields but the header has 3/));
    await assert.rejects(read(file('.csv', 'a,b\n1,2\n3,4,5')), rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /line 3: the row has 3 fields/));
    await assert.rejects(read(file('.csv', 'a,b\n1,"open\n')), rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /line 2: a quoted field is never closed/));
  });

  it('reads only the columns asked for, in that order, and forces types', async () => {
    const p = file('.csv', 'a,b,c,d\n1,2,x,"q"\n3,04,y,"r"\n');
    const t = await read(p, { columns: ['c', 'b'], types: { b: 'string' } });
    assert.deepEqual(plain(t), {
      c: { type: 'string', values: ['x', 'y'], missing: 0 },
      b: { type: 'string', values: ['2', '04'], missing: 0 },
    });
    await assert.rejects(readColumns(p, { types: { c: 'number' } }), rejectsWith('MG_ERR_REFERENCE_NON_NUMERIC', /line 2: the column "c" must hold numbers but has "x"/));
    await assert.rejects(readColumns(p, { columns: ['a', 'zz'] }), rejectsWith('MG_ERR_REFERENCE_MISSING_COLUMN', /no column "zz"/));
    await assert.rejects(readColumns(p, { columns: ['a'], types: { b: 'number' } }), rejectsWith('MG_ERR_REFERENCE_MISSING_COLUMN', /"b"/));
  });

  it('treats Infinity, hex and the like as text, as the profiles do', async () => {
    const t = plain(await read(file('.csv', 'a,b,c\n1,1,1\nInfinity,0x1F,1e400\n')));
    assert.equal(t.a!.type, 'string');
    assert.equal(t.b!.type, 'string');
    assert.equal(t.c!.type, 'string');
    assert.deepEqual(t.c!.values, ['1', '1e400']);
  });

  it('reports a missing file, an unknown extension, an empty file and a header with no rows by code', async () => {
    await assert.rejects(readColumns(join(dir, 'absent.csv')), rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /absent\.csv/));
    await assert.rejects(readColumns(dir + '/'), rejectsWith('MG_ERR_REFERENCE_UNSUPPORTED_FORMAT', /extension/));
    await assert.rejects(readColumns(file('.parquet', 'x')), rejectsWith('MG_ERR_REFERENCE_UNSUPPORTED_FORMAT', /\.parquet/));
    await assert.rejects(readColumns(file('.csv', '')), rejectsWith('MG_ERR_REFERENCE_EMPTY', /no header row/));
    await assert.rejects(readColumns(file('.csv', 'a,b\n\n')), rejectsWith('MG_ERR_REFERENCE_EMPTY', /no rows/));
    await assert.rejects(readColumns(file('.csv', 'a\n1\n2\n'), { maxBytes: 4 }), rejectsWith('MG_ERR_REFERENCE_TOO_LARGE', /4 bytes/));
  });

  it('gives the same values as read-table (csv-parse) on a generated file of mixed content', async () => {
    const rand = mulberry32(7);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const header = ['int', 'dec', 'exp', 'sparse', 'cat', 'quoted', 'late', 'padded'];
    const lines = [header.join(',')];
    const rows = 20_000;
    for (let r = 0; r < rows; r++) {
      const cells = [
        String(Math.floor(rand() * 2000) - 1000),
        ((rand() - 0.5) * 1e4).toFixed(Math.floor(rand() * 8)),
        `${(rand() * 10).toFixed(3)}e${Math.floor(rand() * 40) - 20}`,
        rand() < 0.3 ? pick(['', 'NA', 'NaN', 'null', ' NA ']) : String(rand()),
        pick(['red', 'green', 'blue', 'ünïcødé', '']),
        pick(['"a, b"', '"line\nbreak"', '"say ""x"""', '"1.5"', 'plain', '"crlf\r\ninside"']),
        r === rows - 10 ? 'oops' : (rand() * 100).toFixed(2),
        pick([' 1 ', '2', ' 3', '4 ', '0.5e1']),
      ];
      lines.push(cells.join(','));
    }
    // CRLF throughout: csv-parse takes the first line break it meets as the only one.
    const p = file('.csv', lines.join('\r\n') + '\r\n');
    const t = await readColumns(p);
    const expected = new Map<string, (string | null)[]>(header.map((h) => [h, []]));
    for await (const rec of readTable(p)) for (const h of header) expected.get(h)!.push(rec[h] as string | null);
    assert.equal(t.rows, rows);
    for (const c of t.columns) {
      const want = expected.get(c.name)!;
      const isNumeric = want.every((v) => v === null || cellNumber(v) !== undefined);
      assert.equal(c.numbers !== null, isNumeric, `${c.name} numeric`);
      if (c.numbers) assert.deepEqual(Array.from(c.numbers, (v) => (Number.isNaN(v) ? null : v)), want.map((v) => (v === null ? null : cellNumber(v)!)), c.name);
      else assert.deepEqual(c.strings, want, c.name);
      assert.equal(c.missing, want.filter((v) => v === null).length, `${c.name} missing`);
    }
    assert.deepEqual(t.columns.filter((c) => c.numbers).map((c) => c.name), ['int', 'dec', 'exp', 'sparse', 'padded']);
    // And across chunk boundaries.
    assert.deepEqual(plain(await readColumnsInChunks(p, {}, 4093)), plain(t));
  });
});

describe('readColumns (JSONL)', () => {
  it('reads numbers, strings, booleans and missing keys, with keys first seen late', async () => {
    const p = file('.jsonl', ['{"a":1,"b":"x","c":true}', '', '{"a":null,"c":false}', '{"a":2.5,"b":"y","d":7}\r'].join('\n'));
    const t = await read(p);
    assert.equal(t.format, 'jsonl');
    assert.deepEqual(plain(t), {
      a: { type: 'number', values: [1, null, 2.5], missing: 1 },
      b: { type: 'string', values: ['x', null, 'y'], missing: 1 },
      c: { type: 'string', values: ['true', 'false', null], missing: 1 },
      d: { type: 'number', values: [null, null, 7], missing: 2 },
    });
  });

  it('turns a numeric key to text when a string appears, and keeps nested values as JSON', async () => {
    const p = file('.ndjson', '{"a":1.5,"n":{"x":1}}\n{"a":"high","n":[1,2]}\n');
    assert.deepEqual(plain(await read(p)), {
      a: { type: 'string', values: ['1.5', 'high'], missing: 0 },
      n: { type: 'string', values: ['{"x":1}', '[1,2]'], missing: 0 },
    });
  });

  it('selects and forces columns, and refuses bad lines by line number', async () => {
    const p = file('.jsonl', '{"a":1,"b":2}\n{"a":3,"b":4}\n');
    assert.deepEqual(plain(await read(p, { columns: ['b'], types: { b: 'string' } })), { b: { type: 'string', values: ['2', '4'], missing: 0 } });
    await assert.rejects(readColumns(p, { columns: ['c'] }), rejectsWith('MG_ERR_REFERENCE_MISSING_COLUMN', /"c"/));
    await assert.rejects(readColumns(file('.jsonl', '{"a":1}\n{"a":"x"}\n'), { types: { a: 'number' } }), rejectsWith('MG_ERR_REFERENCE_NON_NUMERIC', /line 2/));
    await assert.rejects(readColumns(file('.jsonl', '{"a":1}\n{oops\n')), rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /line 2 is not valid JSON/));
    await assert.rejects(readColumns(file('.jsonl', '{"a":1}\n[1]\n')), rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /line 2 is an array/));
    await assert.rejects(readColumns(file('.jsonl', '\n\n')), rejectsWith('MG_ERR_REFERENCE_EMPTY', /no rows/));
  });

  it('grows its columns past the first allocation', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify(i % 3 === 0 ? { v: i } : { v: i, w: -i }));
    const t = await readColumns(file('.jsonl', lines.join('\n')));
    assert.equal(t.rows, 5000);
    assert.equal(t.columns[0]!.numbers![4999], 4999);
    assert.equal(t.columns[1]!.missing, Math.ceil(5000 / 3));
  });
});
