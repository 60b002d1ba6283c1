// Writes docs/errors.md from the error catalog in src/core/errors.ts (run after `npm run build`):
//   node scripts/error-reference.mjs
// test/docs/references.test.ts fails when the committed file differs, so the list stays true.
import { writeFileSync } from 'node:fs';
import { errorsDoc } from '../dist/src/core/errors-doc.js';

writeFileSync(new URL('../docs/errors.md', import.meta.url), errorsDoc());
