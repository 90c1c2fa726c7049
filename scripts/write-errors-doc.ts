// Writes docs/errors.md from the error table (npm run docs:errors). The errors test fails when they drift.
import { writeFileSync } from 'node:fs';
import { renderErrorsDoc } from '../src/errors/errors-doc.js';

const target = new URL('../../docs/errors.md', import.meta.url);
writeFileSync(target, renderErrorsDoc());
console.log(`wrote ${target.pathname}`);
