// Writes docs/configuration.md from the config schema (run after `npm run build`):
//   node scripts/config-reference.mjs
// test/docs/references.test.ts fails when the committed file differs, so the reference stays true.
import { writeFileSync } from 'node:fs';
import { configurationDoc } from '../dist/src/config/index.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationDoc());
