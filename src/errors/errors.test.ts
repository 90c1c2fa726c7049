import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packagePath } from '../paths.js';
import { ERROR_CODES } from './codes.js';
import { renderErrorsDoc } from './errors-doc.js';
import { ModelgateError } from './modelgate-error.js';

describe('error codes', () => {
  it('docs/errors.md is the rendering of the code table (run `npm run docs:errors` after changing codes.ts)', () => {
    assert.equal(readFileSync(packagePath('docs', 'errors.md'), 'utf8'), renderErrorsDoc());
  });

  it('every code is MG_ERR_<AREA>_<WHAT> with a 4xx/5xx status and a message that says what to do', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^MG_ERR_[A-Z]+_[A-Z0-9_]+$/, code);
      assert.ok(spec.status >= 400 && spec.status < 600, `${code} status`);
      assert.ok(spec.message.length > 20 && /[.]$/.test(spec.message), `${code} message is a sentence`);
    }
  });

  it('every code in the table is raised somewhere in src/, and src/ raises no code outside the table', () => {
    const used = new Set<string>();
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !p.endsWith(join('errors', 'codes.ts'))) {
          for (const m of readFileSync(p, 'utf8').matchAll(/MG_ERR_[A-Z]+_[A-Z0-9_]*[A-Z0-9]/g)) used.add(m[0]);
        }
      }
    };
    walk(packagePath('src'));
    const table = new Set(Object.keys(ERROR_CODES));
    assert.deepEqual([...used].filter((c) => !table.has(c)), [], 'codes used but not in the table');
    assert.deepEqual([...table].filter((c) => !used.has(c)), [], 'codes in the table that nothing raises');
  });

  it('serialises to the one wire shape with a unique id', () => {
    const a = new ModelgateError('MG_ERR_MODEL_NOT_FOUND', 'No model named "x".', { model: 'x' });
    const b = new ModelgateError('MG_ERR_MODEL_NOT_FOUND');
    assert.equal(a.status, 404);
    assert.deepEqual(Object.keys(a.toJSON().error), ['code', 'message', 'id', 'details']);
    assert.notEqual(a.id, b.id);
    assert.equal(b.message, ERROR_CODES.MG_ERR_MODEL_NOT_FOUND.message);
  });
});
